// The role queues (seed 000): credit executive, sanction manager, sanction head, loans ops (and the loans on hold),
// collection pre / overdue / post, and the unallocated pool. `/queues` lists those the signed-in role may open
// (`me.permissions`), with their counts; `/queues/:queue` is one queue with its filters, search and pages. The
// filters live in the hash query, so a queue view can be bookmarked and the back button works.
import { html, useState } from "/ui/vendor/preact-htm.js";
import { count, label, rupees, shortId, when } from "../lib/format.js";
import { Badge, brandUrl, can, ErrorNote, Loaded, Pager, staff, Table, useLoad, withQuery } from "../lib/ui.js";
import { Field, Select } from "../lib/forms.js";

/** Every queue: its route name, the API path under the brand, who may open it, the kind of row. */
export const QUEUES = [
  { name: "credit-executive", title: "Credit executive", api: "queues/credit-executive", perms: ["queue.credit_executive"], kind: "review",
    about: "Loans under review waiting for a credit executive (new, or sent back)." },
  { name: "sanction-manager", title: "Sanction manager", api: "queues/sanction-manager", perms: ["queue.sanction_manager"], kind: "review",
    about: "Loans a credit executive forwarded, waiting for a sanction manager." },
  { name: "sanction-head", title: "Sanction head", api: "queues/sanction-head", perms: ["queue.sanction_head"], kind: "review",
    about: "Loans a sanction manager approved, waiting for the sanction head's final approval." },
  { name: "loans-ops", title: "Loans ops", api: "queues/loans-ops", perms: ["queue.loans_ops"], kind: "ops",
    about: "Signed loans waiting for the money to be released, and transfers in flight." },
  { name: "needs-attention", title: "On hold", api: "queues/needs-attention", perms: ["queue.loans_ops"], kind: "held",
    about: "Loans on hold (NEEDS_ATTENTION): resume or reject them." },
  { name: "collection-pre", title: "Collection: pre-due", api: "collection/pre", perms: ["collections.pre"], kind: "collection",
    about: "Loans with an installment due soon and nothing overdue: reminder calls." },
  { name: "collection", title: "Collection: overdue", api: "collection", perms: ["collections.view"], kind: "collection",
    about: "Overdue loans below the escalation DPD." },
  { name: "collection-post", title: "Collection: post", api: "collection/post", perms: ["collections.view"], kind: "collection",
    about: "Escalated loans, at or past the escalation DPD." },
  { name: "unallocated", title: "Unallocated", api: "queues/unallocated", perms: ["queue.unallocated"], kind: "review",
    about: "Loans under review that nobody holds." },
];

/** The queues `me` may open, in order. */
export function queuesFor(me) {
  return QUEUES.filter((q) => can(me, ...q.perms));
}

const LOAN_FILTERS = ["search", "assignedTo", "minAmount", "maxAmount", "createdFrom", "createdTo", "sort"];
const COLLECTION_FILTERS = ["bucket", "dpdMin", "dpdMax", "agentId", "amountMin", "amountMax", "ptpDue"];
const AMOUNTS = new Set(["minAmount", "maxAmount", "amountMin", "amountMax"]);

/** The API query of a queue view: the hash query's filters (amounts typed in rupees sent in paise), page, limit. */
function apiQuery(queue, query) {
  const names = queue.kind === "collection" ? COLLECTION_FILTERS : LOAN_FILTERS;
  const out = { page: query.page || 1, limit: query.limit || 25 };
  for (const name of names) {
    const value = query[name];
    if (value === undefined || value === "") continue;
    out[name] = AMOUNTS.has(name) ? String(Math.round(Number(value) * 100)) : value;
  }
  return out;
}

function Assigned({ id, me }) {
  if (!id) return html`<span class="muted">pool</span>`;
  if (id === me.id) return html`<strong>me</strong>`;
  return html`<span title=${id}>${shortId(id)}</span>`;
}

function loanLink(id) {
  return html`<a href=${`#/loans/${id}`} title=${id} aria-label=${`Open loan ${id}`}>${shortId(id)}</a>`;
}

