// Providers: per kind (KYC, bureau, bank statements, eSign, bank payouts, gateways, messaging, dialer...), the
// brand's vendors in failover order with the primary, each with its own labelled fields: base URL, API key and webhook
// secret (shown masked, replaced only when a new one is typed; a new webhook secret keeps the previous one accepted
// for the hours chosen), active, and the options its adapter reads. Checked here first, then by the API, whose 422
// names the field. Partner lenders' connections are in ./partners.js.
import { html, useState } from "/ui/vendor/preact-htm.js";
import { explain, when } from "/ui/shared/api.js";
import { Alert, Done, Field, staffApi, useAction, useLoad } from "../../ops/ui.js";
import { settingsPath } from "./common.js";
import { buildBody, fieldWords, GROUPS, kindTitle, newRow, spec, toRow } from "./provider-fields.js";
import Partners from "./partners.js";

export default function Providers({ brandId, canManage }) {
  const all = useLoad(() => staffApi("GET", settingsPath(brandId, "providers")), [brandId]);
  const [kind, setKind] = useState("kyc");
  const known = all.data ? Object.keys(all.data) : [];
  return html`<div>
    <${Alert} error=${all.error} />
    <div class="card ops-filters">
      <div>
        <label for="pv-kind">Provider kind</label>
        <select id="pv-kind" value=${kind} onChange=${(e) => setKind(e.target.value)}>
          ${GROUPS.map(([group, kinds]) => html`<optgroup label=${group}>
            ${kinds.filter(([k]) => k === "partners" || !all.data || known.includes(k)).map(([k, title]) => html`<option value=${k}>${title}</option>`)}
          </optgroup>`)}
        </select>
      </div>
    </div>
    ${kind === "partners"
      ? html`<${Partners} brandId=${brandId} canManage=${canManage} />`
      : all.data && all.data[kind] &&
        html`<${Kind} key=${kind} brandId=${brandId} kind=${kind} info=${all.data[kind]} canManage=${canManage} onDone=${all.reload} />`}
  </div>`;
}

function SecretField({ id, label, stored, value, onInput, disabled }) {
  return html`<${Field} id=${id} label=${label} type="password" autocomplete="new-password" value=${value} onInput=${onInput}
    disabled=${disabled} placeholder=${stored || "none stored"}
    hint=${stored ? `Stored: ${stored}. Leave empty to keep it; type a new one to replace it.` : "None stored yet."} />`;
}

function Option({ id, o, value, onInput, disabled }) {
  if (o.type === "bool")
    return html`<${Field} id=${id} label=${o.label} value=${value === undefined ? "" : String(value)} onInput=${onInput} disabled=${disabled}
      options=${[["", "the vendor's default"], ["true", "yes"], ["false", "no"]]} />`;
  if (o.choices) return html`<${Field} id=${id} label=${o.label} value=${value ?? ""} onInput=${onInput} disabled=${disabled} options=${[["", "—"], ...o.choices]} />`;
  const type = o.type === "number" ? "text" : o.type || "text";
  return html`<${Field} id=${id} label=${o.label} type=${type} area=${!!o.area} value=${value ?? ""} onInput=${onInput} disabled=${disabled}
    inputmode=${o.type === "number" ? "decimal" : undefined} />`;
}

function Vendor({ kind, row, n, count, set, move, remove, disabled, invalid }) {
  const s = spec(kind, row.vendor);
  const id = (name) => `pv-${n}-${name}`;
  const stored = row.stored || {};
  const field = (name) => (value) => set(n, { [name]: value });
  const option = (key) => (value) => set(n, { options: { ...row.options, [key]: value } });
  const locked = (row.locked || []).length > 0;
  return html`<fieldset class="card pv-vendor" aria-invalid=${invalid ? "true" : undefined}>
    <legend>Vendor ${n + 1}: ${row.vendor}${row.stored ? "" : " (new)"}</legend>
    <div class="ops-grid">
      <${Field} id=${id("url")} label="Base URL" type="url" value=${row.baseUrl} onInput=${field("baseUrl")} disabled=${disabled}
        required=${!row.stored} placeholder="https://…" />
      <${SecretField} id=${id("key")} label=${s.apiKey} stored=${stored.apiKey} value=${row.apiKey} onInput=${field("apiKey")} disabled=${disabled} />
      <${SecretField} id=${id("secret")} label=${s.webhookSecret} stored=${stored.webhookSecret} value=${row.webhookSecret}
        onInput=${field("webhookSecret")} disabled=${disabled} />
      ${row.webhookSecret && stored.webhookSecret &&
      html`<${Field} id=${id("overlap")} label="Hours the previous webhook secret is still accepted" value=${row.overlapHours}
        onInput=${field("overlapHours")} inputmode="numeric" hint="0 to 168; vendors retry old events for up to a day" />`}
      ${s.options.map((o) => html`<${Option} id=${id(o.key)} o=${o} value=${row.options[o.key]} onInput=${option(o.key)} disabled=${disabled || locked} />`)}
      <${Field} id=${id("extra")} label=${s.agents ? "Agents' extensions and other options (name=value a line)" : "Other options (name=value a line)"}
        area value=${row.extra} onInput=${field("extra")} disabled=${disabled || locked}
        hint=${s.agents ? "An agent's extension: extension.<their e-mail>=1001" : ""} />
      <${Field} id=${id("active")} type="checkbox" label="Active (failover may use it)" value=${row.active} onInput=${field("active")} disabled=${disabled} />
    </div>
    ${locked && html`<p class="muted">Options hold ${row.locked.join(", ")}, a structure this form does not edit: they are kept
      as stored, and set through the settings API.</p>`}
    ${stored.previousSecret &&
    html`<p class="muted">The previous webhook secret ${stored.previousSecret} is accepted until ${when(stored.previousSecretUntil)}.</p>`}
    ${!disabled &&
    html`<div class="ops-actions">
      <button type="button" class="secondary" disabled=${n === 0} onClick=${() => move(n, -1)} aria-label=${`Move ${row.vendor} up`}>Move up</button>
      <button type="button" class="secondary" disabled=${n === count - 1} onClick=${() => move(n, 1)} aria-label=${`Move ${row.vendor} down`}>Move down</button>
      <button type="button" class="secondary" onClick=${() => remove(n)} aria-label=${`Remove ${row.vendor}`}>Remove</button>
    </div>`}
  </fieldset>`;
}

