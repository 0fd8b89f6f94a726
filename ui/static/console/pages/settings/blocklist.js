// Blocklist: PANs, Aadhaar numbers, mobiles and device ids refused by the BRE; search, add, remove.
import { html, useState } from "/ui/vendor/preact-htm.js";
import { when } from "/ui/shared/api.js";
import { Alert, Done, Field, Pager, Table, qs, staffApi, useAction, useLoad } from "../../ops/ui.js";
import { DeleteButton, settingsPath } from "./common.js";

const KINDS = ["PAN", "AADHAAR", "PHONE", "DEVICE"];

export default function Blocklist({ brandId, canManage }) {
  const [filter, setFilter] = useState({ kind: "", search: "" });
  const [shown, setShown] = useState(filter);
  const [page, setPage] = useState(1);
  const list = useLoad(() => staffApi("GET", settingsPath(brandId, `blocklist${qs({ ...shown, page, limit: 50 })}`)), [brandId, shown, page]);
  const [form, setForm] = useState({ kind: "PAN", value: "", reason: "" });
  const act = useAction();
  const submit = async (event) => {
    event.preventDefault();
    const ok = await act.run(() => staffApi("POST", settingsPath(brandId, "blocklist"), { ...form, reason: form.reason || null }), "Added to the blocklist.");
    if (ok) {
      setForm({ ...form, value: "", reason: "" });
      list.reload();
    }
  };
  const columns = [
    { label: "Kind", key: "kind" },
    { label: "Value", key: "value" },
    { label: "Reason", key: "reason" },
    { label: "Added", render: (r) => when(r.createdAt) },
    { label: "", render: (r) => (canManage ? html`<${DeleteButton} path=${settingsPath(brandId, `blocklist/${r.id}`)} what=${`${r.kind} ${r.value}`} onDone=${list.reload} />` : "") },
  ];
  return html`<div>
    <form class="card ops-filters" onSubmit=${(e) => (e.preventDefault(), setPage(1), setShown({ ...filter }))} aria-label="Blocklist filters">
      <${Field} id="bl-fkind" label="Kind" value=${filter.kind} onInput=${(v) => setFilter({ ...filter, kind: v })} options=${[["", "any"], ...KINDS]} />
      <${Field} id="bl-search" label="Value contains" value=${filter.search} onInput=${(v) => setFilter({ ...filter, search: v })} />
      <div class="ops-actions"><button type="submit">Search</button></div>
    </form>
    <${Alert} error=${list.error} />
    ${list.data &&
    html`<${Table} caption="Blocklist" columns=${columns} rows=${list.data.items} rowKey=${(r) => r.id} empty="Nothing blocked." />
      <${Pager} label="Blocklist pages" page=${list.data.page} limit=${list.data.limit} total=${list.data.total} onPage=${setPage} />`}
    ${canManage &&
    html`<form class="card ops-filters" onSubmit=${submit} aria-label="Block a value">
      <${Field} id="bl-kind" label="Kind to block" value=${form.kind} onInput=${(v) => setForm({ ...form, kind: v })} options=${KINDS} />
      <${Field} id="bl-value" label="Value to block" required value=${form.value} onInput=${(v) => setForm({ ...form, value: v })} />
      <${Field} id="bl-reason" label="Why" value=${form.reason} onInput=${(v) => setForm({ ...form, reason: v })} />
      <div class="ops-actions"><button type="submit" disabled=${act.busy}>Block it</button></div>
    </form>
    <${Alert} error=${act.error} />
    <${Done} message=${act.done} />`}
  </div>`;
}
