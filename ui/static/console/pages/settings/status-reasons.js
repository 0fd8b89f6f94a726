// Status reasons: the reasons staff pick from when they reject, send back, write off, settle or close a loan.
import { html, useState } from "/ui/vendor/preact-htm.js";
import { Alert, Done, Field, Table, staffApi, useAction, useLoad } from "../../ops/ui.js";
import { settingsPath } from "./common.js";

const STATUSES = ["SEND_BACK", "REJECTED", "WRITTEN_OFF", "SETTLED", "COMPLETED"];
const BLANK = { code: "", label: "", statuses: ["REJECTED"], isActive: true };

export default function StatusReasons({ brandId, canManage }) {
  const list = useLoad(() => staffApi("GET", settingsPath(brandId, "status-reasons")), [brandId]);
  const [form, setForm] = useState(BLANK);
  const [editing, setEditing] = useState(null);
  const act = useAction();
  const set = (key) => (value) => setForm({ ...form, [key]: value });
  const toggle = (status) =>
    setForm({ ...form, statuses: form.statuses.includes(status) ? form.statuses.filter((s) => s !== status) : [...form.statuses, status] });
  const submit = async (event) => {
    event.preventDefault();
    const path = settingsPath(brandId, editing ? `status-reasons/${editing}` : "status-reasons");
    const ok = await act.run(() => staffApi(editing ? "PUT" : "POST", path, form), editing ? "Reason saved." : "Reason added.");
    if (ok) {
      setForm(BLANK);
      setEditing(null);
      list.reload();
    }
  };
  const edit = (r) => {
    setEditing(r.id);
    setForm({ code: r.code, label: r.label, statuses: r.statuses, isActive: r.isActive });
  };
  const columns = [
    { label: "Code", key: "code" },
    { label: "Label", key: "label" },
    { label: "Reason for", render: (r) => r.statuses.join(", ") },
    { label: "Offered", render: (r) => (r.isActive ? "yes" : "no") },
    { label: "", render: (r) => (canManage ? html`<button type="button" class="secondary" aria-label=${`Edit ${r.code}`} onClick=${() => edit(r)}>Edit</button>` : "") },
  ];
  return html`<div>
    <${Alert} error=${list.error} />
    ${list.data && html`<${Table} caption="Status reasons" columns=${columns} rows=${list.data} rowKey=${(r) => r.id} empty="No reason yet." />`}
    ${canManage &&
    html`<form class="card" onSubmit=${submit} aria-labelledby="sr-h">
      <h2 id="sr-h">${editing ? "Edit the reason" : "Add a reason"}</h2>
      <div class="ops-filters">
        <${Field} id="sr-code" label="Code" required value=${form.code} onInput=${set("code")} placeholder="LOW_INCOME" hint="capitals, digits and _" />
        <${Field} id="sr-label" label="Label" required value=${form.label} onInput=${set("label")} />
      </div>
      <fieldset><legend>Reason for</legend>
        ${STATUSES.map((s) => html`<${Field} id=${`sr-st-${s}`} type="checkbox" label=${s} value=${form.statuses.includes(s)} onInput=${() => toggle(s)} />`)}
      </fieldset>
      <${Field} id="sr-active" type="checkbox" label="Offered to staff" value=${form.isActive} onInput=${set("isActive")} />
      <div class="ops-actions"><button type="submit" disabled=${act.busy}>${editing ? "Save the reason" : "Add the reason"}</button>
        ${editing && html`<button type="button" class="secondary" onClick=${() => (setEditing(null), setForm(BLANK))}>Cancel</button>`}</div>
      <${Alert} error=${act.error} />
      <${Done} message=${act.done} />
    </form>`}
  </div>`;
}
