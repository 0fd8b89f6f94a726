// Closed loans: completed (repaid, foreclosed, cooling-off exit), settled and written off, newest closure first,
// with the closure certificate (download the PDF, issue a new version and send it to the customer).
import { html, useState } from "/ui/vendor/preact-htm.js";
import { download, rupees, when } from "/ui/shared/api.js";
import { Alert, Done, Field, Pager, Table, brandPath, qs, staffApi, useAction, useLoad } from "../../ops/ui.js";

export const CLOSED = [
  ["completed", "Completed", "completed"],
  ["settled", "Settled", "completed/settled"],
  ["writeoff", "Written off", "completed/writeoff"],
];

export default function Closed({ kind, brandId, me }) {
  const list = CLOSED.find((c) => c[0] === kind) || CLOSED[0];
  const empty = { closedAs: "", closedFrom: "", closedTo: "" };
  const [form, setForm] = useState(empty);
  const [filters, setFilters] = useState(empty);
  const [page, setPage] = useState(1);
  const set = (key) => (value) => setForm({ ...form, [key]: value });
  const rows = useLoad(() => staffApi("GET", brandPath(brandId, `${list[2]}${qs({ ...filters, page, limit: 25 })}`)), [brandId, list[0], filters, page]);
  const act = useAction();
  const pdf = (r) => act.run(() => download("staff", brandPath(brandId, `loans/${r.id}/ndc`), `${r.certificateNo || "certificate"}.pdf`.replace(/\//g, "-")));
  const issue = async (r) => {
    const answer = await act.run(
      () => staffApi("POST", brandPath(brandId, `loans/${r.id}/generate-ndc`)),
      (a) => `Certificate ${a.certificateNo} version ${a.version} issued${a.sent ? " and sent to the customer" : ""}.`
    );
    if (answer) rows.reload();
  };
  const canIssue = list[0] !== "writeoff" && (me.permissions || []).some((p) => ["loan_ops.disburse", "collections.manage"].includes(p));
  const columns = [
    { label: "Loan", render: (r) => html`<a href=${`#/loans/${r.id}`}>${r.id.slice(0, 8)}</a>` },
    { label: "Customer", render: (r) => html`<a href=${`#/customers/${r.customerId}`}>open</a>` },
    { label: "Closed", render: (r) => when(r.closedAt) },
    { label: "How", render: (r) => r.closedAs || r.status },
    { label: "Principal", render: (r) => rupees(r.amountPaise), num: true },
    { label: "Collected", render: (r) => rupees(r.totalCollectedPaise), num: true },
    { label: "Worst DPD", key: "maxDpd", num: true },
    { label: "Bureau", key: "bureauFlag" },
    {
      label: "Certificate",
      render: (r) => html`<span class="ops-actions" style="margin:0">
        ${r.certificateNo && html`<button type="button" class="secondary" aria-label=${`Download ${r.certificateNo}`} onClick=${() => pdf(r)}>${r.certificateNo}</button>`}
        ${canIssue && html`<button type="button" class="secondary" aria-label=${`Issue a new certificate for ${r.id.slice(0, 8)}`} onClick=${() => issue(r)}>Issue again</button>`}
      </span>`,
    },
  ];
  return html`<div>
    <form class="card ops-filters" onSubmit=${(e) => (e.preventDefault(), setPage(1), setFilters({ ...form }))} aria-label="Closed loan filters">
      ${list[0] === "completed" &&
      html`<${Field} id="cl-as" label="Closed as" value=${form.closedAs} onInput=${set("closedAs")}
        options=${[["", "any"], "REPAID", "FORECLOSED", "COOLING_OFF_EXIT"]} />`}
      <${Field} id="cl-from" label="Closed from" type="date" value=${form.closedFrom} onInput=${set("closedFrom")} />
      <${Field} id="cl-to" label="Closed to" type="date" value=${form.closedTo} onInput=${set("closedTo")} />
      <div class="ops-actions"><button type="submit">Apply</button></div>
    </form>
    <${Alert} error=${rows.error || act.error} />
    <${Done} message=${act.done} />
    ${rows.data &&
    html`<${Table} caption=${`${list[1]} loans`} columns=${columns} rows=${rows.data.items} rowKey=${(r) => r.id} empty="No loan closed so." />
      <${Pager} label="Closed loan pages" page=${rows.data.page} limit=${rows.data.limit} total=${rows.data.total} onPage=${setPage} />`}
  </div>`;
}
