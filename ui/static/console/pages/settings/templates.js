// Templates: the customer messages by event and channel (SMS, WhatsApp, e-mail); edit one with its variables,
// preview it with sample values, or go back to the built-in default.
import { html, useState } from "/ui/vendor/preact-htm.js";
import { Alert, Done, Field, Table, staffApi, useAction, useLoad } from "../../ops/ui.js";
import { settingsPath } from "./common.js";

export default function Templates({ brandId, canManage }) {
  const list = useLoad(() => staffApi("GET", settingsPath(brandId, "templates")), [brandId]);
  const [open, setOpen] = useState(null);
  const columns = [
    { label: "Event", key: "event" },
    { label: "Channel", key: "kind" },
    { label: "Own or default", render: (t) => (t.isDefault ? "default" : "the brand's") },
    { label: "Active", render: (t) => (t.active ? "yes" : "no") },
    { label: "DLT id", render: (t) => (t.needsDltId ? "missing" : t.dltTemplateId || "—") },
    { label: "", render: (t) => html`<button type="button" class="secondary" aria-label=${`Open ${t.event} ${t.kind}`} onClick=${() => setOpen(t)}>Open</button>` },
  ];
  return html`<div>
    <${Alert} error=${list.error} />
    ${open && html`<${Editor} key=${`${open.event}/${open.kind}`} brandId=${brandId} template=${open} canManage=${canManage}
      onDone=${() => (setOpen(null), list.reload())} />`}
    ${list.data && html`<${Table} caption="Templates" columns=${columns} rows=${list.data} rowKey=${(t) => `${t.event}/${t.kind}`} />`}
  </div>`;
}

function Editor({ brandId, template, canManage, onDone }) {
  const [form, setForm] = useState({
    subject: template.subject || "", body: template.body, dltTemplateId: template.dltTemplateId || "", active: template.active,
  });
  const [preview, setPreview] = useState(null);
  const act = useAction();
  const set = (key) => (value) => setForm({ ...form, [key]: value });
  const path = settingsPath(brandId, `templates/${template.event}/${template.kind}`);
  const body = { body: form.body, subject: form.subject || null, dltTemplateId: form.dltTemplateId || null, active: form.active };
  const save = async (event) => {
    event.preventDefault();
    if (await act.run(() => staffApi("PUT", path, body), "Template saved.")) onDone();
  };
  const reset = async () => {
    if (await act.run(() => staffApi("DELETE", path), "Back to the default.")) onDone();
  };
  const show = async () => {
    const answer = await act.run(() =>
      staffApi("POST", settingsPath(brandId, "templates/preview"), { event: template.event, kind: template.kind, body: form.body, subject: form.subject || null })
    );
    if (answer) setPreview(answer);
  };
  return html`<form class="card" onSubmit=${save} aria-labelledby="tp-h">
    <h2 id="tp-h">${template.event} · ${template.kind}</h2>
    <p class="muted">Variables: ${template.variables.map((v) => html`<code title=${v.description}>{{ ${v.name} }}</code> `)}</p>
    ${template.kind === "email" && html`<${Field} id="tp-subject" label="Subject" value=${form.subject} onInput=${set("subject")} disabled=${!canManage} />`}
    <${Field} id="tp-body" label="Text" area rows="6" value=${form.body} onInput=${set("body")} disabled=${!canManage} />
    ${template.kind !== "email" &&
    html`<${Field} id="tp-dlt" label=${template.kind === "sms" ? "DLT template id" : "Campaign name"} value=${form.dltTemplateId} onInput=${set("dltTemplateId")} disabled=${!canManage} />`}
    <${Field} id="tp-active" type="checkbox" label="Send it" value=${form.active} onInput=${set("active")} disabled=${!canManage} />
    <div class="ops-actions">
      <button type="button" class="secondary" onClick=${show} disabled=${act.busy}>Preview</button>
      ${canManage && html`<button type="submit" disabled=${act.busy}>Save the template</button>`}
      ${canManage && !template.isDefault && html`<button type="button" class="secondary" onClick=${reset} disabled=${act.busy}>Back to the default</button>`}
      <button type="button" class="secondary" onClick=${onDone}>Close</button>
    </div>
    <${Alert} error=${act.error} />
    <${Done} message=${act.done} />
    ${preview &&
    html`<div class="notice" role="status">${preview.subject && html`<strong>${preview.subject}</strong><br />`}
      <span class="ops-code">${preview.body}</span><br /><small>${preview.characters} characters</small></div>`}
  </form>`;
}
