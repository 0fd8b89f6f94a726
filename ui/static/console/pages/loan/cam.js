// The CAM calculator (credit appraisal memo, docs/workbench.md): up to three salary credits, obligations, the
// policy FOIR, and the loan's terms (defaults: the loan's own); saved while the loan is APPLIED or UNDER_REVIEW by
// the credit roles (cam.manage). Amounts are typed in rupees and sent in paise; percentages as decimal strings.
import { html, useState } from "/ui/vendor/preact-htm.js";
import { paiseToInput, pct, rupees, toPaise, when } from "../../lib/format.js";
import { Badge, brandUrl, can, explainAction, Facts, Loaded, Notice, staff, useLoad } from "../../lib/ui.js";
import { Field } from "../../lib/forms.js";

const EDITABLE = ["APPLIED", "UNDER_REVIEW"];
const MONEY = ["salaryAmount1", "salaryAmount2", "salaryAmount3", "actualSalary", "obligations", "loanApplied", "loanRecommended", "salaryThreshold"];

function initial(loan, saved) {
  const inputs = (saved && saved.inputs) || {};
  const form = {};
  for (const key of MONEY) form[key] = paiseToInput(inputs[key]);
  for (const i of [1, 2, 3]) form[`salaryCreditDate${i}`] = inputs[`salaryCreditDate${i}`] || "";
  form.eligibleFoir = inputs.eligibleFoir || "50";
  form.roi = inputs.roi || String(loan.annualRateBps / 100);
  form.tenureMonths = String(inputs.tenureMonths || loan.tenure);
  if (!form.loanApplied) form.loanApplied = paiseToInput(loan.amountPaise);
  return form;
}

function body(form) {
  const out = {};
  for (const key of MONEY) {
    const paise = toPaise(form[key]);
    if (paise !== null) out[key] = paise;
  }
  for (const i of [1, 2, 3]) if (form[`salaryCreditDate${i}`]) out[`salaryCreditDate${i}`] = form[`salaryCreditDate${i}`];
  out.eligibleFoir = String(form.eligibleFoir).trim();
  if (String(form.roi).trim()) out.roi = String(form.roi).trim();
  if (String(form.tenureMonths).trim()) out.tenureMonths = Number(form.tenureMonths);
  return out;
}

function Result({ cam }) {
  const r = cam.result || {};
  const rep = r.repaymentData || {};
  return html`<div class="card" aria-label="CAM result">
    <h3>Result ${r.withinPolicy ? html`<${Badge} value="PASS" text="Within policy" />` : html`<${Badge} value="FAIL" text="Outside policy" />`}
      ${r.meetsSalaryThreshold === false && html` <${Badge} value="FAIL" text="Below the salary threshold" />`}</h3>
    <${Facts}
      items=${[
        ["Average salary", rupees(r.avgSalary)],
        ["Assessed salary", r.actualSalary ? rupees(r.actualSalary) : "—"],
        ["Obligations", rupees(r.obligations)],
        ["FOIR achieved", pct(r.foirAchieved)],
        ["Eligible FOIR", pct(r.eligibleFoir)],
        ["Proposed FOIR", pct(r.proposedFoir)],
        ["Loan applied", rupees(r.loanApplied)],
        ["Eligible loan", rupees(r.eligibleLoan)],
        ["Recommended", rupees(r.loanRecommended)],
        ["Max EMI", rupees(rep.maxEmi)],
        ["Proposed EMI", rupees(rep.proposedEmi)],
        ["Rate · tenure", `${pct(r.roi)} · ${rep.tenureMonths ?? "—"} months`],
        ["Saved", `${when(cam.updatedAt)}`],
      ]}
    />
  </div>`;
}

