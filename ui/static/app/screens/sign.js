// Signing: the loan's agreement (GET /loans/{id}: `agreement` with its status and the eSign vendor's signing
// link), read as a PDF (GET .../agreement) and signed on the vendor's page in a new tab; the loan is watched until
// the vendor's callback moves it on. A declined or expired link is replaced (POST .../agreement/resend). Once
// signed, autopay can be set up (./mandate.js).
import { html, useState } from "/ui/vendor/preact-htm.js";
import { download, when } from "/ui/shared/api.js";
import { Alert, Notice, STATUS_WORDS, VendorLink, WATCHED, call, useAction, useLoanWatch } from "../lib.js";
import Mandate from "./mandate.js";

const SIGNED = ["AGREEMENT_SIGNED", "DISBURSAL_PENDING", "DISBURSED", "OVERDUE"];

export default function Sign({ params }) {
  const loanId = params.loanId;
  const [notice, setNotice] = useState(null);
  const [busy, error, run] = useAction();
  const [pdfError, setPdfError] = useState(null);
  const { data: loan, error: loadError, reload } = useLoanWatch(loanId, WATCHED);
  if (loadError) return html`<${Alert} error=${loadError} />`;
  if (!loan) return html`<p class="muted">Loading…</p>`;
  const agreement = loan.agreement;
  const signed = SIGNED.includes(loan.status);
  const resend = () =>
    run(async () => {
      const answer = await call("POST", `/api/v1/web/loans/${loanId}/agreement/resend`, {});
      setNotice(answer.kfsRequired ? "The Key Fact Statement lapsed: accept the current one first." : "A new signing link is on its way.");
      await reload();
    });
  const pdf = async () => {
    setPdfError(null);
    try {
      await download("customer", `/api/v1/web/loans/${loanId}/agreement`, `agreement-${loanId.slice(0, 8)}.pdf`);
    } catch (e) {
      setPdfError(e);
    }
  };
  return html`<section>
    <h1>Sign the agreement</h1>
    <p><span class=${`status status-${loan.status.toLowerCase()}`} id="loan-status">${STATUS_WORDS[loan.status] || loan.status}</span></p>
    <${Notice}>${notice}<//>
    ${loan.status === "SANCTIONED" &&
    html`<p>Accept the Key Fact Statement first; the agreement follows.</p>
      <p><a class="button wide" href=${`#/loan/${loanId}/kfs`}>Read the Key Fact Statement</a></p>`}
    ${loan.status === "AGREEMENT_PENDING" && (!agreement || (agreement.status === "SENT" && !agreement.signingUrl)) &&
    html`<p class="muted" role="status">Preparing your agreement…</p>`}
    ${loan.status === "AGREEMENT_PENDING" && agreement && agreement.status === "SENT" && agreement.signingUrl &&
    html`<div class="card">
      <p>Read your loan agreement, then sign it with your Aadhaar OTP at ${agreement.provider}, our eSign provider.
        ${agreement.expiresAt && html` The link is valid until ${when(agreement.expiresAt)}.`}</p>
      <p><button type="button" class="secondary wide" onClick=${pdf}>Read the agreement (PDF)</button></p>
      <${Alert} error=${pdfError} />
      <${VendorLink} href=${agreement.signingUrl}>Sign the agreement<//>
    </div>`}
    ${loan.status === "AGREEMENT_PENDING" && agreement && ["DECLINED", "EXPIRED"].includes(agreement.status) &&
    html`<div class="card">
      <p>The signing link ${agreement.status === "DECLINED" ? "was declined" : "expired"}. Ask for a new one to sign.</p>
      <p><button type="button" class="wide" onClick=${resend} disabled=${busy}>Get a new signing link</button></p>
    </div>`}
    <${Alert} error=${error} />
    ${signed &&
    html`<p class="notice" role="status">Agreement signed${agreement && agreement.signedAt ? ` on ${when(agreement.signedAt)}` : ""}. The money
        is sent to your bank account after a final check.</p>
      <p><button type="button" class="secondary wide" onClick=${pdf}>Download the signed agreement (PDF)</button></p>
      <${Alert} error=${pdfError} />
      <${Mandate} loan=${loan} />
      <p><a class="button wide" href=${`#/loan/${loanId}`}>Go to your loan</a></p>`}
    ${!signed && !["SANCTIONED", "AGREEMENT_PENDING"].includes(loan.status) &&
    html`<p>Nothing to sign now. <a href=${`#/loan/${loanId}`}>Back to the loan</a></p>`}
  </section>`;
}
