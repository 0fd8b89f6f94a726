// Providers → Partner lenders: each partner's connection (base URL, API key, webhook secret, the lender's id for
// us), through the partner-lenders API (api/partner/partner_lenders.py). The credentials show masked and are kept
// unless a new one is typed; the partner's limits, pricing and SLA are sent back as they are.
import { html, useState } from "/ui/vendor/preact-htm.js";
import { Alert, Done, Field, brandPath, staffApi, useAction, useLoad } from "../../ops/ui.js";

const URL_RE = /^https?:\/\/\S+$/;

/** The PUT body of a partner: its view as it is, with the connection from the form (empty secrets: kept). */
export function partnerBody(p, form) {
  const keep = ["code", "name", "adapter", "active", "priority", "minAmount", "maxAmount", "minTenure", "maxTenure", "pricing", "sla"];
  const body = Object.fromEntries(keep.map((k) => [k, p[k]]));
  body.settings = { baseUrl: form.baseUrl.trim(), apiKey: form.apiKey, webhookSecret: form.webhookSecret };
  if (form.partnerId.trim()) body.settings.partnerId = form.partnerId.trim();
  return body;
}

function Partner({ brandId, partner, canManage, onDone }) {
  const s = partner.settings || {};
  const [form, setForm] = useState({ baseUrl: s.baseUrl || "", apiKey: "", webhookSecret: "", partnerId: s.partnerId || "" });
  const set = (key) => (value) => setForm((f) => ({ ...f, [key]: value }));
  const act = useAction();
  const id = (name) => `pl-${partner.code}-${name}`;
  const save = async (event) => {
    event.preventDefault();
    if (!URL_RE.test(form.baseUrl.trim())) return act.setError("Please correct: settings.baseUrl: must start with http:// or https://");
    const ok = await act.run(
      () => staffApi("PUT", brandPath(brandId, `partner-lenders/${partner.code}`), partnerBody(partner, form)),
      `${partner.name}'s connection is saved.`
    );
    if (ok) {
      setForm((f) => ({ ...f, apiKey: "", webhookSecret: "" }));
      onDone();
    }
  };
  const secretHint = (stored) => (stored ? `Stored: ${stored}. Leave empty to keep it.` : "None stored yet.");
  return html`<form class="card" onSubmit=${save} aria-label=${`Partner ${partner.name}`} novalidate>
    <h3>${partner.name} (${partner.code}, adapter ${partner.adapter})${partner.active ? "" : " · inactive"}</h3>
    <div class="ops-grid">
      <${Field} id=${id("url")} label="Base URL" type="url" value=${form.baseUrl} onInput=${set("baseUrl")} disabled=${!canManage} required />
      <${Field} id=${id("key")} label="API key" type="password" autocomplete="new-password" value=${form.apiKey} onInput=${set("apiKey")}
        placeholder=${s.apiKey || "none stored"} hint=${secretHint(s.apiKey)} disabled=${!canManage} />
      <${Field} id=${id("secret")} label="Webhook secret" type="password" autocomplete="new-password" value=${form.webhookSecret}
        onInput=${set("webhookSecret")} placeholder=${s.webhookSecret || "none stored"} hint=${secretHint(s.webhookSecret)} disabled=${!canManage} />
      <${Field} id=${id("pid")} label="Partner id (the lender's id for us)" value=${form.partnerId} onInput=${set("partnerId")} disabled=${!canManage} />
    </div>
    ${canManage && html`<div class="ops-actions"><button type="submit" disabled=${act.busy}>Save ${partner.name}'s connection</button></div>`}
    <${Alert} error=${act.error} />
    <${Done} message=${act.done} />
  </form>`;
}

export default function Partners({ brandId, canManage }) {
  const list = useLoad(() => staffApi("GET", brandPath(brandId, "partner-lenders")), [brandId]);
  return html`<div>
    <h2>Partner lenders</h2>
    <p class="muted">Each partner's connection. Limits, pricing, SLA and eligibility are set through the partner-lenders
      API (docs/partner-lenders.md).</p>
    <${Alert} error=${list.error} />
    ${list.data && list.data.length === 0 && html`<p class="muted">No partner lender configured for this brand.</p>`}
    ${(list.data || []).map((p) => html`<${Partner} key=${p.code} brandId=${brandId} partner=${p} canManage=${canManage} onDone=${list.reload} />`)}
  </div>`;
}
