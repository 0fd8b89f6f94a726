// Holidays: the brand's non-working days (due dates falling on one move as each loan rule says).
import { html, useState } from "/ui/vendor/preact-htm.js";
import { Alert, Done, Field, Table, staffApi, useAction, useLoad } from "../../ops/ui.js";
import { DeleteButton, settingsPath } from "./common.js";

export default function Holidays({ brandId, canManage }) {
  const list = useLoad(() => staffApi("GET", settingsPath(brandId, "holidays")), [brandId]);
  const [day, setDay] = useState("");
  const [reason, setReason] = useState("");
  const act = useAction();
  const submit = async (event) => {
    event.preventDefault();
    const ok = await act.run(() => staffApi("POST", settingsPath(brandId, "holidays"), { day, reason: reason || null }), "Holiday added.");
    if (ok) {
      setDay("");
      setReason("");
      list.reload();
    }
  };
  const columns = [
    { label: "Day", key: "day" },
    { label: "Reason", key: "reason" },
    { label: "", render: (h) => (canManage ? html`<${DeleteButton} path=${settingsPath(brandId, `holidays/${h.id}`)} what=${`the holiday of ${h.day}`} onDone=${list.reload} />` : "") },
  ];
  return html`<div>
    <${Alert} error=${list.error} />
    ${list.data && html`<${Table} caption="Holidays" columns=${columns} rows=${list.data} rowKey=${(h) => h.id} empty="No holiday set." />`}
    ${canManage &&
    html`<form class="card ops-filters" onSubmit=${submit} aria-label="Add a holiday">
      <${Field} id="ho-day" label="Day" type="date" required value=${day} onInput=${setDay} />
      <${Field} id="ho-reason" label="Holiday name" value=${reason} onInput=${setReason} />
      <div class="ops-actions"><button type="submit" disabled=${act.busy}>Add the holiday</button></div>
    </form>
    <${Alert} error=${act.error} />
    <${Done} message=${act.done} />`}
  </div>`;
}
