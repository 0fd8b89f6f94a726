// Customers: the brand's customers with filters, search and pages; each opens its file (#/customers/<id>).
import { html, useState } from "/ui/vendor/preact-htm.js";
import { when } from "/ui/shared/api.js";
import { Alert, Field, Heading, Pager, Table, brandPath, qs, staffApi, useLoad, useOpsStyles } from "../ops/ui.js";

const EMPTY = { search: "", status: "", kycState: "", assignedTo: "", createdFrom: "", createdTo: "" };

export default function Customers({ query, brandId, navigate }) {
  useOpsStyles();
  const [form, setForm] = useState({ ...EMPTY, search: query.search || "" });
  const [filters, setFilters] = useState({ ...EMPTY, search: query.search || "" });
  const [page, setPage] = useState(1);
  const [unallocated, setUnallocated] = useState(false);
  const set = (key) => (value) => setForm({ ...form, [key]: value });
  const list = useLoad(
    () =>
      staffApi("GET", brandPath(brandId, `customers${unallocated ? "/unallocated" : ""}${qs({ ...filters, page, limit: 25 })}`)),
    [brandId, filters, page, unallocated]
  );
  const apply = (event) => {
    event.preventDefault();
    setPage(1);
    setFilters({ ...form });
  };
  const columns = [
    { label: "Name", render: (c) => html`<a href=${`#/customers/${c.id}`}>${c.fullName || "(no name yet)"}</a>` },
    { label: "Phone", key: "phone" },
    { label: "PAN", key: "panMasked" },
    { label: "KYC", key: "kycState" },
    { label: "Onboarding", key: "onboardingStep" },
    { label: "Status", key: "status" },
    { label: "Holder", render: (c) => (c.assignedTo ? c.assignedTo.slice(0, 8) : "nobody") },
    { label: "Signed up", render: (c) => when(c.createdAt) },
  ];
  return html`<section>
    <${Heading} title="Customers">Search by phone, PAN, e-mail, name or customer id; open a customer for their file.</${Heading}>
    <form class="card ops-filters" onSubmit=${apply} aria-label="Customer filters">
      <${Field} id="cu-search" label="Search" type="search" value=${form.search} onInput=${set("search")} />
      <${Field} id="cu-status" label="Status" value=${form.status} onInput=${set("status")}
        options=${[["", "any"], "ACTIVE", "BLOCKED", "SUSPENDED"]} />
      <${Field} id="cu-kyc" label="KYC" value=${form.kycState} onInput=${set("kycState")}
        options=${[["", "any"], "VERIFIED", "PARTIAL", "PENDING"]} />
      <${Field} id="cu-holder" label="Holder" value=${form.assignedTo} onInput=${set("assignedTo")}
        options=${[["", "anyone"], ["me", "me"], ["none", "nobody"]]} />
      <${Field} id="cu-from" label="Signed up from" type="date" value=${form.createdFrom} onInput=${set("createdFrom")} />
      <${Field} id="cu-to" label="Signed up to" type="date" value=${form.createdTo} onInput=${set("createdTo")} />
      <${Field} id="cu-unalloc" type="checkbox" label="Unallocated only" value=${unallocated}
        onInput=${(v) => (setUnallocated(v), setPage(1))} />
      <div class="ops-actions"><button type="submit">Apply</button>
        <button type="button" class="secondary" onClick=${() => (setForm(EMPTY), setFilters(EMPTY), setPage(1))}>Clear</button></div>
    </form>
    <${Alert} error=${list.error} />
    ${list.data &&
    html`<${Table} caption="Customers" columns=${columns} rows=${list.data.items} rowKey=${(c) => c.id} empty="No customer matches." />
      <${Pager} label="Customer pages" page=${list.data.page} limit=${list.data.limit} total=${list.data.total} onPage=${setPage} />`}
  </section>`;
}
