// Autopay: the loan's mandate (GET /loans/{id}/mandate, 404 when none), set up once the agreement is signed
// (POST .../mandate {method: UPI | EMANDATE}: the gateway's page to authorise it) and cancelled
// (POST .../mandate/cancel). Amounts are paise.
import { html, useEffect, useState } from "/ui/vendor/preact-htm.js";
import { when } from "/ui/shared/api.js";
import { Alert, Notice, VendorLink, call, rupees, useAction, usePoll } from "../lib.js";

const LIVE = ["CREATED", "ACTIVE", "PAUSED"];
const SIGNED = ["AGREEMENT_SIGNED", "DISBURSAL_PENDING", "DISBURSED", "OVERDUE"];
const WORDS = {
  CREATED: "waiting for your authorisation",
  ACTIVE: "active: installments are debited on their due dates",
  PAUSED: "paused",
  CANCELLED: "cancelled",
  REJECTED: "refused",
  EXPIRED: "expired",
};

export default function Mandate({ loan }) {
  if (!SIGNED.includes(loan.status)) return null;
  return html`<${Autopay} loan=${loan} />`;
}

function Autopay({ loan }) {
  const [method, setMethod] = useState("UPI");
  const [notice, setNotice] = useState(null);
  const [watch, setWatch] = useState(null);
  const [busy, error, run] = useAction();
  // read once; again every few seconds only while a mandate waits for the gateway's word (CREATED)
  const { data: mandate, reload } = usePoll(
    async () => {
      try {
        return await call("GET", `/api/v1/web/loans/${loan.id}/mandate`);
      } catch (e) {
        if (e.status === 404) return { none: true };
        throw e;
      }
    },
    [loan.id],
    watch
  );
  const waiting = Boolean(mandate && mandate.status === "CREATED");
  useEffect(() => setWatch(waiting ? 4000 : null), [waiting]);
  const live = mandate && !mandate.none && LIVE.includes(mandate.status);
  const register = (event) => {
    event.preventDefault();
    run(async () => {
      await call("POST", `/api/v1/web/loans/${loan.id}/mandate`, { method });
      setNotice("Autopay created: authorise it at your bank or UPI app.");
      await reload();
    });
  };
  const cancel = () =>
    run(async () => {
      await call("POST", `/api/v1/web/loans/${loan.id}/mandate/cancel`, {});
      setNotice("Autopay cancelled. Pay each installment by its link.");
      await reload();
    });
  return html`<section class="card" id="autopay" aria-labelledby="autopay-title">
    <h2 id="autopay-title">Autopay</h2>
    <${Notice}>${notice}<//>
    ${mandate && !mandate.none &&
    html`<p>Autopay (${mandate.method === "UPI" ? "UPI Autopay" : "e-mandate"}): <strong>${WORDS[mandate.status] || mandate.status}</strong>.
      Up to ${rupees(mandate.maxAmount)} a debit.
      ${mandate.failureReason && html`<br /><span class="muted">${mandate.failureReason}</span>`}</p>`}
    ${mandate && mandate.registrationUrl && html`<${VendorLink} href=${mandate.registrationUrl}>Authorise autopay<//>`}
    ${mandate && !mandate.none && mandate.debits.length > 0 &&
    html`<ul class="list" aria-label="Autopay debits">
      ${mandate.debits.map(
        (d) => html`<li>Installment ${d.installmentNo}: ${rupees(d.amount)} · ${d.status}
          ${d.chargeAt && html`<br /><small class="muted">${when(d.chargeAt)}</small>`}
          ${d.failureReason && html`<br /><small class="muted">${d.failureReason}</small>`}</li>`
      )}</ul>`}
    ${live
      ? html`<p><button type="button" class="secondary wide" onClick=${cancel} disabled=${busy}>Cancel autopay</button></p>`
      : mandate &&
        html`<form onSubmit=${register}>
          <p>Let your installments be debited on their due dates: no missed payment, no penal charge.</p>
          <div class="field">
            <label for="mandateMethod">Pay by</label>
            <select id="mandateMethod" value=${method} onChange=${(e) => setMethod(e.target.value)}>
              <option value="UPI">UPI Autopay</option>
              <option value="EMANDATE">e-mandate on your bank account</option>
            </select>
          </div>
          <p><button type="submit" class="wide" disabled=${busy}>Set up autopay</button></p>
        </form>`}
    <${Alert} error=${error} />
  </section>`;
}
