// Reports: pick a report type and an IST date range, read its rows page by page, download its CSV, and have the
// master report built and e-mailed (docs/reports.md).
import { html, useEffect, useState } from "/ui/vendor/preact-htm.js";
import { download, rupees, when } from "/ui/shared/api.js";
import {
  Alert, Done, Field, Heading, Pager, Table, brandPath, qs, staffApi, todayIst, useAction, useLoad, useOpsStyles,
} from "../ops/ui.js";

const LIMIT = 50;

function daysBefore(iso, days) {
  const d = new Date(iso + "T00:00:00Z");
  d.setUTCDate(d.getUTCDate() - days);
  return d.toISOString().slice(0, 10);
}

function cell(column, value) {
  if (value === null || value === undefined || value === "") return "—";
  if (column.type === "paise") return rupees(value);
  if (column.type === "datetime") return when(value);
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

export default function Reports({ query, me, brandId }) {
  useOpsStyles();
  const today = todayIst();
  const catalogue = useLoad(() => staffApi("GET", brandPath(brandId, "reports")), [brandId]);
  const [form, setForm] = useState({ type: query.type || "", fromDate: daysBefore(today, 30), toDate: today });
  const [shown, setShown] = useState(null);
  const [page, setPage] = useState(1);
  const set = (key) => (value) => setForm({ ...form, [key]: value });
  const items = (catalogue.data && catalogue.data.items) || [];
  useEffect(() => {
    // the first report by default, unless one was chosen meanwhile (the effect runs after the render it follows)
    if (items.length) setForm((f) => (f.type ? f : { ...f, type: items[0].name }));
  }, [items.length]);
  const info = items.find((r) => r.name === form.type);
  const rows = useLoad(
    () =>
      shown
        ? staffApi("GET", brandPath(brandId, `report/${shown.type}${qs({ fromDate: shown.fromDate, toDate: shown.toDate, page, limit: LIMIT })}`))
        : null,
    [brandId, shown, page]
  );
  const show = (event) => {
    event.preventDefault();
    setPage(1);
    setShown({ ...form });
  };
  const dl = useAction();
  const fetchCsv = () =>
    dl.run(
      () =>
        download(
          "staff",
          brandPath(brandId, `report/${form.type}/download${qs({ fromDate: form.fromDate, toDate: form.toDate })}`),
          `${form.type}_${form.fromDate}_${form.toDate}.csv`
        ),
      "The CSV is downloaded."
    );
  const families = [...new Set(items.map((r) => r.family))];
  const options = families.flatMap((f) => items.filter((r) => r.family === f).map((r) => [r.name, `${f}: ${r.title}`]));
  const data = rows.data;
  const columns = data ? data.columns.map((c) => ({ label: c.name, render: (row) => cell(c, row[c.name]), num: c.type === "paise" || c.type === "number" })) : [];
  return html`<section>
    <${Heading} title="Reports">Choose a report and the IST days it covers (both included, at most a year apart).</${Heading}>
    <${Alert} error=${catalogue.error} />
    <form class="card ops-filters" onSubmit=${show} aria-label="Choose a report">
      <${Field} id="rp-type" label="Report type" value=${form.type} onInput=${set("type")} options=${options} />
      <${Field} id="rp-from" label="From" type="date" required value=${form.fromDate} onInput=${set("fromDate")} />
      <${Field} id="rp-to" label="To" type="date" required value=${form.toDate} onInput=${set("toDate")} />
      <div class="ops-actions">
        <button type="submit">Show the report</button>
        <button type="button" class="secondary" onClick=${fetchCsv} disabled=${dl.busy || !form.type}>Download CSV</button>
      </div>
    </form>
    ${info && html`<p class="muted">${info.description} Dates filter on ${info.dateColumn}.${info.note ? " " + info.note : ""}</p>`}
    <${Alert} error=${dl.error || rows.error} />
    <${Done} message=${dl.done} />
    ${rows.loading && shown ? html`<p class="muted">Loading…</p>` : null}
    ${data &&
    html`<h2>${data.title}: ${shown.fromDate} to ${shown.toDate}</h2>
      <${Table} caption=${data.title} columns=${columns} rows=${data.items} empty="No rows in these days." />
      <${Pager} label="Report pages" page=${data.page} limit=${data.limit} total=${data.total} onPage=${setPage} />`}
    <${MasterEmail} brandId=${brandId} me=${me} fromDate=${form.fromDate} toDate=${form.toDate} />
  </section>`;
}

function MasterEmail({ brandId, me, fromDate, toDate }) {
  const [email, setEmail] = useState(me.email || "");
  const [job, setJob] = useState(null);
  const act = useAction();
  useEffect(() => {
    if (!job || ["SENT", "FAILED"].includes(job.state)) return undefined;
    const timer = setTimeout(async () => {
      try {
        setJob(await staffApi("GET", brandPath(brandId, `master-report/email/${job.jobId}`)));
      } catch (e) {
        act.setError(e);
      }
    }, 1500);
    return () => clearTimeout(timer);
  }, [job]);
  const send = async (event) => {
    event.preventDefault();
    const answer = await act.run(() =>
      staffApi("POST", brandPath(brandId, "master-report/email"), { fromDate, toDate, ...(email ? { email } : {}) })
    );
    if (answer) setJob(answer);
  };
  return html`<form class="card" onSubmit=${send} aria-labelledby="mr-h">
    <h2 id="mr-h">E-mail the master report</h2>
    <p class="muted">Built in the background for ${fromDate} to ${toDate}; a link valid 7 days is e-mailed.</p>
    <${Field} id="mr-email" label="Send to (e-mail)" type="email" value=${email} onInput=${setEmail} />
    <div class="ops-actions"><button type="submit" disabled=${act.busy}>E-mail the master report</button></div>
    <${Alert} error=${act.error} />
    ${job &&
    html`<p role="status" class="notice">Master report to ${job.email}: ${job.state}${job.rows !== null ? `, ${job.rows} rows` : ""}${job.error ? ` (${job.error})` : ""}.</p>`}
  </form>`;
}
