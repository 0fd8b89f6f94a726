// The audit log: who did what to which record, when, with what it was before and after; filters by actor,
// action (a prefix such as "settings."), record type and id, and period.
import { html, useState } from "/ui/vendor/preact-htm.js";
import { when } from "/ui/shared/api.js";
import { Alert, Field, Heading, Pager, Table, brandPath, istInstant, qs, staffApi, useLoad, useOpsStyles } from "../ops/ui.js";

const EMPTY = { actorId: "", action: "", entityType: "", entityId: "", from: "", to: "" };

function Change({ row }) {
  const [open, setOpen] = useState(false);
  if (!row.before && !row.after) return "—";
  return html`<button type="button" class="secondary" aria-expanded=${open} onClick=${() => setOpen(!open)}>
      ${open ? "Hide" : "Show"}</button>
    ${open &&
    html`<div class="ops-code">${row.before ? html`<strong>before</strong> ${JSON.stringify(row.before, null, 1)}<br />` : null}
      ${row.after ? html`<strong>after</strong> ${JSON.stringify(row.after, null, 1)}` : null}</div>`}`;
}

export default function Audit({ query, brandId }) {
  useOpsStyles();
  const start = { ...EMPTY, action: query.action || "", entityId: query.entityId || "" };
  const [form, setForm] = useState(start);
  const [filters, setFilters] = useState(start);
  const [page, setPage] = useState(1);
  const set = (key) => (value) => setForm({ ...form, [key]: value });
  const list = useLoad(
    () =>
      staffApi(
        "GET",
        brandPath(brandId, `audit-logs${qs({ ...filters, from: istInstant(filters.from), to: istInstant(filters.to), page, limit: 50 })}`)
      ),
    [brandId, filters, page]
  );
  const apply = (event) => {
    event.preventDefault();
    setPage(1);
    setFilters({ ...form });
  };
  const columns = [
    { label: "When", render: (r) => when(r.createdAt) },
    { label: "Who", render: (r) => `${r.actorEmail || r.actorId || "system"}${r.actorRole ? ` (${r.actorRole})` : ""}` },
    { label: "Action", key: "action" },
    { label: "Record", render: (r) => `${r.entityType || ""} ${r.entityId ? r.entityId.slice(0, 12) : ""}` },
    { label: "Request", render: (r) => (r.method ? `${r.method} ${r.path || ""}` : "—") },
    { label: "Change", render: (r) => html`<${Change} row=${r} />` },
  ];
  return html`<section>
    <${Heading} title="Audit log">Every change staff made in this brand, newest first.</${Heading}>
    <form class="card ops-filters" onSubmit=${apply} aria-label="Audit filters">
      <${Field} id="au-action" label="Action starts with" value=${form.action} onInput=${set("action")} placeholder="settings." />
      <${Field} id="au-type" label="Record type" value=${form.entityType} onInput=${set("entityType")} placeholder="loan" />
      <${Field} id="au-id" label="Record id" value=${form.entityId} onInput=${set("entityId")} />
      <${Field} id="au-actor" label="Staff id" value=${form.actorId} onInput=${set("actorId")} />
      <${Field} id="au-from" label="From (IST)" type="datetime-local" value=${form.from} onInput=${set("from")} />
      <${Field} id="au-to" label="Before (IST)" type="datetime-local" value=${form.to} onInput=${set("to")} />
      <div class="ops-actions"><button type="submit">Apply</button>
        <button type="button" class="secondary" onClick=${() => (setForm(EMPTY), setFilters(EMPTY), setPage(1))}>Clear</button></div>
    </form>
    <${Alert} error=${list.error} />
    ${list.data &&
    html`<${Table} caption="Audit log" columns=${columns} rows=${list.data.items} rowKey=${(r) => r.id} empty="No entry matches." />
      <${Pager} label="Audit pages" page=${list.data.page} limit=${list.data.limit} total=${list.data.total} onPage=${setPage} />`}
  </section>`;
}
