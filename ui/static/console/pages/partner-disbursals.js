// Partner disbursals (docs/partner-lenders.md, "The partner's disbursal and its SLA"): the cases of loans booked
// with a partner lender whose partner has not confirmed its disbursal (UTR) yet, most overdue first — the loan, the
// partner, its DISBURSAL SLA, how long past it, the partner's status answers, the re-send of its disbursal request
// and the escalation (GET .../partner-lenders/disbursals). With a loan id (#/loans/<id>/partner-disbursal): that
// loan's case, confirmed or not (GET .../partner-lenders/loans/<id>, its `disbursal`). Read-only.
import { html } from "/ui/vendor/preact-htm.js";
import { rupees, shortId, when } from "../lib/format.js";
import { Badge, brandUrl, Facts, Loaded, Section, staff, Table, useLoad } from "../lib/ui.js";

/** Seconds as "2 h 5 min" (or "—" for none). */
function span(seconds) {
  if (!seconds) return "—";
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  return h ? `${h} h ${m} min` : m ? `${m} min` : `${seconds} s`;
}

function answers(log) {
  return (log || []).map((e) => e.status).join(" → ") || "not asked yet";
}

function Resend({ resend }) {
  if (!resend) return html`<span class="muted">none</span>`;
  return html`<span data-resend=${resend.status}><${Badge} value=${resend.status} text=${`re-sent: ${resend.status.toLowerCase()}`} />
    <span class="muted"> ${resend.reason === "NOT_FOUND" ? "partner had no disbursal" : "partner said failed"}</span></span>`;
}

const COLUMNS = [
  { title: "Loan", render: (c) => html`<a href=${`#/loans/${c.loanId}/partner-disbursal`}>${shortId(c.loanId)}</a>` },
  { title: "Partner", render: (c) => c.partnerName },
  { title: "State", render: (c) => html`<${Badge} value=${c.state} />` },
  { title: "Amount", render: (c) => rupees(c.amount) },
  { title: "SLA", render: (c) => span(c.slaSeconds) },
  { title: "Overdue by", render: (c) => html`<span data-overdue=${c.overdueSeconds}>${span(c.overdueSeconds)}</span>` },
  { title: "Status answers", render: (c) => html`<span data-answers>${answers(c.checkLog)}</span>` },
  { title: "Re-send", render: (c) => html`<${Resend} resend=${c.resend} />` },
  { title: "Escalated", render: (c) => (c.escalatedAt ? when(c.escalatedAt) : "no") },
];

function Log({ log }) {
  return html`<${Table}
    caption="The partner's answers and the re-send, oldest first"
    rows=${log}
    empty="The partner has not been asked yet."
    columns=${[
      { title: "When", render: (e) => when(e.at) },
      { title: "Answer", render: (e) => html`<${Badge} value=${e.status} />` },
      { title: "UTR", render: (e) => e.utr || "—" },
      { title: "Detail", render: (e) => e.detail || (e.callback ? `callback ${e.callback}` : e.resend ? `reference ${e.resend}` : "—") },
    ]}
  />`;
}

function LoanCase({ loanId, brandId }) {
  const state = useLoad(() => staff("GET", brandUrl(brandId, `partner-lenders/loans/${loanId}`)), [brandId, loanId]);
  return html`<p><a href=${`#/loans/${loanId}`}>← Back to the loan</a></p>
    <h1>Partner disbursal of loan ${shortId(loanId)}</h1>
    <${Loaded} state=${state} what="the partner disbursal">
      ${(r) => {
        const c = r && r.disbursal;
        if (!c) return html`<p class="muted" data-no-case>This loan has no partner disbursal case (not booked with a partner, or not disbursed yet).</p>`;
        return html`<${Section} title=${`${c.partnerCode}: ${c.state.toLowerCase()}`} id="partner-disbursal-case">
            <${Facts}
              items=${[
                ["State", html`<${Badge} value=${c.state} />`],
                ["Partner", c.partnerCode],
                ["Partner's reference", c.partnerReference],
                ["Amount", rupees(c.amount)],
                ["Disbursed", when(c.disbursedAt)],
                ["SLA", span(c.slaSeconds)],
                ["Due", when(c.dueAt)],
                ["UTR", c.utr],
                ["Confirmed", c.confirmedAt ? `${when(c.confirmedAt)} (${c.confirmedVia})` : "not yet"],
                ["Breached", c.breached ? when(c.breachedAt) : "no"],
                ["Escalated", c.escalatedAt ? when(c.escalatedAt) : "no"],
                ["Next check", c.nextCheckAt ? when(c.nextCheckAt) : "—"],
                ["Re-send", html`<${Resend} resend=${c.resend} />`],
              ]}
            />
            <${Log} log=${c.checkLog} />
          <//>`;
      }}
    <//>`;
}

export default function PartnerDisbursals({ params, brandId }) {
  if (params.loanId) return html`<${LoanCase} loanId=${params.loanId} brandId=${brandId} />`;
  const state = useLoad(() => staff("GET", brandUrl(brandId, "partner-lenders/disbursals")), [brandId]);
  return html`<h1>Partner disbursals</h1>
    <p class="muted">Loans booked with a partner lender whose partner has not confirmed its disbursal (UTR) yet, most
      overdue first. Past the partner's SLA its status API is asked; a disbursal it says failed, or does not have, is
      re-sent once; one still unconfirmed after its checks is escalated to the admins.</p>
    <${Loaded} state=${state} what="the open partner disbursals">
      ${(rows) => html`<${Table} columns=${COLUMNS} rows=${rows} rowKey=${(c) => c.caseId} empty="No partner disbursal is open."
        rowProps=${(c) => ({ "data-case": c.loanId })} />`}
    <//>`;
}
