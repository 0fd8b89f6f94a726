// The payment approval queue (api/partner/payments.py): offline payments recorded by staff, oldest first, filtered by
// status, mode, value date and loan; each with its proof, and approve / reject for the checkers
// (collections.manage). Maker-checker: whoever recorded a payment cannot decide it — the API refuses (403) and the
// row says so in words.
import { html, useState } from "/ui/vendor/preact-htm.js";
import { download } from "/ui/shared/api.js";
import { rupees, shortId, when } from "../lib/format.js";
import { Badge, brandUrl, can, explainAction, Loaded, Notice, Pager, staff, Table, useLoad, withQuery } from "../lib/ui.js";
import { Field, ReasonSelect, Select } from "../lib/forms.js";
import { MODES } from "./loan/offline.js";

const STATUSES = [["PENDING", "Waiting for approval"], ["APPROVED", "Approved"], ["REJECTED", "Rejected"], ["ALL", "All"]];
const FILTERS = ["status", "mode", "paidFrom", "paidTo", "loanId"];

function Filters({ query, onApply }) {
  const [f, setF] = useState({ status: "PENDING", ...query });
  const set = (name) => (value) => setF((old) => ({ ...old, [name]: value }));
  return html`<form class="filters" aria-label="Filters" onSubmit=${(e) => (e.preventDefault(), onApply({ ...f, page: 1 }))}>
    <${Select} label="Status" value=${f.status} onChange=${set("status")} options=${STATUSES} />
    <${Select} label="Mode" value=${f.mode || ""} onChange=${set("mode")} options=${[["", "Any"], ...MODES]} />
    <${Field} label="Paid from" type="date" value=${f.paidFrom || ""} onInput=${set("paidFrom")} />
    <${Field} label="Paid to" type="date" value=${f.paidTo || ""} onInput=${set("paidTo")} />
    <${Field} label="Loan id" value=${f.loanId || ""} onInput=${set("loanId")} />
    <div class="field actions"><button type="submit">Apply</button></div>
  </form>`;
}

function Proof({ row, brandId }) {
  const [error, setError] = useState(null);
  if (!row.hasProof) return html`<span class="muted">none attached</span>`;
  const ext = { "application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg" }[row.proofContentType] || "bin";
  const get = () =>
    download("staff", brandUrl(brandId, `payment/proof/${row.id}`), `proof-${row.id}.${ext}`).catch((e) => setError(explainAction(e)));
  return html`<button type="button" class="secondary small" onClick=${get}>Proof</button>
    ${error && html`<span class="error" role="alert">${error}</span>`}`;
}

function Decide({ row, brandId, me, onDecided }) {
  const [rejecting, setRejecting] = useState(false);
  const [reasonCode, setReasonCode] = useState("");
  const [reason, setReason] = useState("");
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  // a cooling-off exit whose exit closed since it was recorded (a repayment credited meanwhile): the API refuses it
  // naming `purpose`, and the checker may approve it as a prepayment instead
  const [exitClosed, setExitClosed] = useState(false);
  const act = async (what, asPrepayment = false) => {
    setError(null);
    setBusy(true);
    try {
      const body =
        what === "reject"
          ? { reasonCode: reasonCode || undefined, reason: reason.trim() || undefined }
          : asPrepayment
            ? { purpose: "PREPAYMENT" }
            : undefined;
      if (what === "reject" && !body.reasonCode && !body.reason) throw new Error("Choose a reason or write one to reject the payment.");
      const answer = await staff("POST", brandUrl(brandId, `payment/${what}/${row.id}`), body);
      onDecided(
        what === "approve"
          ? `Payment ${shortId(row.id)} approved: ${rupees(row.amountPaise)} credited ${answer.creditedAs === "CREDIT_BALANCE" ? "as credit balance" : "to the loan"}.`
          : `Payment ${shortId(row.id)} rejected.`
      );
    } catch (e) {
      setError(e && e.status ? explainAction(e) : e.message);
      if (what === "approve" && e && e.status === 409 && (e.fields || []).some((f) => f.field === "purpose")) setExitClosed(true);
    } finally {
      setBusy(false);
    }
  };
  const mine = row.recordedBy === me.id;
  return html`<div class="decide">
    ${mine && html`<div class="muted small">You recorded this payment.</div>`}
    <div class="row-actions">
      <button type="button" disabled=${busy} onClick=${() => act("approve")} aria-label=${`Approve payment ${row.reference}`}>Approve</button>
      ${exitClosed &&
      html`<button type="button" class="secondary" disabled=${busy} onClick=${() => act("approve", true)}>Approve as a prepayment</button>`}
      <button type="button" class="secondary" disabled=${busy} onClick=${() => setRejecting(!rejecting)}>Reject…</button>
    </div>
    ${rejecting &&
    html`<div class="reject-box">
      <${ReasonSelect} brandId=${brandId} appliesTo="PAYMENT_REJECTED" value=${reasonCode} onChange=${setReasonCode} />
      <${Field} label="Why" value=${reason} onInput=${setReason} maxlength="1000" />
      <button type="button" class="danger" disabled=${busy} onClick=${() => act("reject")}>Reject payment</button>
    </div>`}
    ${error && html`<p class="error" role="alert">${error}</p>`}
  </div>`;
}