function CamForm({ loan, brandId, saved, onSaved, editable }) {
  const [form, setForm] = useState(() => initial(loan, saved));
  const [error, setError] = useState(null);
  const [done, setDone] = useState(null);
  const [busy, setBusy] = useState(false);
  const set = (key) => (value) => setForm((f) => ({ ...f, [key]: value }));
  const url = brandUrl(brandId, `loans/${loan.id}/cam`);
  const save = async (event) => {
    event.preventDefault();
    setError(null);
    setDone(null);
    let payload;
    try {
      payload = body(form);
    } catch (e) {
      setError(e.message);
      return;
    }
    setBusy(true);
    try {
      const cam = await staff("POST", url, payload);
      setDone("CAM saved.");
      onSaved(cam);
    } catch (e) {
      setError(explainAction(e));
    } finally {
      setBusy(false);
    }
  };
  const remove = async () => {
    setError(null);
    setBusy(true);
    try {
      await staff("DELETE", url);
      setDone("CAM deleted.");
      onSaved(null);
    } catch (e) {
      setError(explainAction(e));
    } finally {
      setBusy(false);
    }
  };
  const money = (key, title, required = false) =>
    html`<${Field} label=${`${title} (₹)`} value=${form[key]} onInput=${set(key)} inputmode="decimal" required=${required} disabled=${!editable} />`;
  return html`<form class="card cam" onSubmit=${save} aria-label="CAM calculator">
    <h3>Salary credits</h3>
    ${[1, 2, 3].map(
      (i) => html`<div class="row">
        <${Field} label=${`Salary credit ${i} date`} type="date" value=${form[`salaryCreditDate${i}`]} onInput=${set(`salaryCreditDate${i}`)} disabled=${!editable} />
        ${money(`salaryAmount${i}`, `Salary credit ${i}`)}
      </div>`
    )}
    <h3>Assessment</h3>
    <div class="row">
      ${money("actualSalary", "Assessed salary")}
      ${money("obligations", "Existing monthly EMIs")}
      <${Field} label="Eligible FOIR (%)" value=${form.eligibleFoir} onInput=${set("eligibleFoir")} required inputmode="decimal" disabled=${!editable} />
    </div>
    <div class="row">
      ${money("loanApplied", "Loan applied")}
      <${Field} label="Rate (% p.a.)" value=${form.roi} onInput=${set("roi")} inputmode="decimal" disabled=${!editable} />
      <${Field} label="Tenure (months)" type="number" min="1" value=${form.tenureMonths} onInput=${set("tenureMonths")} disabled=${!editable} />
    </div>
    <div class="row">
      ${money("loanRecommended", "Recommended amount (override)")}
      ${money("salaryThreshold", "Minimum salary")}
    </div>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    <${Notice}>${done}<//>
    ${editable
      ? html`<p class="row-actions"><button type="submit" disabled=${busy}>Calculate and save</button>
          ${saved && html`<button type="button" class="danger" disabled=${busy} onClick=${remove}>Delete the CAM</button>`}</p>`
      : html`<p class="muted">The CAM can be changed only by the credit roles while the loan is applied or under review.</p>`}
  </form>`;
}

export function CamCalculator({ loan, brandId, me }) {
  const state = useLoad(async () => {
    try {
      return { cam: await staff("GET", brandUrl(brandId, `loans/${loan.id}/cam`)) };
    } catch (e) {
      if (e && e.status === 404) return { cam: null };
      throw e;
    }
  }, [brandId, loan.id]);
  const editable = EDITABLE.includes(loan.status) && can(me, "cam.manage");
  return html`<${Loaded} state=${state} what="the CAM">
    ${(d) =>
      d &&
      html`${d.cam ? html`<${Result} cam=${d.cam} />` : html`<p class="muted">No CAM saved for this loan yet.</p>`}
        <${CamForm} key=${d.cam ? d.cam.updatedAt : "new"} loan=${loan} brandId=${brandId} saved=${d.cam}
          editable=${editable} onSaved=${(cam) => state.setData({ cam })} />`}
  <//>`;
}
