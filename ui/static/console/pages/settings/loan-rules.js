// Loan rules (products): amounts, tenures, rate, repayment frequency and charges; add, edit, deactivate.
import { html, useState } from "/ui/vendor/preact-htm.js";
import { rupees } from "/ui/shared/api.js";
import { Alert, Done, Field, Table, staffApi, toPaise, useAction, useLoad } from "../../ops/ui.js";
import { settingsPath } from "./common.js";

// what the API takes back (LoanRuleIn); the view adds the id
const KEEP = [
  "code", "name", "minAmount", "maxAmount", "minTenure", "maxTenure", "annualRateBps", "repayEvery", "repayUnit",
  "periodSeconds", "interestMethod", "amortization", "interestCalc", "daysInYear", "daysInMonth", "inMultiplesOf",
  "gracePrincipal", "graceInterest", "dailyRate", "charges", "isActive", "holidayStrategy",
];
const BLANK = {
  code: "", name: "", minAmount: "", maxAmount: "", minTenure: "3", maxTenure: "12", ratePct: "24", repayEvery: "1",
  repayUnit: "MONTHS", charges: "{}", isActive: true,
};

function toForm(rule) {
  return {
    code: rule.code, name: rule.name, minAmount: String(rule.minAmount / 100), maxAmount: String(rule.maxAmount / 100),
    minTenure: String(rule.minTenure), maxTenure: String(rule.maxTenure), ratePct: String(rule.annualRateBps / 100),
    repayEvery: String(rule.repayEvery), repayUnit: rule.repayUnit, charges: JSON.stringify(rule.charges || {}, null, 1),
    isActive: rule.isActive,
  };
}

export default function LoanRules({ brandId, canManage }) {
  const list = useLoad(() => staffApi("GET", settingsPath(brandId, "loan-rules")), [brandId]);
  const [editing, setEditing] = useState(null);
  const [form, setForm] = useState(BLANK);
  const act = useAction();
  const set = (key) => (value) => setForm({ ...form, [key]: value });
  const submit = async (event) => {
    event.preventDefault();
    let charges;
    try {
      charges = JSON.parse(form.charges || "{}");
    } catch (_) {
      return act.setError("Please correct: charges must be JSON, e.g. {} or {\"processingFee\": ...}.");
    }
    const base = editing ? Object.fromEntries(KEEP.filter((k) => k in editing).map((k) => [k, editing[k]])) : {};
    const body = {
      ...base, code: form.code, name: form.name, minAmount: toPaise(form.minAmount), maxAmount: toPaise(form.maxAmount),
      minTenure: Number(form.minTenure), maxTenure: Number(form.maxTenure), annualRateBps: Math.round(Number(form.ratePct) * 100),
      repayEvery: Number(form.repayEvery), repayUnit: form.repayUnit, charges, isActive: form.isActive,
    };
    const path = settingsPath(brandId, editing ? `loan-rules/${editing.id}` : "loan-rules");
    const ok = await act.run(() => staffApi(editing ? "PUT" : "POST", path, body), editing ? "Loan rule saved." : "Loan rule added.");
    if (ok) {
      setEditing(null);
      setForm(BLANK);
      list.reload();
    }
  };
  const columns = [
    { label: "Code", key: "code" },
    { label: "Name", key: "name" },
    { label: "Amount", render: (r) => `${rupees(r.minAmount)} – ${rupees(r.maxAmount)}` },
    { label: "Installments", render: (r) => `${r.minTenure} – ${r.maxTenure}` },
    { label: "Rate p.a.", render: (r) => `${(r.annualRateBps / 100).toFixed(2)} %`, num: true },
    { label: "Every", render: (r) => `${r.repayEvery} ${r.repayUnit.toLowerCase()}${r.periodSeconds ? ` (demo: ${r.periodSeconds} s)` : ""}` },
    { label: "Active", render: (r) => (r.isActive ? "yes" : "no") },
    { label: "", render: (r) => (canManage ? html`<button type="button" class="secondary" aria-label=${`Edit ${r.code}`} onClick=${() => (setEditing(r), setForm(toForm(r)))}>Edit</button>` : "") },
  ];
  return html`<div>
    <${Alert} error=${list.error} />
    ${list.data && html`<${Table} caption="Loan rules" columns=${columns} rows=${list.data} rowKey=${(r) => r.id} empty="No loan rule." />`}
    ${canManage &&
    html`<form class="card" onSubmit=${submit} aria-labelledby="lr-h">
      <h2 id="lr-h">${editing ? `Edit ${editing.code}` : "Add a loan rule"}</h2>
      <div class="ops-filters">
        <${Field} id="lr-code" label="Code" required value=${form.code} onInput=${set("code")} />
        <${Field} id="lr-name" label="Name" required value=${form.name} onInput=${set("name")} />
        <${Field} id="lr-min" label="Smallest amount (₹)" required inputmode="decimal" value=${form.minAmount} onInput=${set("minAmount")} />
        <${Field} id="lr-max" label="Largest amount (₹)" required inputmode="decimal" value=${form.maxAmount} onInput=${set("maxAmount")} />
        <${Field} id="lr-tmin" label="Fewest installments" type="number" min="1" required value=${form.minTenure} onInput=${set("minTenure")} />
        <${Field} id="lr-tmax" label="Most installments" type="number" min="1" required value=${form.maxTenure} onInput=${set("maxTenure")} />
        <${Field} id="lr-rate" label="Interest (% a year)" inputmode="decimal" required value=${form.ratePct} onInput=${set("ratePct")} />
        <${Field} id="lr-every" label="Repay every" type="number" min="1" value=${form.repayEvery} onInput=${set("repayEvery")} />
        <${Field} id="lr-unit" label="Unit" value=${form.repayUnit} onInput=${set("repayUnit")} options=${["DAYS", "WEEKS", "MONTHS"]} />
      </div>
      <${Field} id="lr-charges" label="Charges (JSON)" area value=${form.charges} onInput=${set("charges")} />
      <${Field} id="lr-active" type="checkbox" label="Open to new applications" value=${form.isActive} onInput=${set("isActive")} />
      <div class="ops-actions"><button type="submit" disabled=${act.busy}>${editing ? "Save the loan rule" : "Add the loan rule"}</button>
        ${editing && html`<button type="button" class="secondary" onClick=${() => (setEditing(null), setForm(BLANK))}>Cancel</button>`}</div>
      <${Alert} error=${act.error} />
      <${Done} message=${act.done} />
    </form>`}
  </div>`;
}
