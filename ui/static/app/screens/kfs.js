// The Key Fact Statement (RBI's KFS): read it (GET /loans/{id}/kfs: the statement as of today, its version hash
// and validity; amounts as `<name>_paise` and `<name>_inr`), download it as a PDF, and accept the version read
// (POST .../kfs/accept {kfsHash}); the agreement to sign follows.
import { html, useState } from "/ui/vendor/preact-htm.js";
import { download, when } from "/ui/shared/api.js";
import { Alert, call, useAction, usePoll } from "../lib.js";

function Row({ label, children }) {
  return html`<tr><th scope="row">${label}</th><td>${children}</td></tr>`;
}

function Statement({ kfs }) {
  const c = kfs.contingent_charges;
  const d = kfs.disclosures;
  return html`<div class="kfs-doc" tabindex="0" aria-label="Key Fact Statement">
    <table>
      <caption>Key facts</caption>
      <tbody>
        <${Row} label="Loan amount">${kfs.sanctioned_amount_inr}<//>
        <${Row} label="Loan term">${kfs.loan_term} (${kfs.installment_count} installments, ${kfs.repayment_frequency.toLowerCase()})<//>
        <${Row} label="Installment">${kfs.installment_amount_inr}<//>
        <${Row} label="First installment on">${kfs.first_installment_on}<//>
        <${Row} label="Interest rate">${kfs.interest_rate_text || `${kfs.interest_rate_percent}% a year`} (${kfs.interest_rate_type.toLowerCase()})<//>
        <${Row} label="Total interest">${kfs.total_interest_inr}<//>
        <${Row} label="Charges deducted upfront">${kfs.upfront_charges_inr}<//>
        <${Row} label="Amount you receive">${kfs.net_disbursed_inr}<//>
        <${Row} label="Total amount you repay">${kfs.total_amount_payable_inr}<//>
        <${Row} label="Annual Percentage Rate (APR)">${kfs.apr_percent}%<//>
        <${Row} label="Cooling-off (look-up) period">${kfs.cooling_off_days} day(s): you may exit with no penalty<//>
      </tbody>
    </table>
    ${kfs.fees.length > 0 &&
    html`<table><caption>Fees and charges</caption><tbody>
      ${kfs.fees.map((f) => html`<${Row} label=${f.name}>${f.amount_inr} (${f.basis}; payable to ${f.payable_to === "RE" ? "the lender" : "a third party"})<//>`)}
    </tbody></table>`}
    <table>
      <caption>Contingent charges</caption>
      <tbody>
        <${Row} label="Penal charges (delayed payment)">${c.penal_delayed_payment}<//>
        <${Row} label="Other penal charges">${c.other_penal}<//>
        <${Row} label="Foreclosure">${c.foreclosure}<//>
        <${Row} label="Bounce">${c.bounce}<//>
      </tbody>
    </table>
    <table>
      <caption>Other disclosures</caption>
      <tbody>
        ${d.lender_legal_name && html`<${Row} label="Lender">${d.lender_legal_name}<//>`}
        ${d.recovery_agents_clause && html`<${Row} label="Recovery agents">${d.recovery_agents_clause}<//>`}
        ${d.grievance_redressal_clause && html`<${Row} label="Grievance redressal">${d.grievance_redressal_clause}<//>`}
        ${d.grievance_officer && html`<${Row} label="Grievance officer">${d.grievance_officer}<//>`}
        ${d.nodal_officer && html`<${Row} label="Nodal officer">${d.nodal_officer}<//>`}
      </tbody>
    </table>
    <table>
      <caption>Repayment schedule</caption>
      <thead><tr><th scope="col">#</th><th scope="col">Due</th><th scope="col">Installment</th><th scope="col">Principal left</th></tr></thead>
      <tbody>
        ${kfs.repayment_schedule.map(
          (r) => html`<tr><td>${r.number}</td><td>${r.due_date}</td><td>${r.installment_inr}</td><td>${r.closing_balance_inr}</td></tr>`
        )}
      </tbody>
    </table>
  </div>`;
}

export default function Kfs({ params, navigate }) {
  const loanId = params.loanId;
  const [agreed, setAgreed] = useState(false);
  const [busy, error, run] = useAction();
  const [pdfError, setPdfError] = useState(null);
  const { data, error: loadError, reload } = usePoll(() => call("GET", `/api/v1/web/loans/${loanId}/kfs`), [loanId]);
  if (loadError) return html`<section><h1>Key Fact Statement</h1><${Alert} error=${loadError} />
    <p><a href=${`#/loan/${loanId}`}>Back to the loan</a></p></section>`;
  if (!data) return html`<p class="muted">Loading…</p>`;
  const accept = (event) => {
    event.preventDefault();
    run(async () => {
      try {
        await call("POST", `/api/v1/web/loans/${loanId}/kfs/accept`, { kfsHash: data.kfsHash });
      } catch (e) {
        if (e.status === 409) await reload(); // the statement changed: show the new one to read again
        throw e;
      }
      navigate(`/loan/${loanId}/sign`);
    });
  };
  const pdf = async () => {
    setPdfError(null);
    try {
      await download("customer", `/api/v1/web/loans/${loanId}/kfs?format=pdf`, `kfs-${loanId.slice(0, 8)}.pdf`);
    } catch (e) {
      setPdfError(e);
    }
  };
  const accepted = data.accepted && data.accepted.kfsHash === data.kfsHash;
  return html`<section>
    <h1>Key Fact Statement</h1>
    <p class="muted">Issued ${data.issuedOn}, valid until ${data.validUntil}. Please read it before you accept.</p>
    <${Statement} kfs=${data.kfs} />
    <p><button type="button" class="secondary wide" onClick=${pdf}>Download the KFS (PDF)</button></p>
    <${Alert} error=${pdfError} />
    ${accepted
      ? html`<p class="notice" role="status">You accepted this statement on ${when(data.accepted.acceptedAt)}.</p>
          <p><a class="button wide" href=${`#/loan/${loanId}/sign`}>Go to signing</a></p>`
      : html`<form onSubmit=${accept}>
          <p class="check">
            <input id="kfsAgree" type="checkbox" checked=${agreed} onChange=${(e) => setAgreed(e.target.checked)} />
            <label for="kfsAgree">I have read the Key Fact Statement and accept its terms</label>
          </p>
          <${Alert} error=${error} />
          <p><button type="submit" class="wide" disabled=${busy || !agreed}>Accept the Key Fact Statement</button></p>
        </form>`}
  </section>`;
}
