// Pay: the installment due (the loan's own payment link), a part-payment of any amount from the brand's minimum
// (POST /loans/{id}/pay, rupees), the foreclosure quote (GET .../foreclosure-quote, paise) and its payment, the
// cooling-off exit while it is open, and autopay (./mandate.js). Each payment is made on the gateway's page in a
// new tab; the payments received below refresh by themselves (GET .../payments).
import { html, useState } from "/ui/vendor/preact-htm.js";
import { when } from "/ui/shared/api.js";
import { Alert, CLOSED, Field, REPAYING, VendorLink, WATCHED, call, dueDay, rupeeField, rupees, useAction, useLoanId, useLoanWatch, usePoll } from "../lib.js";
import Mandate from "./mandate.js";

function LinkMade({ link }) {
  if (!link) return null;
  const words = { PREPAYMENT: "part-payment", FORECLOSURE: "closing payment", COOLING_OFF: "cooling-off exit" };
  return html`<div class="link-made" role="status">
    <p>Your ${words[link.purpose] || "payment"} link for <strong>${rupees(link.amount)}</strong> is ready.</p>
    <${VendorLink} href=${link.url}>Pay ${rupees(link.amount)} now<//>
  </div>`;
}

function Due({ loan }) {
  const due = loan.schedule.filter((r) => r.status !== "PAID" && r.duePaise > 0);
  const next = due[0];
  const link = loan.paymentLink;
  return html`<section class="card" aria-labelledby="due-title">
    <h2 id="due-title">Installment</h2>
    ${!next && html`<p>Nothing is due.</p>`}
    ${next &&
    html`<p>Installment ${next.installmentNo}: <strong>${rupees(next.duePaise)}</strong> by ${dueDay(next.dueAt)}
      ${next.status === "OVERDUE" && html` <span class="badge badge-overdue">overdue</span>`}</p>`}
    ${link
      ? html`<${VendorLink} href=${link.url}>Pay installment ${link.installmentNo}: ${rupees(link.amountPaise)}<//>`
      : next && html`<p class="muted">Its payment link comes by SMS a few days before the due date.</p>`}
  </section>`;
}

function PartPayment({ loan, least }) {
  const [amount, setAmount] = useState("");
  const [link, setLink] = useState(null);
  const [busy, error, run] = useAction();
  const make = (event) => {
    event.preventDefault();
    setLink(null);
    run(async () => setLink(await call("POST", `/api/v1/web/loans/${loan.id}/pay`, { amount: amount.trim() })));
  };
  return html`<section class="card" aria-labelledby="part-title">
    <h2 id="part-title">Part-payment</h2>
    <p class="muted">Pay ahead any amount from the lender's minimum: it reduces your principal and the interest you pay.</p>
    <form onSubmit=${make}>
      <${Field} id="partAmount" label="Part-payment amount (₹)" required inputmode="decimal" autocomplete="off"
        pattern="[0-9]+(\\.[0-9]{1,2})?" value=${amount} onValue=${setAmount}
        hint=${least ? `At least ${rupees(least)}` : undefined} />
      <${Alert} error=${error} />
      <p><button type="submit" class="wide" disabled=${busy || !Number(amount)}>Create payment link</button></p>
    </form>
    <${LinkMade} link=${link} />
  </section>`;
}

function Foreclosure({ loan }) {
  const [link, setLink] = useState(null);
  const [busy, error, run] = useAction();
  const { data: quote, error: quoteError } = usePoll(
    () => call("GET", `/api/v1/web/loans/${loan.id}/foreclosure-quote`),
    [loan.id, loan.outstandingPrincipalPaise]
  );
  const pay = () => {
    setLink(null);
    run(async () => setLink(await call("POST", `/api/v1/web/loans/${loan.id}/pay`, { amount: rupeeField(quote.total) })));
  };
  return html`<section class="card" aria-labelledby="close-title">
    <h2 id="close-title">Close the loan</h2>
    <${Alert} error=${quoteError} />
    ${!quote && !quoteError && html`<p class="muted">Working out the quote…</p>`}
    ${quote &&
    html`<dl class="facts" aria-label="Foreclosure quote">
        <dt>Principal</dt><dd>${rupees(quote.principal)}</dd>
        <dt>Interest to ${quote.on}</dt><dd>${rupees(quote.interest)}</dd>
        ${quote.fees > 0 && html`<dt>Fees due</dt><dd>${rupees(quote.fees)}</dd>`}
        ${quote.penal > 0 && html`<dt>Penal charges</dt><dd>${rupees(quote.penal)}</dd>`}
        <dt>Foreclosure charge</dt><dd>${rupees(quote.charge)}</dd>
        ${quote.chargeGst > 0 && html`<dt>GST on it</dt><dd>${rupees(quote.chargeGst)}</dd>`}
        ${quote.interestCredit > 0 && html`<dt>Interest you paid ahead, credited</dt><dd>−${rupees(quote.interestCredit)}</dd>`}
        <dt>To close today</dt><dd id="foreclosure-total">${rupees(quote.total)}</dd>
      </dl>
      ${quote.creditBalance > 0 && html`<p class="muted">${rupees(quote.creditBalance)} we hold for you is refunded separately.</p>`}
      <p><button type="button" class="secondary wide" onClick=${pay} disabled=${busy}>Close the loan: pay ${rupees(quote.total)}</button></p>`}
    <${Alert} error=${error} />
    <${LinkMade} link=${link} />
  </section>`;
}

function CoolingOff({ loan }) {
  const [link, setLink] = useState(null);
  const [busy, error, run] = useAction();
  const { data: exit } = usePoll(() => call("GET", `/api/v1/web/loans/${loan.id}/cooling-off-exit`), [loan.id]);
  if (!exit || !exit.available) return null;
  const pay = () => run(async () => setLink(await call("POST", `/api/v1/web/loans/${loan.id}/cooling-off-exit`, {})));
  return html`<section class="card" aria-labelledby="cooling-title">
    <h2 id="cooling-title">Changed your mind?</h2>
    <p>Until ${exit.lastDay} you may return the loan with no penalty: the principal and ${rupees(exit.aprCost)} of
      cost for ${exit.daysHeld} day(s), <strong>${rupees(exit.amount)}</strong> in all.</p>
    <p><button type="button" class="secondary wide" onClick=${pay} disabled=${busy}>Exit the loan</button></p>
    <${Alert} error=${error} />
    <${LinkMade} link=${link} />
  </section>`;
}

export function Received({ loanId, every = 4000 }) {
  const { data, error } = usePoll(() => call("GET", `/api/v1/web/loans/${loanId}/payments`), [loanId], every);
  if (error) return html`<${Alert} error=${error} />`;
  if (!data) return html`<p class="muted">Loading payments…</p>`;
  return html`<section aria-labelledby="received-title">
    <h2 id="received-title">Payments received</h2>
    ${data.payments.length === 0 && html`<p class="muted">No payment yet.</p>`}
    <ul class="list" aria-label="Payments received">
      ${[...data.payments].reverse().map(
        (p) => html`<li><strong>${rupees(p.amountPaise)}</strong> · ${when(p.collectedAt)}
          <br /><small class="muted">${p.mode || p.gateway}${p.allocation.advancePaise > 0 ? ` · ${rupees(p.allocation.advancePaise)} paid ahead` : ""}
          ${p.receiptNo ? ` · receipt ${p.receiptNo}` : ""}</small></li>`
      )}
    </ul>
    ${data.failedAttempts.length > 0 &&
    html`<details><summary>Failed attempts (${data.failedAttempts.length})</summary>
      <ul>${data.failedAttempts.map((a) => html`<li>${rupees(a.amountPaise)} · ${when(a.at)} · ${a.failureReason || a.status}</li>`)}</ul>
    </details>`}
    ${data.payments.length > 0 && html`<p><a class="button secondary wide" href=${`#/loan/${loanId}/documents`}>Receipts</a></p>`}
  </section>`;
}

export default function Pay({ params, brand }) {
  const { loanId, error: findError, none } = useLoanId(params);
  const { data: loan, error } = useLoanWatch(loanId, WATCHED);
  if (findError || error) return html`<${Alert} error=${findError || error} />`;
  if (none) return html`<p>You have no loan yet. <a href="#/apply">Apply for one</a>.</p>`;
  if (!loan) return html`<p class="muted">Loading…</p>`;
  const repaying = REPAYING.includes(loan.status);
  return html`<section>
    <h1>Pay</h1>
    ${CLOSED.includes(loan.status) &&
    html`<p class="notice" role="status">This loan is closed: nothing more to pay. Its receipts and certificate are in
      <a href=${`#/loan/${loan.id}/documents`}>Documents</a>.</p>`}
    ${!repaying && !CLOSED.includes(loan.status) &&
    html`<p>Payments open once the loan is disbursed. <a href=${`#/loan/${loan.id}`}>Back to the loan</a></p>`}
    ${repaying &&
    html`<p class="muted">Principal outstanding: <strong>${rupees(loan.outstandingPrincipalPaise)}</strong></p>
      <${Due} loan=${loan} />
      <${PartPayment} loan=${loan} least=${brand && brand.minPrepaymentPaise} />
      <${Foreclosure} loan=${loan} />
      <${CoolingOff} loan=${loan} />`}
    <${Mandate} loan=${loan} />
    <${Received} loanId=${loan.id} />
  </section>`;
}
