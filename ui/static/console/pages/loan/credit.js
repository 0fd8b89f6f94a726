// The credit file (GET loans/{id}/review): the bureau report (accounts, DPD, enquiries), the bank-statement
// analysis, every automatic decision rule by rule (KYC, BRE, evaluation, allocation), the KYC provider checks with
// the vendors tried, and the review's own state (score override, conditions).
import { html } from "/ui/vendor/preact-htm.js";
import { label, rupees, when } from "../../lib/format.js";
import { Badge, brandUrl, Facts, Json, Loaded, Section, staff, Table, useLoad } from "../../lib/ui.js";

const STAGES = { KYC: "KYC", BRE: "Business rules (BRE)", EVALUATION: "Evaluation", ALLOCATION: "Allocation" };
const MONEY_KEYS = /(salary|emi|balance|amount|income|obligation)/i;

/** A bank-statement or bureau figure: amounts (paise) as rupees, counts as they are. */
function figure(key, value) {
  if (typeof value === "number" && MONEY_KEYS.test(key) && !/credits$|count|months|bounces/i.test(key)) return rupees(value);
  if (value === null || value === undefined) return "—";
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

/** A bureau amount (rupees, as the bureau reports them). */
function inr(value) {
  return value === null || value === undefined || value === "" ? "—" : rupees(Math.round(Number(value) * 100));
}

function Result({ d }) {
  if (d.skipped === true) return html`<span class="badge">skipped</span>`;
  if (d.passed === true) return html`<${Badge} value="PASS" text="Pass" />`;
  if (d.passed === false) return html`<${Badge} value="FAIL" text=${d.flag ? label(d.flag) : "Fail"} />`;
  if (d.status || d.outcome) return html`<${Badge} value=${d.status || d.outcome} />`;
  return "—";
}

const RULE_COLUMNS = [
  { title: "Rule", render: (d) => d.rule || d.item || d.step || d.metric || "—" },
  { title: "Result", render: (d) => html`<${Result} d=${d} />` },
  { title: "Observed", render: (d) => (d.observed !== undefined && d.observed !== null ? String(d.observed) : "—") },
  {
    title: "Limit",
    render: (d) =>
      d.limit !== undefined && d.limit !== null ? String(d.limit) : d.threshold !== undefined ? `${d.comparator || ""} ${d.threshold}` : "—",
  },
  { title: "Points", render: (d) => (d.points !== undefined ? `${d.points} of ${d.weight}` : "—") },
  {
    title: "Why",
    render: (d) =>
      d.reason ||
      (d.facts
        ? Object.entries(d.facts)
            .map(([k, v]) => `${k.replace(/_/g, " ")}: ${v}`)
            .join(", ")
        : "—"),
  },
];

function Decision({ d }) {
  const rows = Array.isArray(d.details) ? d.details.filter((x) => x && typeof x === "object") : [];
  return html`<div class="decision" data-stage=${d.stage}>
    <h3>${STAGES[d.stage] || label(d.stage)} <${Badge} value=${d.outcome} />${d.score ? html` <span class="muted">score ${d.score}</span>` : ""}
      <span class="muted"> · ${when(d.at)}</span></h3>
    ${rows.length ? html`<${Table} columns=${RULE_COLUMNS} rows=${rows} />` : html`<p class="muted">No rule details.</p>`}
  </div>`;
}

function Bureau({ bureau }) {
  if (!bureau) return html`<p class="muted">No bureau report yet.</p>`;
  const report = bureau.report || {};
  const accounts = Array.isArray(report.accounts) ? report.accounts : [];
  return html`<${Facts}
      items=${[
        ["Bureau", label(bureau.provider)],
        ["Score", bureau.score],
        ["Pulled", when(bureau.pulledAt)],
        ["Reused from loan", bureau.reusedFrom || undefined],
        ["Active loans", report.active_loans],
        ["Enquiries (30 days)", report.enquiries_30d],
        ["Report id", report.report_id],
      ]}
    />
    <${Table}
      caption="Accounts"
      rows=${accounts}
      empty="No accounts on the report."
      columns=${[
        { title: "Type", render: (a) => label(a.type) },
        { title: "Lender", render: (a) => a.member || "—" },
        { title: "Status", render: (a) => label(a.status) },
        { title: "Opened", render: (a) => a.opened_on || "—" },
        { title: "Sanctioned", className: "num", render: (a) => inr(a.sanctioned_amount) },
        { title: "Balance", className: "num", render: (a) => inr(a.current_balance) },
        { title: "Overdue", className: "num", render: (a) => inr(a.overdue_amount) },
        { title: "Worst DPD (12 m)", className: "num", render: (a) => a.dpd_max_12m ?? "—" },
        { title: "DPD by month", render: (a) => (Array.isArray(a.dpd_history) ? a.dpd_history.join(" ") : "—") },
      ]}
    />
    <details><summary>The bureau's report as sent</summary><${Json} value=${report} /></details>`;
}

function BankStatement({ bsa }) {
  if (!bsa) return html`<p class="muted">No bank-statement analysis.</p>`;
  const summary = bsa.summary || {};
  return html`<${Facts}
    items=${[
      ["Source", bsa.source === "AA" ? "Account aggregator" : "Uploaded statement"],
      ["Analysed by", label(bsa.provider)],
      ["Status", html`<${Badge} value=${bsa.status} />`],
      ...Object.entries(summary).map(([k, v]) => [label(k), figure(k, v)]),
    ]}
  />`;
}

const CHECK_COLUMNS = [
  { title: "Check", render: (c) => label(c.kind) },
  { title: "Provider", render: (c) => c.provider },
  { title: "Outcome", render: (c) => html`<${Badge} value=${c.outcome} />` },
  { title: "Score", className: "num", render: (c) => c.score ?? "—" },
  {
    title: "Vendors tried",
    render: (c) => (c.attempts || []).map((a) => `${a.vendor}: ${a.outcome}${a.error ? ` (${a.error})` : ""}`).join("; ") || "—",
  },
  { title: "When", render: (c) => when(c.at) },
];

export function CreditFile({ loan, brandId }) {
  const state = useLoad(() => staff("GET", brandUrl(brandId, `loans/${loan.id}/review`)), [brandId, loan.id, loan.status]);
  return html`<${Loaded} state=${state} what="the credit file">
    ${(r) =>
      r &&
      html`<${Section} title="Review">
          <${Facts}
            items=${[
              ["Stage", r.reviewStage ? label(r.reviewStage) : "—"],
              ["Evaluation score", r.evaluationScore],
              ["Score override", r.scoreOverride ? `${r.scoreOverride} — ${r.scoreOverrideReason || ""}` : "—"],
              ["Sanction conditions", r.sanctionConditions || "—"],
              ["CAM", r.cam ? "saved (see the CAM tab)" : "not saved"],
            ]}
          />
        <//>
        <${Section} title="Bureau report"><${Bureau} bureau=${r.bureau} /><//>
        <${Section} title="Bank-statement analysis"><${BankStatement} bsa=${r.bankStatement} /><//>
        <${Section} title="Decisions, rule by rule">
          ${r.decisions.length ? r.decisions.map((d) => html`<${Decision} d=${d} />`) : html`<p class="muted">No automatic decision yet.</p>`}
        <//>
        <${Section} title="KYC checks">
          <${Table} columns=${CHECK_COLUMNS} rows=${r.checks} empty="No provider checks yet." />
        <//>`}
  <//>`;
}
