// The three collection queues with their filters and pages (docs/collections.md, "Buckets and queues").
import { html, useState } from "/ui/vendor/preact-htm.js";
import { rupees, when } from "/ui/shared/api.js";
import { Alert, Field, Heading, Pager, Table, brandPath, qs, staffApi, toPaise, useLoad } from "../../ops/ui.js";
import Closed, { CLOSED } from "./closed.js";

export const QUEUES = [
  ["pre", "Pre-collection", "collection/pre"],
  ["due", "Collection", "collection"],
  ["post", "Post-collection", "collection/post"],
];

const EMPTY = { bucket: "", dpdMin: "", dpdMax: "", agentId: "", ptpDue: "", amountMin: "", amountMax: "" };

export default function Queue({ query, me, brandId, navigate }) {
  const closed = CLOSED.find((c) => c[0] === query.queue);
  if (closed) {
    return html`<section>
      <${Heading} title="Collections">Loans that have ended, with their closure certificates.</${Heading}>
      <${Tabs} current=${closed[0]} />
      <${Closed} kind=${closed[0]} brandId=${brandId} me=${me} />
    </section>`;
  }
  return html`<${Open} query=${query} me=${me} brandId=${brandId} navigate=${navigate} />`;
}

function Tabs({ current }) {
  return html`<nav class="ops-tabs" aria-label="Collection queues">
    ${[...QUEUES, ...CLOSED].map(
      (q) => html`<a href=${`#/collections?queue=${q[0]}`} aria-current=${q[0] === current ? "page" : undefined}>${q[1]}</a>`
    )}
  </nav>`;
}

function Open({ query, me, brandId, navigate }) {
  const queue = QUEUES.find((q) => q[0] === query.queue) || QUEUES[0];
  const [form, setForm] = useState(EMPTY);
  const [filters, setFilters] = useState(EMPTY);
  const [page, setPage] = useState(1);
  const [formError, setFormError] = useState(null);
  const set = (key) => (value) => setForm({ ...form, [key]: value });
  const rows = useLoad(
    () =>
      staffApi(
        "GET",
        brandPath(
          brandId,
          queue[2] +
            qs({
              ...filters,
              amountMin: toPaise(filters.amountMin),
              amountMax: toPaise(filters.amountMax),
              page,
              limit: 25,
            })
        )
      ),
    [brandId, queue[0], filters, page]
  );
  const apply = (event) => {
    event.preventDefault();
    if (Number.isNaN(toPaise(form.amountMin)) || Number.isNaN(toPaise(form.amountMax))) {
      setFormError("Please correct: amounts are in rupees, e.g. 1500 or 1500.50");
      return;
    }
    setFormError(null);
    setPage(1);
    setFilters({ ...form });
  };
  const columns = [
    { label: "Customer", render: (r) => html`<a href=${`#/customers/${r.customerId}`}>${r.customerName || "—"}</a>` },
    { label: "Pincode", key: "pincode" },
    { label: "Status", key: "status" },
    { label: "DPD", key: "dpd", num: true },
    { label: "Bucket", key: "bucket" },
    { label: "Overdue", render: (r) => rupees(r.overduePaise), num: true },
    { label: "Next due", render: (r) => when(r.nextDueAt) },
    { label: "Promise", render: (r) => (r.ptpDate ? `${r.ptpDate} · ${rupees(r.ptpAmountPaise)}` : "—") },
    {
      label: "Collector",
      render: (r) =>
        r.collectorId
          ? html`<a href=${`#/collectors/${r.collectorId}`} aria-label=${`Collector profile of ${r.collectorId === me.id ? "me" : r.collectorId}`}>
              ${r.collectorId === me.id ? "me" : r.collectorId.slice(0, 8)}</a>`
          : "nobody",
    },
    {
      label: "Work",
      render: (r) =>
        html`<button type="button" aria-label=${`Work the loan of ${r.customerName || r.loanId}`}
          onClick=${() => navigate(`/collections?loan=${r.loanId}`)}>Work</button>`,
    },
  ];
  return html`<section>
    <${Heading} title="Collections">Loans in arrears or about to fall due. Pick a loan to call, record a follow-up,
      send a payment link or decide on it.</${Heading}>
    <${Tabs} current=${queue[0]} />
    <form class="card ops-filters" onSubmit=${apply} aria-label="Queue filters">
      <${Field} id="cq-bucket" label="Bucket" value=${form.bucket} onInput=${set("bucket")} placeholder="e.g. 1-30" />
      <${Field} id="cq-dpdmin" label="DPD from" type="number" min="0" value=${form.dpdMin} onInput=${set("dpdMin")} />
      <${Field} id="cq-dpdmax" label="DPD to" type="number" min="0" value=${form.dpdMax} onInput=${set("dpdMax")} />
      <${Field} id="cq-agent" label="Collector" value=${form.agentId} onInput=${set("agentId")}
        options=${[["", "anyone"], ["me", "me"], ["none", "nobody"]]} />
      <${Field} id="cq-ptp" label="Promise due by" type="date" value=${form.ptpDue} onInput=${set("ptpDue")} />
      <${Field} id="cq-amin" label="Overdue from (₹)" inputmode="decimal" value=${form.amountMin} onInput=${set("amountMin")} />
      <${Field} id="cq-amax" label="Overdue to (₹)" inputmode="decimal" value=${form.amountMax} onInput=${set("amountMax")} />
      <div class="ops-actions"><button type="submit">Apply filters</button>
        <button type="button" class="secondary" onClick=${() => (setForm(EMPTY), setFilters(EMPTY), setPage(1))}>Clear</button></div>
    </form>
    <${Alert} error=${formError || rows.error} />
    ${rows.loading && !rows.data ? html`<p class="muted">Loading…</p>` : null}
    ${rows.data &&
    html`<${Table} caption=${queue[1]} columns=${columns} rows=${rows.data.items} rowKey=${(r) => r.loanId}
        empty="No loan in this queue matches." />
      <${Pager} page=${rows.data.page} limit=${rows.data.limit} total=${rows.data.total} onPage=${setPage} />`}
  </section>`;
}
