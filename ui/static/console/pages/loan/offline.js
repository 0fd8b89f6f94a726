// Record an offline payment (maker): the amount, value date, mode and reference, with its proof (PDF, JPEG or PNG).
// It stays PENDING until another staff member approves it in the payment approval queue (maker-checker).
import { html, useState } from "/ui/vendor/preact-htm.js";
import { rupeeString, rupees, shortId, todayIst } from "../../lib/format.js";
import { brandUrl, explainAction, Notice, staff } from "../../lib/ui.js";
import { Field, Select, useId } from "../../lib/forms.js";

export const MODES = [
  ["UPI", "UPI (12-digit UTR/RRN)"],
  ["IMPS", "IMPS (12-digit RRN)"],
  ["NEFT", "NEFT (16-character UTR)"],
  ["RTGS", "RTGS (22-character UTR)"],
  ["CHEQUE", "Cheque (6-digit number)"],
  ["CASH", "Cash (receipt book number)"],
];

// What the payment pays (api/web/payments.py OfflinePurpose): the exit is offered only within the cooling-off period.
export const PURPOSES = [
  ["PREPAYMENT", "Repayment (dues first; the foreclosure quote or more closes the loan)"],
  ["COOLING_OFF", "Cooling-off exit (principal + proportionate APR cost, no penalty: cancels the loan)"],
];

export function OfflinePaymentForm({ loan, brandId, onDone }) {
  const [amount, setAmount] = useState("");
  const [paidOn, setPaidOn] = useState(todayIst());
  const [mode, setMode] = useState("UPI");
  const [reference, setReference] = useState("");
  const [remarks, setRemarks] = useState("");
  const [file, setFile] = useState(null);
  const [allowExcess, setAllowExcess] = useState(false);
  const [purpose, setPurpose] = useState("PREPAYMENT");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const [done, setDone] = useState(null);
  const fileId = useId("proof");
  const submit = async (event) => {
    event.preventDefault();
    setError(null);
    setDone(null);
    let rupeesText;
    try {
      rupeesText = rupeeString(amount);
    } catch (e) {
      setError(e.message);
      return;
    }
    setBusy(true);
    try {
      const body = { amount: rupeesText, paidOn, mode, reference: reference.trim() };
      if (remarks.trim()) body.remarks = remarks.trim();
      if (purpose !== "PREPAYMENT") body.purpose = purpose;
      if (allowExcess) body.allowExcess = true; // more than closes the loan: the rest becomes its credit balance
      const row = await staff("POST", brandUrl(brandId, `loans/${loan.id}/payments/offline`), body);
      let proof = "";
      if (file) {
        const form = new FormData();
        form.append("file", file, file.name);
        try {
          await staff("POST", brandUrl(brandId, `payment/proof/${row.id}`), form);
          proof = " with its proof";
        } catch (e) {
          proof = `, but the proof was not attached (${explainAction(e)}): attach it before it can be approved`;
        }
      } else {
        proof = ", without a proof: attach one before it can be approved";
      }
      setDone(
        `Payment ${shortId(row.id)} of ${rupees(row.amountPaise)} recorded${proof}. It is PENDING until another staff member approves it.`
      );
      setAmount("");
      setReference("");
      setRemarks("");
      setFile(null);
      setAllowExcess(false);
      setPurpose("PREPAYMENT");
      if (onDone) onDone();
    } catch (e) {
      setError(explainAction(e));
    } finally {
      setBusy(false);
    }
  };
  return html`<form class="action-form card" onSubmit=${submit} aria-label="Record an offline payment">
    <h3>Record an offline payment</h3>
    <p class="muted">Money paid outside the gateways. Another staff member approves it (maker-checker).</p>
    <div class="row">
      <${Field} label="Amount (₹)" value=${amount} onInput=${setAmount} required inputmode="decimal" placeholder="12500.50" />
      <${Field} label="Paid on (IST)" type="date" value=${paidOn} onInput=${setPaidOn} required max=${todayIst()} />
    </div>
    <div class="row">
      <${Select} label="Mode" value=${mode} onChange=${setMode} options=${MODES} required />
      <${Field} label="Reference" value=${reference} onInput=${setReference} required maxlength="40" />
    </div>
    <${Select} label="Purpose" value=${purpose} onChange=${setPurpose} options=${PURPOSES} required />
    <${Field} label="Remarks" optional type="textarea" value=${remarks} onInput=${setRemarks} maxlength="1000" />
    <div class="field">
      <label for=${fileId}>Proof (PDF, JPEG or PNG, up to 10 MB)</label>
      <input id=${fileId} type="file" accept="application/pdf,image/jpeg,image/png"
        onChange=${(e) => setFile(e.target.files && e.target.files[0] ? e.target.files[0] : null)} />
    </div>
    <label class="inline">
      <input type="checkbox" checked=${allowExcess} onChange=${(e) => setAllowExcess(e.target.checked)} />
      More than today's foreclosure quote was received (for a cooling-off exit, more than what it costs; the rest becomes a
      credit balance to refund)
    </label>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    <${Notice}>${done}<//>
    <p><button type="submit" disabled=${busy}>${busy ? "Recording…" : "Record payment"}</button></p>
  </form>`;
}
