// The loan's header: status, amounts, scores, who holds it, the customer, and the link to its workflow in the
// Temporal UI.
import { html } from "/ui/vendor/preact-htm.js";
import { label, rate, rupees, shortId, when } from "../../lib/format.js";
import { Badge, brandUrl, can, Facts, staff, useLoad } from "../../lib/ui.js";

/** The Temporal UI's port when the page names neither the UI nor its port: `los up`'s default, 8233. */
export const TEMPORAL_UI_PORT = 8233;

/** The Temporal UI's base URL: `<meta name="los-temporal-ui" content="https://...">` when set (the API fills it from
 * LOS_TEMPORAL_UI_URL when it names another host), else this host on `<meta name="los-temporal-ui-port">` (filled
 * from `los up`'s LOS_TEMPORAL_UI_PORT) or TEMPORAL_UI_PORT: the embedded dev server of `los up`. */
export function temporalUi() {
  const content = (name) => document.querySelector(`meta[name="${name}"]`)?.getAttribute("content") || "";
  const configured = content("los-temporal-ui");
  if (configured) return configured.replace(/\/$/, "");
  const port = Number(content("los-temporal-ui-port")) || TEMPORAL_UI_PORT;
  return `${location.protocol}//${location.hostname}:${port}`;
}

/** The page of a loan's workflow in the Temporal UI (workflow id `loan-<loanId>`, namespace default). */
export function workflowUrl(loan) {
  const id = loan.workflowId || `loan-${loan.id}`;
  return `${temporalUi()}/namespaces/default/workflows/${encodeURIComponent(id)}`;
}

function Customer({ brandId, customerId, me }) {
  const state = useLoad(
    () => (can(me, "customers.view") ? staff("GET", brandUrl(brandId, `customers/${customerId}`)) : null),
    [brandId, customerId]
  );
  const c = state.data;
  return html`<a href=${`#/customers/${customerId}`}>${c ? c.fullName || c.phone : shortId(customerId)}</a>
    ${c && html` <span class="muted">${c.phone} · PAN ${c.panMasked || "—"}</span>`}`;
}

export function LoanHeader({ loan, me, brandId, onReload }) {
  const held = loan.assignedTo ? (loan.assignedTo === me.id ? "me" : shortId(loan.assignedTo)) : "nobody (pool)";
  return html`<header class="loan-header card">
    <div class="section-head">
      <h1>Loan <span title=${loan.id}>${shortId(loan.id)}</span> <${Badge} value=${loan.status} /></h1>
      <div class="row-actions">
        <button class="secondary" onClick=${onReload}>Reload</button>
        <a class="button secondary" href=${workflowUrl(loan)} target="_blank" rel="noopener">Workflow in Temporal UI</a>
      </div>
    </div>
    ${loan.statusReason && html`<p class="muted" data-status-reason>${loan.statusReason}</p>`}
    <${Facts}
      items=${[
        ["Customer", html`<${Customer} brandId=${brandId} customerId=${loan.customerId} me=${me} />`],
        ["Amount", rupees(loan.amountPaise)],
        ["Tenure", `${loan.tenure} installments`],
        ["Rate", rate(loan.annualRateBps)],
        ["Bureau score", loan.creditScore],
        ["Evaluation", loan.scoreOverride ? `${loan.scoreOverride} (override of ${loan.evaluationScore})` : loan.evaluationScore],
        ["Review stage", loan.reviewStage ? label(loan.reviewStage) : null],
        ["Held by", held],
        ["Outstanding principal", rupees(loan.outstandingPrincipalPaise)],
        ["Collected", rupees(loan.totalCollectedPaise)],
        ["DPD · class", `${loan.dpd} · ${loan.assetClass}`],
        ["Disbursed", loan.disbursedAt ? `${when(loan.disbursedAt)} · UTR ${loan.disbursalUtr || "—"}` : null],
        ["Next due", loan.nextDueAt ? when(loan.nextDueAt) : null],
        ["Closed as", loan.closedAs ? label(loan.closedAs) : undefined],
        ["Applied", when(loan.createdAt)],
        ["Loan id", html`<code>${loan.id}</code>`],
      ]}
    />
    ${loan.review && loan.review.sanctionConditions &&
    html`<p><strong>Sanction conditions:</strong> ${loan.review.sanctionConditions}</p>`}
  </header>`;
}