function columnsFor(queue, me) {
  const base = [
    { title: "Loan", render: (r) => loanLink(r.id) },
    { title: "Status", render: (r) => html`<${Badge} value=${r.status} />` },
    { title: "Amount", className: "num", render: (r) => rupees(r.amountPaise) },
    { title: "Tenure", className: "num", render: (r) => r.tenure },
  ];
  if (queue.kind === "review")
    return [
      ...base,
      { title: "Stage", render: (r) => label(r.reviewStage) },
      { title: "Bureau", className: "num", render: (r) => r.creditScore ?? "—" },
      { title: "Evaluation", className: "num", render: (r) => r.scoreOverride ? `${r.scoreOverride} (override)` : r.evaluationScore ?? "—" },
      { title: "Held by", render: (r) => html`<${Assigned} id=${r.assignedTo} me=${me} />` },
      { title: "Applied", render: (r) => when(r.createdAt) },
    ];
  if (queue.kind === "ops")
    return [
      ...base,
      { title: "Net disbursal", className: "num", render: (r) => rupees(r.netDisbursedPaise) },
      {
        title: "Beneficiary",
        render: (r) =>
          r.beneficiary
            ? html`${r.beneficiary.holderName || "—"}<br /><span class="muted">${r.beneficiary.accountMasked} · ${r.beneficiary.ifsc}</span>`
            : html`<span class="muted">no account on file</span>`,
      },
      {
        title: "Penny drop",
        render: (r) =>
          r.beneficiary
            ? html`<${Badge} value=${r.beneficiary.pennyDrop.status} />
                ${r.beneficiary.pennyDrop.nameMatchScore && html` name match ${r.beneficiary.pennyDrop.nameMatchScore}`}`
            : "—",
      },
      {
        title: "Latest transfer",
        render: (r) =>
          r.latestTransfer
            ? html`<${Badge} value=${r.latestTransfer.status} /> ${r.latestTransfer.utr || r.latestTransfer.failureReason || ""}`
            : html`<span class="muted">not released</span>`,
      },
    ];
  if (queue.kind === "held")
    return [
      ...base,
      { title: "Step", render: (r) => r.holdStep || "—" },
      { title: "Why", render: (r) => r.holdReason || "—" },
      { title: "Since", render: (r) => when(r.heldSince) },
    ];
  return [
    { title: "Loan", render: (r) => loanLink(r.loanId) },
    { title: "Customer", render: (r) => (r.customerName ? html`<a href=${`#/customers/${r.customerId}`}>${r.customerName}</a>` : "—") },
    { title: "Status", render: (r) => html`<${Badge} value=${r.status} />` },
    { title: "DPD", className: "num", render: (r) => r.dpd },
    { title: "Bucket", render: (r) => r.bucket || "—" },
    { title: "Overdue", className: "num", render: (r) => rupees(r.overduePaise) },
    { title: "Outstanding", className: "num", render: (r) => rupees(r.outstandingPrincipalPaise) },
    { title: "Next due", render: (r) => when(r.nextDueAt) },
    { title: "Promise", render: (r) => (r.ptpDate ? `${r.ptpDate} · ${rupees(r.ptpAmountPaise)}` : "—") },
    { title: "Collector", render: (r) => html`<${Assigned} id=${r.collectorId} me=${me} />` },
  ];
}

function Filters({ queue, query, onApply }) {
  const [f, setF] = useState({ ...query });
  const set = (name) => (value) => setF((old) => ({ ...old, [name]: value }));
  const submit = (event) => {
    event.preventDefault();
    onApply({ ...f, page: 1 });
  };
  const clear = () => {
    setF({});
    onApply({});
  };
  const fields =
    queue.kind === "collection"
      ? html`
          <${Field} label="Bucket" value=${f.bucket || ""} onInput=${set("bucket")} />
          <${Field} label="DPD from" type="number" min="0" value=${f.dpdMin || ""} onInput=${set("dpdMin")} />
          <${Field} label="DPD to" type="number" min="0" value=${f.dpdMax || ""} onInput=${set("dpdMax")} />
          <${Select} label="Collector" value=${f.agentId || ""} onChange=${set("agentId")}
            options=${[["", "Anyone"], ["me", "Me"], ["none", "Nobody"]]} />
          <${Field} label="Overdue from (₹)" type="number" min="0" step="0.01" value=${f.amountMin || ""} onInput=${set("amountMin")} />
          <${Field} label="Overdue to (₹)" type="number" min="0" step="0.01" value=${f.amountMax || ""} onInput=${set("amountMax")} />`
      : html`
          <${Field} label="Search" type="search" placeholder="Phone, PAN, name or loan id" value=${f.search || ""} onInput=${set("search")} />
          <${Select} label="Held by" value=${f.assignedTo || ""} onChange=${set("assignedTo")}
            options=${[["", "Anyone"], ["me", "Me"], ["none", "Nobody (pool)"]]} />
          <${Field} label="Amount from (₹)" type="number" min="0" step="0.01" value=${f.minAmount || ""} onInput=${set("minAmount")} />
          <${Field} label="Amount to (₹)" type="number" min="0" step="0.01" value=${f.maxAmount || ""} onInput=${set("maxAmount")} />
          <${Field} label="Applied from" type="date" value=${f.createdFrom || ""} onInput=${set("createdFrom")} />
          <${Field} label="Applied to" type="date" value=${f.createdTo || ""} onInput=${set("createdTo")} />
          <${Select} label="Order" value=${f.sort || "newest"} onChange=${set("sort")}
            options=${[["newest", "Newest first"], ["oldest", "Oldest first"], ["amount_desc", "Largest amount"], ["amount_asc", "Smallest amount"]]} />`;
  return html`<form class="filters" onSubmit=${submit} aria-label="Filters">
    ${fields}
    <div class="field actions">
      <button type="submit">Apply</button>
      <button type="button" class="secondary" onClick=${clear}>Clear</button>
    </div>
  </form>`;
}

function QueueView({ queue, me, brandId, query, navigate }) {
  const q = apiQuery(queue, query);
  const key = JSON.stringify(q);
  const state = useLoad(() => staff("GET", brandUrl(brandId, withQuery(queue.api, q))), [brandId, queue.name, key]);
  const go = (next) => navigate(withQuery(`/queues/${queue.name}`, next));
  const filterKey = JSON.stringify({ ...query, page: undefined });
  return html`<h1>${queue.title} queue</h1>
    <p class="muted">${queue.about}</p>
    <${Filters} key=${filterKey} queue=${queue} query=${query} onApply=${go} />
    <${Loaded} state=${state} what="the queue">
      ${(page) =>
        page &&
        html`<${Table} caption=${`${queue.title}: ${count(page.total)} loans`} columns=${columnsFor(queue, me)}
            rows=${page.items} rowKey=${(r) => r.id || r.loanId} empty="No loans in this queue match."
            rowProps=${(r) => ({ "data-loan-id": r.id || r.loanId })} />
          <${Pager} page=${page.page} limit=${page.limit} total=${page.total} onPage=${(n) => go({ ...query, page: n })} />`}
    <//>`;
}

function QueueCount({ queue, brandId }) {
  const state = useLoad(() => staff("GET", brandUrl(brandId, withQuery(queue.api, { limit: 1 }))), [brandId, queue.name]);
  if (state.error) return html`<span class="muted">—</span>`;
  return html`<span class="badge">${state.data ? count(state.data.total) : "…"}</span>`;
}

export default function Queues({ params, query, me, brandId, navigate }) {
  const mine = queuesFor(me);
  if (params.queue) {
    const queue = QUEUES.find((q) => q.name === params.queue);
    if (!queue) return html`<h1>Queues</h1><${ErrorNote} error=${`There is no queue named "${params.queue}".`} />`;
    if (!mine.includes(queue))
      return html`<h1>${queue.title} queue</h1>
        <${ErrorNote} error=${`Your role (${label(me.role)}) cannot open the ${queue.title.toLowerCase()} queue. Pick one of your queues.`} />
        <p><a href="#/queues">Your queues</a></p>`;
    return html`<nav class="queue-tabs" aria-label="Queues">
        ${mine.map((q) => html`<a href=${`#/queues/${q.name}`} aria-current=${q === queue ? "page" : undefined}>${q.title}</a>`)}
      </nav>
      <${QueueView} key=${queue.name} queue=${queue} me=${me} brandId=${brandId} query=${query} navigate=${navigate} />`;
  }
  return html`<h1>Your queues</h1>
    ${mine.length === 0 && html`<p class="muted">Your role (${label(me.role)}) has no work queue.</p>`}
    <ul class="queue-list">
      ${mine.map(
        (q) => html`<li class="card">
          <a href=${`#/queues/${q.name}`}><strong>${q.title}</strong></a> <${QueueCount} queue=${q} brandId=${brandId} />
          <div class="muted">${q.about}</div>
        </li>`
      )}
    </ul>`;
}
