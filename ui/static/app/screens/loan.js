// The loan: its status in words and what happens next, kept current while the borrower or the lender is awaited. While
// APPLIED the KYC steps (./kyc.js); sanctioned, the way to the KFS and the signature; once disbursed the schedule
// (paise) and the payments credited, with the way to pay and to the documents.
import { html } from "/ui/vendor/preact-htm.js";
import { when } from "/ui/shared/api.js";
import { Alert, CLOSED, REPAYING, STATUS_WORDS, WATCHED, dueDay, rupees, useLoanId, useLoanWatch } from "../lib.js";
import Kyc from "./kyc.js";

export function Schedule({ rows }) {
  if (!rows.length) return html`<p class="muted">The schedule starts once the money is sent.</p>`;
  return html`<div class="table-wrap" tabindex="0" aria-label="Repayment schedule, scrolls sideways">
    <table class="schedule">
      <caption><h2>Repayment schedule</h2></caption>
      <thead><tr><th scope="col">#</th><th scope="col">Due by</th><th scope="col">Installment</th>
        <th scope="col">Still due</th><th scope="col">Status</th></tr></thead>
      <tbody>
        ${rows.map(
          (r) => html`<tr class=${`row-${r.status.toLowerCase()}`}>
            <td>${r.installmentNo}</td>
            <td>${dueDay(r.dueAt)}</td>
            <td>${rupees(r.totalPaise)}${r.penalPaise > 0 && html`<br /><small>+ ${rupees(r.penalPaise)} penal</small>`}</td>
            <td>${rupees(r.duePaise)}</td>
            <td><span class=${`badge badge-${r.status.toLowerCase()}`}>${r.status === "PAID" ? "Paid" : r.status === "OVERDUE" ? "Overdue" : "Upcoming"}</span></td>
          </tr>`
        )}
      </tbody>
    </table>
  </div>`;
}

export function Payments({ payments }) {
  if (!payments.length) return html`<p class="muted">No payment yet.</p>`;
  return html`<ul class="list payments" aria-label="Payments received">
    ${payments.map(
      (p) => html`<li><strong>${rupees(p.amountPaise)}</strong> · ${when(p.collectedAt)}
        <br /><small class="muted">${p.gateway} ${p.paymentId}</small></li>`
    )}
  </ul>`;
}

function Next({ loan }) {
  const at = `#/loan/${loan.id}`;
  switch (loan.status) {
    case "UNDER_REVIEW":
      return html`<p>Our credit team is reviewing your application. We will let you know by SMS; this page updates
        by itself.</p>`;
    case "SANCTIONED":
      return html`<p>Your loan is sanctioned. Read the Key Fact Statement and accept it to receive the agreement.</p>
        <p><a class="button wide" href=${`${at}/kfs`}>Read the Key Fact Statement</a></p>`;
    case "AGREEMENT_PENDING":
      return html`<p>Your loan agreement is ready to sign.</p>
        <p><a class="button wide" href=${`${at}/sign`}>Sign the agreement</a></p>`;
    case "AGREEMENT_SIGNED":
    case "DISBURSAL_PENDING":
      return html`<p>Signed. The money is sent to your bank account after a final check.</p>
        <p><a class="button secondary wide" href=${`${at}/pay`}>Set up autopay for your installments</a></p>`;
    case "NEEDS_ATTENTION":
      return html`<p>Our team needs to look at your loan${loan.statusReason ? `: ${loan.statusReason}` : ""}. We will
        contact you if we need anything.</p>`;
    case "REJECTED":
      return html`<p>We could not approve this application${loan.statusReason ? ` (${loan.statusReason})` : ""}.</p>`;
    default:
      return null;
  }
}

export default function Loan({ params }) {
  const { loanId, error: findError, none } = useLoanId(params);
  const { data: loan, error, reload } = useLoanWatch(loanId, WATCHED, { kyc: true });
  if (findError || error) return html`<${Alert} error=${findError || error} />`;
  if (none) return html`<p>You have no loan yet. <a href="#/apply">Apply for one</a>.</p>`;
  if (!loan) return html`<p class="muted">Loading…</p>`;
  const at = `#/loan/${loan.id}`;
  const repaying = REPAYING.includes(loan.status);
  return html`<section>
    <h1>Your loan</h1>
    <article class="card">
      <p class="amount">${rupees(loan.amountPaise)} <span class="muted">over ${loan.tenure} installments</span></p>
      <p><span class=${`status status-${loan.status.toLowerCase()}`} id="loan-status">${STATUS_WORDS[loan.status] || loan.status}</span></p>
      ${repaying &&
      html`<dl class="facts">
        <dt>Principal outstanding</dt><dd>${rupees(loan.outstandingPrincipalPaise)}</dd>
        <dt>Paid so far</dt><dd>${rupees(loan.totalCollectedPaise)}</dd>
        <dt>Next installment due</dt><dd>${dueDay(loan.nextDueAt)}</dd>
        ${loan.creditBalancePaise > 0 && html`<dt>Held for you</dt><dd>${rupees(loan.creditBalancePaise)}</dd>`}
      </dl>`}
      <${Next} loan=${loan} />
      ${loan.status === "APPLIED" && html`<${Kyc} loan=${loan} reload=${reload} />`}
      ${(repaying || CLOSED.includes(loan.status)) &&
      html`<p class="split">
        ${repaying && html`<a class="button" href=${`${at}/pay`}>Pay</a>`}
        <a class="button secondary" href=${`${at}/documents`}>Documents</a></p>`}
    </article>
    ${(repaying || loan.schedule.length > 0) &&
    html`<${Schedule} rows=${loan.schedule} />
      <h2>Payments</h2><${Payments} payments=${loan.payments} />`}
  </section>`;
}
