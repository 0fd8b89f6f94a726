// Documents: each payment's receipt (GET /loans/{id}/receipts/{paymentId}, once issued), the Key Fact Statement
// (GET .../kfs?format=pdf, once sanctioned), the agreement (GET .../agreement, once sent for signature) and the
// closure certificate, the NOC (GET .../noc, once the loan is closed). Each is downloaded with the borrower's
// token (shared/api.js `download`); a refusal is shown in words.
import { html, useState } from "/ui/vendor/preact-htm.js";
import { download, when } from "/ui/shared/api.js";
import { Alert, CLOSED, Notice, call, rupees, useLoanId, usePoll } from "../lib.js";

const SANCTIONED_ONWARDS = [
  "SANCTIONED",
  "AGREEMENT_PENDING",
  "AGREEMENT_SIGNED",
  "DISBURSAL_PENDING",
  "DISBURSED",
  "OVERDUE",
  "COMPLETED",
  "SETTLED",
  "WRITTEN_OFF",
];
const CERTIFIED = ["COMPLETED", "SETTLED", "CANCELLED"];

function useDownload() {
  const [error, setError] = useState(null);
  const [done, setDone] = useState(null);
  const [busy, setBusy] = useState(null);
  const get = async (key, path, filename) => {
    setBusy(key);
    setError(null);
    setDone(null);
    try {
      await download("customer", path, filename);
      setDone(`${filename} downloaded.`);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(null);
    }
  };
  return { error, done, busy, get };
}

export default function Documents({ params }) {
  const { loanId, error: findError, none } = useLoanId(params);
  const files = useDownload();
  const { data, error } = usePoll(
    async () => {
      if (!loanId) return null;
      const [loan, paid] = await Promise.all([
        call("GET", `/api/v1/web/loans/${loanId}`),
        call("GET", `/api/v1/web/loans/${loanId}/payments`),
      ]);
      return { loan, paid };
    },
    [loanId],
    4000
  );
  if (findError || error) return html`<${Alert} error=${findError || error} />`;
  if (none) return html`<p>You have no loan yet, so no document either.</p>`;
  if (!data) return html`<p class="muted">Loading…</p>`;
  const { loan, paid } = data;
  const base = `/api/v1/web/loans/${loan.id}`;
  const short = loan.id.slice(0, 8);
  const button = (key, label, path, filename) =>
    html`<button type="button" class="secondary" onClick=${() => files.get(key, path, filename)} disabled=${files.busy === key}
      >${files.busy === key ? "Downloading…" : label}</button>`;
  return html`<section>
    <h1>Documents</h1>
    <p class="muted">Loan of ${rupees(loan.amountPaise)} applied on ${when(loan.createdAt)}.</p>
    <${Alert} error=${files.error} />
    <${Notice}>${files.done}<//>
    <h2>Loan documents</h2>
    <ul class="list" aria-label="Loan documents">
      ${SANCTIONED_ONWARDS.includes(loan.status) &&
      html`<li>Key Fact Statement<br />${button("kfs", "Download the KFS (PDF)", `${base}/kfs?format=pdf`, `kfs-${short}.pdf`)}</li>`}
      ${loan.agreement &&
      html`<li>Loan agreement ${loan.agreement.status === "SIGNED" ? "(signed)" : ""}<br />
        ${button("agreement", "Download the agreement (PDF)", `${base}/agreement`, `agreement-${short}.pdf`)}</li>`}
      ${CERTIFIED.includes(loan.status) &&
      html`<li>No-objection certificate (NOC)<br />${button("noc", "Download the NOC (PDF)", `${base}/noc`, `noc-${short}.pdf`)}</li>`}
      ${!SANCTIONED_ONWARDS.includes(loan.status) && !CLOSED.includes(loan.status) &&
      html`<li class="muted">Your documents appear here once the loan is sanctioned.</li>`}
    </ul>
    <h2>Receipts</h2>
    ${paid.payments.length === 0 && html`<p class="muted">No payment yet.</p>`}
    <ul class="list" aria-label="Receipts">
      ${[...paid.payments].reverse().map(
        (p) => html`<li><strong>${rupees(p.amountPaise)}</strong> · ${when(p.collectedAt)}<br />
          ${p.receiptReady
            ? button(`receipt-${p.id}`, `Download receipt ${p.receiptNo}`, `${base}/receipts/${p.id}`, `receipt-${p.receiptNo.replace(/\//g, "-")}.pdf`)
            : html`<small class="muted">Receipt being prepared…</small>`}</li>`
      )}
    </ul>
  </section>`;
}
