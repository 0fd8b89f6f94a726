// The borrower's details, one step at a time after registering: PAN (POST /kyc/verify-pan), personal details
// (POST /personal-details/update), employment (POST /employment/add) and the salary bank account
// (POST /bank/add-account). Each step saves on its own; `#/profile?step=bank` opens one directly. What is on
// file is shown prefilled (the PAN, the personal details, the accounts); the loan's KYC phase verifies it all.
import { html, useEffect, useState } from "/ui/vendor/preact-htm.js";
import { Alert, Field, Notice, call, useAction } from "../lib.js";

const STEPS = [
  { key: "pan", title: "PAN" },
  { key: "personal", title: "Personal details" },
  { key: "employment", title: "Employment" },
  { key: "bank", title: "Bank account" },
];

function firstMissing(details, accounts) {
  if (!details.pan) return "pan";
  if (!details.firstName || !details.dateOfBirth || !details.pincode) return "personal";
  if (!accounts.length) return "employment";
  return "done";
}

function Pan({ details, onSaved }) {
  const [pan, setPan] = useState(details.pan || "");
  const [busy, error, run] = useAction();
  const save = (event) => {
    event.preventDefault();
    run(async () => onSaved(await call("POST", "/api/v1/web/kyc/verify-pan", { pan: pan.trim().toUpperCase() })));
  };
  return html`<form onSubmit=${save}>
    <${Field} id="pan" label="PAN" required autocomplete="off" autocapitalize="characters" maxlength="10"
      pattern="[A-Za-z]{5}[0-9]{4}[A-Za-z]" value=${pan} onValue=${(v) => setPan(v.toUpperCase())}
      hint="10 characters, as on your PAN card, e.g. ABCDE1234F. It is verified when you apply." />
    <${Alert} error=${error} />
    <p><button type="submit" class="wide" disabled=${busy || pan.trim().length !== 10}>Save and continue</button></p>
  </form>`;
}

const PERSONAL = ["firstName", "lastName", "email", "dateOfBirth", "gender", "address", "pincode", "city", "state"];

function Personal({ details, onSaved }) {
  const [form, setForm] = useState(Object.fromEntries(PERSONAL.map((k) => [k, details[k] || ""])));
  const [busy, error, run] = useAction();
  const set = (key) => (value) => setForm({ ...form, [key]: value });
  const save = (event) => {
    event.preventDefault();
    const body = Object.fromEntries(Object.entries(form).filter(([, v]) => v !== ""));
    run(async () => onSaved(await call("POST", "/api/v1/web/personal-details/update", body)));
  };
  return html`<form onSubmit=${save}>
    <div class="pair">
      <${Field} id="firstName" label="First name" required autocomplete="given-name" value=${form.firstName} onValue=${set("firstName")} />
      <${Field} id="lastName" label="Last name" autocomplete="family-name" value=${form.lastName} onValue=${set("lastName")} />
    </div>
    <${Field} id="email" label="E-mail" type="email" autocomplete="email" value=${form.email} onValue=${set("email")} />
    <div class="pair">
      <${Field} id="dateOfBirth" label="Date of birth" type="date" required autocomplete="bday" value=${form.dateOfBirth} onValue=${set("dateOfBirth")} />
      <div class="field">
        <label for="gender">Gender</label>
        <select id="gender" value=${form.gender} onChange=${(e) => set("gender")(e.target.value)}>
          <option value="">Prefer not to say</option>
          <option value="FEMALE">Female</option>
          <option value="MALE">Male</option>
          <option value="OTHER">Other</option>
        </select>
      </div>
    </div>
    <${Field} id="address" label="Address" required autocomplete="street-address" value=${form.address} onValue=${set("address")} />
    <div class="pair">
      <${Field} id="pincode" label="PIN code" required inputmode="numeric" pattern="[0-9]{6}" maxlength="6" autocomplete="postal-code"
        value=${form.pincode} onValue=${set("pincode")} />
      <${Field} id="city" label="City" required autocomplete="address-level2" value=${form.city} onValue=${set("city")} />
    </div>
    <${Field} id="state" label="State" required autocomplete="address-level1" value=${form.state} onValue=${set("state")} />
    <${Alert} error=${error} />
    <p><button type="submit" class="wide" disabled=${busy}>Save and continue</button></p>
  </form>`;
}

export function Employment({ onSaved, submitLabel = "Save and continue" }) {
  const [form, setForm] = useState({ employerName: "", monthlySalary: "", employmentType: "SALARIED", uan: "", joinedOn: "" });
  const [busy, error, run] = useAction();
  const set = (key) => (value) => setForm({ ...form, [key]: value });
  const save = (event) => {
    event.preventDefault();
    const body = Object.fromEntries(Object.entries(form).filter(([, v]) => v !== ""));
    run(async () => onSaved(await call("POST", "/api/v1/web/employment/add", body)));
  };
  return html`<form onSubmit=${save}>
    <div class="field">
      <label for="employmentType">You are</label>
      <select id="employmentType" value=${form.employmentType} onChange=${(e) => set("employmentType")(e.target.value)}>
        <option value="SALARIED">Salaried</option>
        <option value="SELF_EMPLOYED">Self-employed</option>
      </select>
    </div>
    <${Field} id="employerName" label=${form.employmentType === "SALARIED" ? "Employer" : "Business name"} required
      autocomplete="organization" value=${form.employerName} onValue=${set("employerName")} />
    <${Field} id="monthlySalary" label="Monthly income (₹)" required inputmode="decimal" pattern="[0-9]+(\\.[0-9]{1,2})?"
      value=${form.monthlySalary} onValue=${set("monthlySalary")} hint="Take-home, in rupees, e.g. 65000" />
    <${Field} id="joinedOn" label="Working there since" type="date" value=${form.joinedOn} onValue=${set("joinedOn")} />
    <${Field} id="uan" label="UAN (optional)" inputmode="numeric" pattern="[0-9]{12}" maxlength="12" value=${form.uan}
      onValue=${set("uan")} hint="Your EPF Universal Account Number, 12 digits, if you have one" />
    <${Alert} error=${error} />
    <p><button type="submit" class="wide" disabled=${busy}>${submitLabel}</button></p>
  </form>`;
}