function Kind({ brandId, kind, info, canManage, onDone }) {
  const vendors = info.vendors || [];
  const [rows, setRows] = useState(() => vendors.map((v) => toRow(kind, v)));
  const [primary, setPrimary] = useState(() => (vendors.find((v) => v.primary) || vendors[0] || {}).vendor || "");
  const [adding, setAdding] = useState("");
  const [problems, setProblems] = useState([]);
  const act = useAction();
  const free = (info.available || []).filter((v) => !rows.some((r) => r.vendor === v));
  const set = (n, change) => setRows((rs) => rs.map((r, i) => (i === n ? { ...r, ...change } : r)));
  const move = (n, by) =>
    setRows((rs) => {
      const next = [...rs];
      [next[n], next[n + by]] = [next[n + by], next[n]];
      return next;
    });
  const remove = (n) => setRows((rs) => rs.filter((_, i) => i !== n));
  const add = () => {
    const vendor = adding || free[0];
    if (!vendor) return;
    setRows((rs) => [...rs, newRow(vendor)]);
    setPrimary((p) => p || vendor);
    setAdding("");
  };
  const save = async (event) => {
    event.preventDefault();
    setProblems([]);
    act.setError(null);
    act.setDone(null);
    const built = buildBody(kind, rows, primary);
    if (built.problems) {
      setProblems(built.problems);
      return act.setError(`Please correct: ${built.problems.map(([f, r]) => `${fieldWords(f, rows)}: ${r}`).join("; ")}`);
    }
    try {
      const saved = await staffApi("PUT", settingsPath(brandId, `providers/${kind}`), built.body);
      act.setDone(`The ${kindTitle(kind)} providers are saved.`);
      const after = (saved[kind] && saved[kind].vendors) || [];
      setRows(after.map((v) => toRow(kind, v)));
      onDone();
    } catch (e) {
      const fields = (e && e.fields) || [];
      setProblems(fields.map((f) => [f.field, f.reason]));
      act.setError(fields.length ? `Please correct: ${fields.map((f) => `${fieldWords(f.field, rows)}: ${f.reason}`).join("; ")}` : explain(e));
    }
  };
  const bad = (n) => problems.some(([f]) => f.startsWith(`vendors.${n}.`) || f === `vendors.${n}`);
  return html`<form onSubmit=${save} aria-labelledby="pv-h" novalidate>
    <h2 id="pv-h">${kindTitle(kind)}</h2>
    <p class="muted">Vendors with an adapter: ${(info.available || []).join(", ") || "none"}. Failover tries the primary
      first, then the others in this order.</p>
    ${rows.length === 0 && html`<p class="muted">No vendor configured for this kind.</p>`}
    ${rows.map((row, n) => html`<${Vendor} key=${row.vendor} kind=${kind} row=${row} n=${n} count=${rows.length} set=${set} move=${move}
      remove=${remove} disabled=${!canManage} invalid=${bad(n)} />`)}
    ${canManage &&
    html`<div class="card ops-grid">
      ${rows.length > 0 &&
      html`<${Field} id="pv-primary" label="Primary vendor (tried first)" value=${primary} onInput=${setPrimary}
        options=${rows.map((r) => [r.vendor, r.vendor])} />`}
      ${free.length > 0 &&
      html`<div>
        <${Field} id="pv-add" label="Add a vendor" value=${adding || free[0]} onInput=${setAdding} options=${free} />
        <button type="button" class="secondary" onClick=${add}>Add the vendor</button>
      </div>`}
    </div>
    <div class="ops-actions"><button type="submit" disabled=${act.busy}>Save the ${kindTitle(kind)} providers</button></div>`}
    <${Alert} error=${act.error} />
    <${Done} message=${act.done} />
  </form>`;
}
