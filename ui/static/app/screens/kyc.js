// The KYC steps the brand's workflow asks for, while the loan is APPLIED. The loan screen polls the loan with
// `?include=kyc` (the workflow's kyc_status: the steps, the one running, what it waits for, results, links, notes)
// and this component answers what is awaited: Aadhaar OTP (initiate, then the code), the bank statement (upload,
// or the Account Aggregator consent), DigiLocker (the vendor's page), a bank account, employment. What the progress
// offers ahead (`acceptsAhead`: the statement upload) is asked beside it, so the borrower does not wait for its turn.
import { html, useRef, useState } from "/ui/vendor/preact-htm.js";
import { Alert, Field, Notice, VendorLink, call, useAction } from "../lib.js";
import { BankAccountForm, Employment } from "./profile.js";

const STEP_WORDS = {
  PAN: "PAN check",
  AADHAAR: "Aadhaar e-KYC",
  MOBILE: "Mobile number check",
  CKYC: "Central KYC record",
  BANK_ACCOUNT: "Bank account check",
  EMPLOYMENT: "Employment check",
  BANK_STATEMENT: "Bank statement",
  DIGILOCKER: "DigiLocker documents",
  SELFIE: "Selfie",
};

const RESULT_WORDS = { PASSED: "done", REUSED: "done earlier", FAILED: "failed", TIMED_OUT: "timed out", SKIPPED: "not needed" };

function Aadhaar({ kyc, onDone }) {
  const [number, setNumber] = useState("");
  const [otp, setOtp] = useState("");
  const [sent, setSent] = useState(kyc.aadhaarOtpSent);
  const [busy, error, run] = useAction();
  const initiate = (event) => {
    event.preventDefault();
    run(async () => {
      await call("POST", "/api/v1/web/kyc/initiate-aadhaar-otp", { aadhaarNumber: number.replace(/\s/g, "") });
      setSent(true);
    });
  };
  const submit = (event) => {
    event.preventDefault();
    run(async () => {
      const answer = await call("POST", "/api/v1/web/kyc/submit-aadhaar-otp", { otp });
      // VERIFIED: the step is done, whatever the next progress read (which the checks after it may hold) says
      if (answer && answer.status === "VERIFIED") onDone("Aadhaar verified.", { AADHAAR: "PASSED" });
      else onDone("Aadhaar code sent: it is being checked.");
    });
  };
  if (!sent)
    return html`<form onSubmit=${initiate}>
      <${Field} id="aadhaar" label="Aadhaar number" required inputmode="numeric" autocomplete="off" maxlength="14"
        pattern="[0-9 ]{12,14}" value=${number} onValue=${setNumber}
        hint="12 digits. A one-time code goes to the mobile number linked to your Aadhaar." />
      <${Alert} error=${error} />
      <p><button type="submit" class="wide" disabled=${busy}>Send Aadhaar code</button></p>
    </form>`;
  return html`<form onSubmit=${submit}>
    <${Field} id="aadhaarOtp" label="Code sent to your Aadhaar-linked mobile" required inputmode="numeric"
      autocomplete="one-time-code" pattern="[0-9]{6}" maxlength="6" value=${otp} onValue=${(v) => setOtp(v.replace(/\D/g, ""))} />
    <${Alert} error=${error} />
    <p><button type="submit" class="wide" disabled=${busy || otp.length !== 6}>Verify Aadhaar</button></p>
    <p><button type="button" class="link" onClick=${() => setSent(false)}>Use another Aadhaar number</button></p>
  </form>`;
}