export function BankAccountForm({ onSaved, primary = false, submitLabel = "Add account" }) {
  const [form, setForm] = useState({ accountNumber: "", confirm: "", ifsc: "" });
  const [busy, error, run, setError] = useAction();
  const set = (key) => (value) => setForm({ ...form, [key]: value });
  const save = (event) => {
    event.preventDefault();
    if (form.accountNumber !== form.confirm) {
      setError("The two account numbers differ: type it again.");
      return;
    }
    run(async () =>
      onSaved(await call("POST", "/api/v1/web/bank/add-account", { accountNumber: form.accountNumber, ifsc: form.ifsc.toUpperCase(), primary }))
    );
  };
  return html`<form onSubmit=${save}>
    <${Field} id="accountNumber" label="Account number" required inputmode="numeric" pattern="[0-9]{9,18}" autocomplete="off"
      value=${form.accountNumber} onValue=${set("accountNumber")} />
    <${Field} id="accountConfirm" label="Account number again" required inputmode="numeric" pattern="[0-9]{9,18}" autocomplete="off"
      value=${form.confirm} onValue=${set("confirm")} />
    <${Field} id="ifsc" label="IFSC" required maxlength="11" pattern="[A-Za-z]{4}0[A-Za-z0-9]{6}" autocapitalize="characters"
      value=${form.ifsc} onValue=${(v) => set("ifsc")(v.toUpperCase())} hint="11 characters, on your cheque book, e.g. HDFC0001234" />
    <${Alert} error=${error} />
    <p><button type="submit" class="wide" disabled=${busy}>${submitLabel}</button></p>
  </form>`;
}

function Bank({ accounts, onSaved }) {
  return html`<div>
    ${accounts.length > 0 &&
    html`<ul class="list" aria-label="Your bank accounts">
      ${accounts.map(
        (a) => html`<li>${a.bankName || a.ifsc} ${a.accountNumberMasked} ${a.isPrimary && html`<span class="badge">for the loan</span>`}
          <span class="badge">${a.pennyDropStatus}</span></li>`
      )}
    </ul>`}
    <p class="muted">The loan is paid into this account: it must be in your name.</p>
    <${BankAccountForm} onSaved=${onSaved} primary=${accounts.length === 0} submitLabel=${accounts.length ? "Add another account" : "Save and continue"} />
  </div>`;
}

export default function Profile({ query, navigate }) {
  const [details, setDetails] = useState(null);
  const [accounts, setAccounts] = useState([]);
  const [step, setStep] = useState(query.step || null);
  const [saved, setSaved] = useState(null);
  const [error, setError] = useState(null);
  const load = async () => {
    try {
      const [d, a] = await Promise.all([call("GET", "/api/v1/web/personal-details"), call("GET", "/api/v1/web/bank/accounts")]);
      setDetails(d);
      setAccounts(a);
      return [d, a];
    } catch (e) {
      setError(e);
      return [null, []];
    }
  };
  useEffect(() => {
    load().then(([d, a]) => d && !query.step && setStep(firstMissing(d, a) === "done" ? "pan" : firstMissing(d, a)));
  }, []);
  if (error) return html`<${Alert} error=${error} />`;
  if (!details || !step) return html`<p class="muted">Loading…</p>`;
  const index = STEPS.findIndex((s) => s.key === step);
  const next = async (what) => {
    setSaved(`${what} saved.`);
    const [d, a] = await load();
    const following = STEPS[index + 1];
    if (following) setStep(following.key);
    else if (d && a.length) navigate("/apply");
  };
  return html`<section>
    <h1>Your details</h1>
    <nav class="steps" aria-label="Steps">
      <ol>
        ${STEPS.map(
          (s, i) => html`<li aria-current=${s.key === step ? "step" : undefined}>
            <button type="button" class="link" onClick=${() => (setSaved(null), setStep(s.key))}>${i + 1}. ${s.title}</button></li>`
        )}
      </ol>
    </nav>
    <${Notice}>${saved}<//>
    <div class="card">
      <h2>Step ${index + 1} of ${STEPS.length}: ${STEPS[index].title}</h2>
      ${step === "pan" && html`<${Pan} details=${details} onSaved=${() => next("PAN")} />`}
      ${step === "personal" && html`<${Personal} details=${details} onSaved=${() => next("Personal details")} />`}
      ${step === "employment" &&
      html`<${Employment} onSaved=${() => next("Employment")} />
        <p><button type="button" class="link" onClick=${() => setStep("bank")}>Already added: skip</button></p>`}
      ${step === "bank" && html`<${Bank} accounts=${accounts} onSaved=${() => next("Bank account")} />`}
    </div>
    ${accounts.length > 0 && details.pan && details.firstName && html`<p><a class="button secondary wide" href="#/apply">Go to the loan application</a></p>`}
  </section>`;
}
