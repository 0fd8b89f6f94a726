// Providers: per kind (KYC, bureau, eSign, gateways, SMS, dialer...), the brand's vendors in failover order with
// the primary; secrets show masked and are kept unless a new one is typed.
import { html, useState } from "/ui/vendor/preact-htm.js";
import { Alert, Done, Field, Table, staffApi, useAction, useLoad } from "../../ops/ui.js";
import { settingsPath } from "./common.js";

export default function Providers({ brandId, canManage }) {
  const all = useLoad(() => staffApi("GET", settingsPath(brandId, "providers")), [brandId]);
  const kinds = all.data ? Object.keys(all.data).sort() : [];
  const [kind, setKind] = useState("");
  const current = kind || kinds[0] || "";
  const info = all.data && current ? all.data[current] : null;
  return html`<div>
    <${Alert} error=${all.error} />
    ${kinds.length > 0 &&
    html`<div class="card ops-filters">
      <${Field} id="pv-kind" label="Provider kind" value=${current} onInput=${setKind} options=${kinds} />
    </div>`}
    ${info && html`<${Kind} key=${current} brandId=${brandId} kind=${current} info=${info} canManage=${canManage} onDone=${all.reload} />`}
  </div>`;
}

function Kind({ brandId, kind, info, canManage, onDone }) {
  const vendors = (info && info.vendors) || [];
  const primary = (vendors.find((v) => v.primary) || {}).vendor || null;
  const start = {
    primary,
    vendors: vendors.map((v) => ({ vendor: v.vendor, baseUrl: v.baseUrl, active: v.active, options: v.options })),
  };
  const [text, setText] = useState(JSON.stringify(start, null, 2));
  const act = useAction();
  const save = async (event) => {
    event.preventDefault();
    let body;
    try {
      body = JSON.parse(text);
    } catch (_) {
      return act.setError("Please correct: the configuration must be JSON.");
    }
    const ok = await act.run(() => staffApi("PUT", settingsPath(brandId, `providers/${kind}`), body), `The ${kind} providers are saved.`);
    if (ok) onDone();
  };
  const columns = [
    { label: "Order", render: (v) => vendors.indexOf(v) + 1, num: true },
    { label: "Vendor", render: (v) => `${v.vendor}${v.primary ? " (primary)" : ""}` },
    { label: "Base URL", key: "baseUrl" },
    { label: "API key", key: "apiKey" },
    { label: "Webhook secret", key: "webhookSecret" },
    { label: "Active", render: (v) => (v.active ? "yes" : "no") },
    { label: "Options", render: (v) => html`<span class="ops-code">${JSON.stringify(v.options)}</span>` },
  ];
  return html`<div>
    <p class="muted">Vendors with an adapter: ${(info.available || []).join(", ") || "none"}.</p>
    <${Table} caption=${`${kind} providers`} columns=${columns} rows=${vendors} empty="No vendor configured for this kind." />
    ${canManage &&
    html`<form class="card" onSubmit=${save} aria-labelledby="pv-h">
      <h2 id="pv-h">Change the ${kind} vendors</h2>
      <p class="muted">{"primary", "vendors": [{"vendor", "baseUrl", "apiKey", "webhookSecret", "active", "options"}]} in
        failover order. Leave out apiKey and webhookSecret to keep the stored ones; an empty list removes them all.</p>
      <${Field} id="pv-json" label="Configuration (JSON)" area rows="12" value=${text} onInput=${setText} />
      <div class="ops-actions"><button type="submit" disabled=${act.busy}>Save the providers</button></div>
      <${Alert} error=${act.error} />
      <${Done} message=${act.done} />
    </form>`}
  </div>`;
}
