// Repayment: the schedule (each installment's split, penal, paid and due), the payments credited with their
// receipts, every gateway attempt, the offline payments recorded (and their maker-checker state), the credit
// balance, and today's foreclosure quote.
import { html } from "/ui/vendor/preact-htm.js";
import { download } from "/ui/shared/api.js";
import { label, rupees, shortId, when } from "../../lib/format.js";
import { Badge, brandUrl, Loaded, Section, staff, Table, useLoad } from "../../lib/ui.js";

const REPAYING = ["DISBURSED", "OVERDUE", "OVERPAID"];

function Schedule({ loan }) {
  const rows = loan.schedule || [];
  return html`<${Table}
    rows=${rows}
    rowKey=${(r) => r.installmentNo}
    empty="No schedule until the loan is disbursed."
    columns=${[
      { title: "#", className: "num", render: (r) => r.installmentNo },
      { title: "Due", render: (r) => when(r.dueAt) },
      { title: "Principal", className: "num", render: (r) => rupees(r.principalPaise) },
      { title: "Interest", className: "num", render: (r) => rupees(r.interestPaise) },
      { title: "EMI", className: "num", render: (r) => rupees(r.totalPaise) },
      { title: "Penal", className: "num", render: (r) => rupees(r.penalPaise) },
      { title: "Paid", className: "num", render: (r) => rupees(r.paidPaise) },
      { title: "Still due", className: "num", render: (r) => rupees(r.duePaise) },
      { title: "Balance after", className: "num", render: (r) => rupees(r.balanceAfterPaise) },
      { title: "Status", render: (r) => html`<${Badge} value=${r.status} />` },
    ]}
  />`;
}

/** A part of a credited payment's allocation, paise. */
function part(payment, name) {
  return Number((payment.allocation || {})[`${name}Paise`] || 0);
}

function Receipt({ brandId, loanId, payment }) {
  const id = payment.id || payment.paymentId;
  const get = () => download("staff", brandUrl(brandId, `loans/${loanId}/receipts/${id}`), `receipt-${id}.pdf`).catch(() => {});
  return html`<button type="button" class="secondary small" onClick=${get}>Receipt</button>`;
}

function Payments({ loan, brandId }) {
  const state = useLoad(() => staff("GET", brandUrl(brandId, `loans/${loan.id}/payments`)), [brandId, loan.id, loan.totalCollectedPaise]);
  return html`<${Loaded} state=${state} what="the payments">
    ${(p) =>
      p &&
      html`<p>Credit balance owed to the borrower: <strong>${rupees(p.creditBalancePaise)}</strong></p>
        <${Table}
          caption="Credited"
          rows=${p.payments}
          empty="Nothing credited yet."
          columns=${[
            { title: "When", render: (r) => when(r.collectedAt) },
            { title: "Gateway", render: (r) => r.gateway },
            { title: "Mode · reference", render: (r) => [r.mode, r.reference].filter(Boolean).join(" · ") || "—" },
            { title: "Amount", className: "num", render: (r) => rupees(r.amountPaise) },
            { title: "Principal", className: "num", render: (r) => rupees(part(r, "principal") + part(r, "advance")) },
            { title: "Interest", className: "num", render: (r) => rupees(part(r, "interest")) },
            { title: "Fees · penal", className: "num", render: (r) => rupees(part(r, "fees") + part(r, "penal")) },
            { title: "Excess", className: "num", render: (r) => rupees(part(r, "excess")) },
            {
              title: "Receipt",
              render: (r) =>
                r.receiptNo
                  ? html`${r.receiptNo} ${r.receiptReady && html`<${Receipt} brandId=${brandId} loanId=${loan.id} payment=${r} />`}`
                  : "—",
            },
          ]}
        />
        <${Table}
          caption="Offline payments"
          rows=${p.offline}
          empty="No offline payment recorded."
          columns=${[
            { title: "Id", render: (r) => html`<span title=${r.id}>${shortId(r.id)}</span>` },
            { title: "Paid on", render: (r) => r.paidOn },
            {
              title: "Mode · reference",
              render: (r) => `${r.mode} · ${r.reference}${r.purpose === "COOLING_OFF" ? " · cooling-off exit" : ""}`,
            },
            { title: "Amount", className: "num", render: (r) => rupees(r.amountPaise) },
            { title: "Status", render: (r) => html`<${Badge} value=${r.status} />${r.reason ? ` ${r.reason}` : ""}` },
            { title: "Recorded by", render: (r) => r.recordedByEmail || shortId(r.recordedBy) },
            { title: "Decided by", render: (r) => r.decidedByEmail || "—" },
          ]}
        />
        <${Table}
          caption="Gateway attempts"
          rows=${p.attempts}
          empty="No gateway attempt."
          columns=${[
            { title: "When", render: (r) => when(r.at) },
            { title: "Gateway", render: (r) => r.gateway },
            { title: "Method", render: (r) => r.method || "—" },
            { title: "Amount", className: "num", render: (r) => rupees(r.amountPaise) },
            { title: "Status", render: (r) => html`<${Badge} value=${r.status} />` },
            { title: "Why", render: (r) => r.failureReason || "—" },
          ]}
        />`}
  <//>`;
}

function Foreclosure({ loan, brandId }) {
  const state = useLoad(() => staff("GET", brandUrl(brandId, `loans/${loan.id}/foreclosure-quote`)), [brandId, loan.id]);
  return html`<${Loaded} state=${state} what="the quote">
    ${(q) =>
      q &&
      html`<dl class="facts">
        ${Object.entries(q)
          .filter(([, v]) => typeof v !== "object")
          .map(([k, v]) => html`<div><dt>${label(k.replace(/Paise$/, "").replace(/([A-Z])/g, "_$1"))}</dt>
            <dd>${/Paise$/.test(k) ? rupees(v) : String(v)}</dd></div>`)}
      </dl>`}
  <//>`;
}

export function Repayment({ loan, brandId }) {
  return html`<${Section} title="Schedule"><${Schedule} loan=${loan} /><//>
    <${Section} title="Payments"><${Payments} loan=${loan} brandId=${brandId} /><//>
    ${REPAYING.includes(loan.status) && html`<${Section} title="Foreclosure quote (today)"><${Foreclosure} loan=${loan} brandId=${brandId} /><//>`}`;
}
