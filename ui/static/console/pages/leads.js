// Leads: upload a Facebook Lead Ads export (CSV) and see what it gave (read, new, duplicates, refused rows with
// their line), list the leads with a status filter and their stats, match NEW leads to customers (sync), export.
import { html, useState } from "/ui/vendor/preact-htm.js";
import { download, when } from "/ui/shared/api.js";
import {
  Alert, Done, Field, Heading, Pager, Table, brandPath, qs, staffApi, useAction, useLoad, useOpsStyles,
} from "../ops/ui.js";

const STATUSES = [["", "any"], "NEW", "PROCESSED", "FAILED", "DUPLICATE"];

export default function Leads({ me, brandId }) {
  useOpsStyles();
  const can = (p) => (me.permissions || []).includes(p);
  const [form, setForm] = useState({ status: "", search: "", fromDate: "", toDate: "" });
  const [filters, setFilters] = useState(form);
  const [page, setPage] = useState(1);
  const [version, setVersion] = useState(0);
  const set = (key) => (value) => setForm({ ...form, [key]: value });
  const list = useLoad(
    () => staffApi("GET", brandPath(brandId, `lead-forms${qs({ ...filters, page, limit: 25 })}`)),
    [brandId, filters, page, version]
  );
  const apply = (event) => {
    event.preventDefault();
    setPage(1);
    setFilters({ ...form });
  };
  const changed = () => setVersion((v) => v + 1);
  const exporter = useAction();
  const exportCsv = () =>
    exporter.run(
      () => download("staff", brandPath(brandId, `lead-forms/export${qs(filters)}`), "leads.csv"),
      "The leads CSV is downloaded."
    );
  const stats = list.data && list.data.stats;
  const columns = [
    { label: "Name", key: "fullName" },
    { label: "Phone", key: "phone" },
    { label: "E-mail", key: "email" },
    { label: "Source", render: (l) => `${l.source}${l.isPaid ? " (paid)" : " (organic)"}` },
    { label: "Campaign", key: "campaignName" },
    { label: "Status", key: "status" },
    { label: "Customer", render: (l) => (l.customerId ? html`<a href=${`#/customers/${l.customerId}`}>open</a>` : l.failureReason || "—") },
    { label: "Lead date", render: (l) => when(l.leadCreatedAt) },
  ];
  return html`<section>
    <${Heading} title="Leads">Leads from the ad platforms' lead forms. Upload the Facebook Lead Ads export, then sync
      to match new leads to customers.</${Heading}>
    ${can("customers.allocate") && html`<${Upload} brandId=${brandId} onDone=${changed} />`}
    ${stats &&
    html`<p aria-label="Lead counts">${stats.total} leads: ${stats.new} new · ${stats.processed} processed · ${stats.failed} failed ·
      ${stats.duplicate} duplicate · ${stats.paid} paid · ${stats.organic} organic</p>`}
    <form class="card ops-filters" onSubmit=${apply} aria-label="Lead filters">
      <${Field} id="ld-status" label="Status" value=${form.status} onInput=${set("status")} options=${STATUSES} />
      <${Field} id="ld-search" label="Name, phone or e-mail" type="search" value=${form.search} onInput=${set("search")} />
      <${Field} id="ld-from" label="Imported from" type="date" value=${form.fromDate} onInput=${set("fromDate")} />
      <${Field} id="ld-to" label="Imported to" type="date" value=${form.toDate} onInput=${set("toDate")} />
      <div class="ops-actions"><button type="submit">Apply</button>
        <button type="button" class="secondary" onClick=${exportCsv} disabled=${exporter.busy}>Export CSV</button></div>
    </form>
    ${can("customers.allocate") && html`<${Sync} brandId=${brandId} onDone=${changed} />`}
    <${Alert} error=${list.error || exporter.error} />
    <${Done} message=${exporter.done} />
    ${list.data &&
    html`<${Table} caption="Leads" columns=${columns} rows=${list.data.items} rowKey=${(l) => l.id} empty="No lead matches." />
      <${Pager} label="Lead pages" page=${list.data.page} limit=${list.data.limit} total=${list.data.total} onPage=${setPage} />`}
  </section>`;
}

function Upload({ brandId, onDone }) {
  const [file, setFile] = useState(null);
  const [result, setResult] = useState(null);
  const act = useAction();
  const submit = async (event) => {
    event.preventDefault();
    if (!file) return act.setError("Please choose the CSV file first.");
    const body = new FormData();
    body.append("file", file);
    const answer = await act.run(() => staffApi("POST", brandPath(brandId, "lead-forms/upload"), body));
    if (answer) {
      setResult(answer);
      onDone();
    }
  };
  return html`<form class="card" onSubmit=${submit} aria-labelledby="lu-h">
    <h2 id="lu-h">Upload leads</h2>
    <label for="lu-file">Facebook Lead Ads export (CSV, up to 5 MB)</label>
    <input id="lu-file" type="file" accept=".csv,text/csv" onChange=${(e) => setFile(e.target.files[0] || null)} />
    <div class="ops-actions"><button type="submit" disabled=${act.busy}>Upload</button></div>
    <${Alert} error=${act.error} />
    ${result &&
    html`<div role="status" class="notice" data-testid="upload-result">
      ${result.rows} rows read: ${result.created} new, ${result.duplicates} duplicates, ${result.invalid} refused.
      ${result.errors.length > 0 &&
      html`<ul>${result.errors.map((e) => html`<li>line ${e.line}, ${e.column}: ${e.reason}</li>`)}</ul>`}
    </div>`}
  </form>`;
}

function Sync({ brandId, onDone }) {
  const act = useAction();
  const sync = async () => {
    const answer = await act.run(
      () => staffApi("POST", brandPath(brandId, "lead-forms/sync"), {}),
      (a) => `Sync done: ${a.processed} matched to a customer, ${a.failed} not matched.`
    );
    if (answer) onDone();
  };
  return html`<div class="card">
    <button type="button" class="secondary" onClick=${sync} disabled=${act.busy}>Sync new leads</button>
    <${Alert} error=${act.error} />
    <${Done} message=${act.done} />
  </div>`;
}