export default function Payments({ query, me, brandId, navigate }) {
  const q = { status: "PENDING", page: 1, limit: 25 };
  for (const name of [...FILTERS, "page"]) if (query[name]) q[name] = query[name];
  const key = JSON.stringify(q);
  const state = useLoad(() => staff("GET", brandUrl(brandId, withQuery("payment/approval", q))), [brandId, key]);
  const [done, setDone] = useState(null);
  const go = (next) => navigate(withQuery("/payments/approval", next));
  const checker = can(me, "collections.manage");
  const columns = [
    { title: "Loan", render: (r) => html`<a href=${`#/loans/${r.loanId}`} title=${r.loanId}>${shortId(r.loanId)}</a>` },
    { title: "Customer", render: (r) => r.customerName || "—" },
    { title: "Amount", className: "num", render: (r) => rupees(r.amountPaise) },
    { title: "Paid on", render: (r) => r.paidOn },
    {
      title: "Mode · reference",
      render: (r) =>
        html`${r.mode}<br /><code>${r.reference}</code>${r.purpose === "COOLING_OFF" && html`<br /><strong>Cooling-off exit</strong>`}`,
    },
    { title: "Proof", render: (r) => html`<${Proof} row=${r} brandId=${brandId} />` },
    { title: "Recorded", render: (r) => html`${r.recordedByEmail || shortId(r.recordedBy)}<br /><span class="muted">${when(r.recordedAt)}</span>` },
    {
      title: "Status",
      render: (r) =>
        html`<${Badge} value=${r.status} />${r.decidedByEmail ? html`<br /><span class="muted">by ${r.decidedByEmail}</span>` : ""}${r.reason ? html`<br />${r.reason}` : ""}`,
    },
  ];
  if (checker)
    columns.push({
      title: "Decision",
      render: (r) =>
        r.status === "PENDING"
          ? html`<${Decide} row=${r} brandId=${brandId} me=${me} onDecided=${(msg) => (setDone(msg), state.reload())} />`
          : "—",
    });
  return html`<h1>Payment approval</h1>
    <p class="muted">Offline payments recorded by staff wait here for a second person to approve or reject them.
      ${checker ? "" : " Your role can see this queue but not decide."}</p>
    <${Filters} key=${key} query=${query} onApply=${go} />
    <${Notice}>${done}<//>
    <${Loaded} state=${state} what="the payments">
      ${(page) =>
        page &&
        html`<${Table} caption=${`${page.total} payments`} columns=${columns} rows=${page.items} rowKey=${(r) => r.id}
            empty="No payment matches." rowProps=${(r) => ({ "data-payment-id": r.id, "data-reference": r.reference })} />
          <${Pager} page=${page.page} limit=${page.limit} total=${page.total} onPage=${(n) => go({ ...q, page: n })} />`}
    <//>`;
}
