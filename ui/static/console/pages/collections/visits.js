// Field visits: record one (where, when, what happened, a photo) and list the loan's visits.
import { html, useState } from "/ui/vendor/preact-htm.js";
import { getSession, when } from "/ui/shared/api.js";
import { Alert, Done, Field, Table, brandPath, istInstant, staffApi, useAction, useLoad } from "../../ops/ui.js";
import { DISPOSITIONS } from "./contact.js";

const BLANK = { latitude: "", longitude: "", visitedAt: "", address: "", disposition: "", remarks: "" };

async function openPhoto(url) {
  const session = getSession("staff");
  const response = await fetch(url, { headers: { Authorization: `Bearer ${session.accessToken}` } });
  if (!response.ok) return;
  window.open(URL.createObjectURL(await response.blob()), "_blank", "noopener");
}

export function FieldVisits({ brandId, loanId }) {
  const [form, setForm] = useState(BLANK);
  const [photo, setPhoto] = useState(null);
  const [formKey, setFormKey] = useState(0);
  const set = (key) => (value) => setForm({ ...form, [key]: value });
  const list = useLoad(() => staffApi("GET", brandPath(brandId, `collection/${loanId}/field-visits`)), [brandId, loanId]);
  const act = useAction();
  const here = () =>
    navigator.geolocation &&
    navigator.geolocation.getCurrentPosition(
      (p) => setForm({ ...form, latitude: p.coords.latitude.toFixed(6), longitude: p.coords.longitude.toFixed(6) }),
      () => act.setError("The browser could not tell where you are; type the coordinates.")
    );
  const submit = async (event) => {
    event.preventDefault();
    const body = new FormData();
    for (const [k, v] of Object.entries(form)) if (v) body.append(k, k === "visitedAt" ? istInstant(v) : v);
    if (photo) body.append("photo", photo);
    const saved = await act.run(
      () => staffApi("POST", brandPath(brandId, `collection/${loanId}/field-visits`), body),
      "Visit recorded."
    );
    if (saved) {
      setForm(BLANK);
      setPhoto(null);
      setFormKey((k) => k + 1);
      list.reload();
    }
  };
  const columns = [
    { label: "Visited", render: (r) => when(r.visitedAt) },
    { label: "Where", render: (r) => `${r.latitude}, ${r.longitude}${r.address ? " · " + r.address : ""}` },
    { label: "Disposition", key: "disposition" },
    { label: "Remarks", key: "remarks" },
    {
      label: "Photo",
      render: (r) =>
        r.photoUrl ? html`<button type="button" class="secondary" onClick=${() => openPhoto(r.photoUrl)}>View</button>` : "—",
    },
  ];
  return html`<section class="card ops-card" aria-labelledby="visit-h">
    <h2 id="visit-h">Field visits</h2>
    <form key=${formKey} onSubmit=${submit} aria-label="Record a field visit">
      <div class="ops-filters">
        <${Field} id="fv-lat" label="Latitude" inputmode="decimal" value=${form.latitude} onInput=${set("latitude")} placeholder="12.971599" />
        <${Field} id="fv-lon" label="Longitude" inputmode="decimal" value=${form.longitude} onInput=${set("longitude")} placeholder="77.594566" />
        <${Field} id="fv-at" label="Visited at (IST)" type="datetime-local" value=${form.visitedAt} onInput=${set("visitedAt")} />
        <${Field} id="fv-disp" label="Visit outcome" value=${form.disposition} onInput=${set("disposition")}
          options=${[["", "not recorded"], ...DISPOSITIONS]} />
      </div>
      <${Field} id="fv-address" label="Visit address" value=${form.address} onInput=${set("address")} />
      <${Field} id="fv-remarks" label="Visit remarks" area value=${form.remarks} onInput=${set("remarks")} />
      <label for="fv-photo">Photo (JPEG, PNG or WebP, up to 10 MB)</label>
      <input id="fv-photo" type="file" accept="image/jpeg,image/png,image/webp" onChange=${(e) => setPhoto(e.target.files[0] || null)} />
      <div class="ops-actions">
        <button type="button" class="secondary" onClick=${here}>Use my location</button>
        <button type="submit" disabled=${act.busy}>Record the visit</button>
      </div>
    </form>
    <${Alert} error=${act.error || list.error} />
    <${Done} message=${act.done} />
    ${list.data && html`<${Table} caption="Field visits" columns=${columns} rows=${list.data.items} empty="No visit yet." />`}
  </section>`;
}