function Statement({ kyc, onDone }) {
  const [file, setFile] = useState(null);
  const [password, setPassword] = useState("");
  const [busy, error, run] = useAction();
  const note = (kyc.notes || {}).BANK_STATEMENT || "";
  const consent = (kyc.links || {}).BANK_STATEMENT;
  const upload = (event) => {
    event.preventDefault();
    const form = new FormData();
    form.append("file", file);
    if (password) form.append("password", password);
    run(async () => {
      await call("POST", "/api/v1/web/bank/upload-statement", form);
      onDone("Statement uploaded: it is being analysed.");
    });
  };
  if (consent) {
    const url = /^https?:/.test(consent) ? consent : null;
    return html`<div>
      <p>Share your bank statement securely through an Account Aggregator.</p>
      ${url
        ? html`<${VendorLink} href=${url}>Give consent<//>`
        : html`<p>We sent you an SMS with the link to the Account Aggregator. Open it, approve the request, and come
            back here: this page moves on by itself.</p>`}
      ${note && html`<p class="muted">Status: ${note}</p>`}
    </div>`;
  }
  return html`<form onSubmit=${upload}>
    <p>Upload the last 6 months' statement of your salary account (PDF).</p>
    ${note && note !== "upload a bank statement" && html`<p class="error" role="alert">${note}</p>`}
    <div class="field">
      <label for="statement">Bank statement (PDF)</label>
      <input id="statement" type="file" accept="application/pdf,.pdf" required onChange=${(e) => setFile(e.target.files[0] || null)} />
    </div>
    <${Field} id="statementPassword" label="PDF password (if it has one)" type="password" autocomplete="off"
      value=${password} onValue=${setPassword} />
    <${Alert} error=${error} />
    <p><button type="submit" class="wide" disabled=${busy || !file}>Upload statement</button></p>
  </form>`;
}

function BankAccount({ kyc, onDone }) {
  const [busy, error, run] = useAction();
  const verify = (added) =>
    run(async () => {
      await call("POST", "/api/v1/web/bank/verify", { accountId: added.accountId });
      onDone("Bank account added: it is being checked.");
    });
  return html`<div>
    <p>${(kyc.notes || {}).BANK_ACCOUNT || "Add the bank account the loan is paid into."}</p>
    <${BankAccountForm} primary=${true} onSaved=${verify} submitLabel="Add and verify account" />
    ${busy && html`<p class="muted">Checking…</p>`}
    <${Alert} error=${error} />
  </div>`;
}

function Waiting({ step, kyc, onDone }) {
  const links = kyc.links || {};
  switch (step) {
    case "AADHAAR":
      return html`<${Aadhaar} kyc=${kyc} onDone=${onDone} />`;
    case "BANK_STATEMENT":
      return html`<${Statement} kyc=${kyc} onDone=${onDone} />`;
    case "DIGILOCKER":
      return html`<div>
        <p>Share your PAN and Aadhaar from DigiLocker: sign in there and allow access.</p>
        ${links.DIGILOCKER
          ? html`<${VendorLink} href=${links.DIGILOCKER}>Open DigiLocker<//>`
          : html`<p class="muted">Preparing the DigiLocker link…</p>`}
        ${(kyc.notes || {}).DIGILOCKER && html`<p class="muted">${kyc.notes.DIGILOCKER}</p>`}
      </div>`;
    case "BANK_ACCOUNT":
      return html`<${BankAccount} kyc=${kyc} onDone=${onDone} />`;
    case "EMPLOYMENT":
      return html`<div><p>${(kyc.notes || {}).EMPLOYMENT || "Tell us where you work."}</p>
        <${Employment} onSaved=${() => onDone("Employment added: it is being checked.")} submitLabel="Add employment" /></div>`;
    default:
      return html`<p>${(kyc.notes || {})[step] || "We need something from you for this step: please contact us."}</p>`;
  }
}

// The progress last shown for a loan stands in for a read that comes back without any: the workflow answers the
// query only between its tasks, and runs its automated checks (and the credit decision) in one task, so a read
// made meanwhile times out (docs/app.md, "KYC while APPLIED"). The workflow is then busy with its own checks, not
// waiting for the borrower: what the last progress waited for is not asked again until a read says so, and shows
// as being checked.
//
// ``answered``: results the borrower's own actions were answered with (a verified Aadhaar OTP), for this loan. They
// stand until a read says otherwise: a read taken before the answer (or none, while the checks after it hold the
// workflow) must not show that step as waiting or being checked again.
export function shownProgress(loan, last, answered) {
  const own = answered && answered.loanId === loan.id ? answered.results : {};
  const shown = progressRead(loan, last);
  if (!shown.kyc || !Object.keys(own).length) return shown;
  const kyc = shown.kyc;
  const waitingFor = kyc.waitingFor && own[kyc.waitingFor] ? null : kyc.waitingFor;
  return {
    kyc: { ...kyc, results: { ...own, ...kyc.results }, waitingFor },
    busy: shown.busy || waitingFor !== kyc.waitingFor,
  };
}

function progressRead(loan, last) {
  if (loan.kyc) return { kyc: loan.kyc, busy: false };
  if (!last || last.loanId !== loan.id || !last.kyc) return { kyc: null, busy: false };
  const current = [last.kyc.current, last.kyc.waitingFor].filter(Boolean).join(",");
  // what the last read offered ahead stays offered (and its card, with the file chosen in it); one the borrower took up
  // since is left out by the screen itself (``given`` in Kyc)
  return { kyc: { ...last.kyc, current, waitingFor: null }, busy: true };
}

export default function Kyc({ loan, reload }) {
  const [done, setDone] = useState(null);
  const last = useRef(null);
  const answered = useRef(null);
  const given = useRef(null); // a statement this screen uploaded, for this loan: not offered ahead again
  if (loan.kyc) last.current = { loanId: loan.id, kyc: loan.kyc };
  const { kyc, busy } = shownProgress(loan, last.current, answered.current);
  if (!kyc) return html`<p class="muted" role="status">Starting the checks…</p>`;
  const running = (kyc.current || "").split(",").filter(Boolean);
  // the statement's card, whether its step waits for it or the progress offers it ahead, keeps one place (and the
  // file chosen in it) when the step comes to wait; any other step waited for has the card above it
  const waitsForStatement = kyc.waitingFor === "BANK_STATEMENT";
  const uploaded = given.current && given.current.loanId === loan.id && given.current.statement;
  const statement = waitsForStatement || (!uploaded && (kyc.acceptsAhead || []).includes("BANK_STATEMENT"));
  const other = waitsForStatement ? null : kyc.waitingFor;
  const checking = "Checking your details…";
  // ``results``: what the borrower's own action was answered with (a verified OTP), shown until a read says otherwise
  const onDone = (message, results) => {
    if (results) {
      const before = answered.current && answered.current.loanId === loan.id ? answered.current.results : {};
      answered.current = { loanId: loan.id, results: { ...before, ...results } };
    }
    setDone(message);
    reload();
  };
  const onStatement = (message) => {
    given.current = { loanId: loan.id, statement: true };
    onDone(message);
  };
  return html`<section aria-labelledby="kyc-title">
    <h2 id="kyc-title">Verification</h2>
    <ol class="kyc-steps">
      ${kyc.steps.map((step) => {
        const result = kyc.results[step];
        const state = result
          ? RESULT_WORDS[result] || result.toLowerCase()
          : kyc.waitingFor === step
            ? "needs you"
            : running.includes(step)
              ? "checking…"
              : "to do";
        return html`<li class=${`kyc-${state.replace(/\W+/g, "-")}`} aria-current=${kyc.waitingFor === step ? "step" : undefined}>
          <span>${STEP_WORDS[step] || step}</span> <span class="badge">${state}</span></li>`;
      })}
    </ol>
    <${Notice}>${done}<//>
    ${other
      ? html`<div class="card">
          <h3>${STEP_WORDS[other] || other}</h3>
          <${Waiting} key=${other} step=${other} kyc=${kyc} onDone=${onDone} />
        </div>`
      : !waitsForStatement &&
        html`<p class="muted" role="status">${kyc.current || busy ? checking : "Deciding on your application…"}</p>`}
    ${statement &&
    html`<div class="card">
      <h3>${STEP_WORDS.BANK_STATEMENT}</h3>
      ${!waitsForStatement &&
      html`<p class="muted">You can upload it now, while the other checks run: it is read when its turn comes.</p>`}
      <${Statement} kyc=${kyc} onDone=${onStatement} />
    </div>`}
  </section>`;
}
