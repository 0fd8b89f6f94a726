// Reminders: schedule a message for a customer (channel, template, when, its variables), list the brand's
// reminders with filters, open one with its log, cancel one still pending.
import { html, useState } from "/ui/vendor/preact-htm.js";
import { when } from "/ui/shared/api.js";
import {
  Alert, Done, Field, Heading, Pager, Table, brandPath, istInstant, qs, staffApi, useAction, useLoad, useOpsStyles,
} from "../ops/ui.js";

const CHANNELS = ["sms", "whatsapp", "email"];

/** "name=value" lines -> {name: value}, numbers as numbers. */
function parseVariables(text) {
  const out = {};
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    const at = line.indexOf("=");
    if (at < 1) throw new Error(`"${line.trim()}" is not name=value`);
    const value = line.slice(at + 1).trim();
    out[line.slice(0, at).trim()] = /^-?\d+$/.test(value) ? Number(value) : value;
  }
  return out;
}

export default function Reminders({ query, me, brandId }) {
  useOpsStyles();
  const can = (p) => (me.permissions || []).includes(p);
  const empty = { status: "", channel: "", customerId: query.userId || "", scheduledFrom: "", scheduledTo: "" };
  const [form, setForm] = useState(empty);
  const [filters, setFilters] = useState(empty);
  const [page, setPage] = useState(1);
  const [version, setVersion] = useState(0);
  const [open, setOpen] = useState(null);
  const set = (key) => (value) => setForm({ ...form, [key]: value });
  const list = useLoad(
    () =>
      staffApi(
        "GET",
        brandPath(brandId, `reminders${qs({ ...filters, scheduledFrom: istInstant(filters.scheduledFrom), scheduledTo: istInstant(filters.scheduledTo), page, limit: 25 })}`)
      ),
    [brandId, filters, page, version]
  );
  const changed = () => setVersion((v) => v + 1);
  const columns = [
    { label: "When", render: (r) => when(r.scheduledAt) },
    { label: "Customer", render: (r) => html`<a href=${`#/customers/${r.customerId}`}>${r.customerName || r.customerId.slice(0, 8)}</a>` },
    { label: "Channel", key: "channel" },
    { label: "Template", key: "template" },
    { label: "Status", render: (r) => `${r.status}${r.failureReason ? ` (${r.failureReason})` : ""}` },
    { label: "", render: (r) => html`<button type="button" class="secondary" aria-label=${`Open the reminder of ${when(r.scheduledAt)}`} onClick=${() => setOpen(r.id)}>Open</button>` },
  ];
  return html`<section>
    <${Heading} title="Reminders">Messages scheduled for customers; the dispatcher sends them each minute.</${Heading}>
    ${can("loans.comment") && html`<${Create} brandId=${brandId} me=${me} userId=${query.userId || ""} onDone=${changed} />`}
    <form class="card ops-filters" onSubmit=${(e) => (e.preventDefault(), setPage(1), setFilters({ ...form }))} aria-label="Reminder filters">
      <${Field} id="rm-fstatus" label="Status" value=${form.status} onInput=${set("status")} options=${[["", "any"], "PENDING", "SENT", "FAILED", "CANCELLED"]} />
      <${Field} id="rm-fchannel" label="Channel" value=${form.channel} onInput=${set("channel")} options=${[["", "any"], ...CHANNELS]} />
      <${Field} id="rm-fcustomer" label="Customer id" value=${form.customerId} onInput=${set("customerId")} />
      <${Field} id="rm-ffrom" label="Scheduled from (IST)" type="datetime-local" value=${form.scheduledFrom} onInput=${set("scheduledFrom")} />
      <${Field} id="rm-fto" label="Scheduled to (IST)" type="datetime-local" value=${form.scheduledTo} onInput=${set("scheduledTo")} />
      <div class="ops-actions"><button type="submit">Apply</button></div>
    </form>
    <${Alert} error=${list.error} />
    ${open && html`<${Detail} key=${open} brandId=${brandId} id=${open} onClose=${() => setOpen(null)} onDone=${changed} />`}
    ${list.data &&
    html`<${Table} caption="Reminders" columns=${columns} rows=${list.data.items} rowKey=${(r) => r.id} empty="No reminder matches." />
      <${Pager} label="Reminder pages" page=${list.data.page} limit=${list.data.limit} total=${list.data.total} onPage=${setPage} />`}
  </section>`;
}

function Create({ brandId, me, userId, onDone }) {
  const [form, setForm] = useState({ userId, loanId: "", channel: "sms", template: "DUE_REMINDER", at: "", variables: "" });
  const [find, setFind] = useState("");
  const set = (key) => (value) => setForm({ ...form, [key]: value });
  const templates = useLoad(
    () => ((me.permissions || []).includes("settings.view") ? staffApi("GET", brandPath(brandId, "settings/templates")) : []),
    [brandId]
  );
  const found = useLoad(
    () => (find.trim().length >= 2 ? staffApi("GET", brandPath(brandId, `customers${qs({ search: find.trim(), limit: 10 })}`)) : null),
    [brandId, find]
  );
  const events = [...new Set((templates.data || []).map((t) => t.event))].sort();
  const declared = (templates.data || []).find((t) => t.event === form.template && t.kind === form.channel);
  const act = useAction();
  const submit = async (event) => {
    event.preventDefault();
    let variables;
    try {
      variables = parseVariables(form.variables);
    } catch (e) {
      return act.setError(`Please correct the variables: ${e.message}.`);
    }
    const body = { userId: form.userId, channel: form.channel, template: form.template, scheduledAt: istInstant(form.at), variables };
    if (form.loanId) body.loanId = form.loanId;
    const ok = await act.run(() => staffApi("POST", brandPath(brandId, "reminders"), body), "Reminder scheduled.");
    if (ok) {
      setForm({ ...form, at: "", variables: "" });
      onDone();
    }
  };
  const customers = (found.data && found.data.items) || [];
  return html`<form class="card" onSubmit=${submit} aria-labelledby="rc-h">
    <h2 id="rc-h">Schedule a reminder</h2>
    <div class="ops-filters">
      <${Field} id="rc-find" label="Find the customer" type="search" value=${find} onInput=${setFind} placeholder="name, phone or PAN" />
      <${Field} id="rc-user" label="Customer" required value=${form.userId} onInput=${set("userId")}
        options=${[
          ["", "choose…"],
          ...(form.userId && !customers.some((c) => c.id === form.userId) ? [[form.userId, `customer ${form.userId.slice(0, 8)}`]] : []),
          ...customers.map((c) => [c.id, `${c.fullName || "(no name)"} · ${c.phone}`]),
        ]} />
      <${Field} id="rc-loan" label="Loan id (optional)" value=${form.loanId} onInput=${set("loanId")} />
      <${Field} id="rc-channel" label="Channel" value=${form.channel} onInput=${set("channel")} options=${CHANNELS} />
      <${Field} id="rc-template" label="Template (event)" required value=${form.template} onInput=${set("template")} list="rc-events" />
      <${Field} id="rc-at" label="Send at (IST)" type="datetime-local" required value=${form.at} onInput=${set("at")} />
    </div>
    <datalist id="rc-events">${events.map((e) => html`<option value=${e} />`)}</datalist>
    <${Field} id="rc-vars" label="Variables (one name=value a line)" area value=${form.variables} onInput=${set("variables")}
      hint=${declared ? `This template takes: ${declared.variables.map((v) => `${v.name} (${v.kind})`).join(", ")}` : ""} />
    <div class="ops-actions">
      ${declared &&
      html`<button type="button" class="secondary"
        onClick=${() => set("variables")(declared.variables.map((v) => `${v.name}=`).join("\n"))}>List the template's variables</button>`}
      <button type="submit" disabled=${act.busy}>Schedule the reminder</button>
    </div>
    <${Alert} error=${act.error} />
    <${Done} message=${act.done} />
  </form>`;
}

function Detail({ brandId, id, onClose, onDone }) {
  const one = useLoad(() => staffApi("GET", brandPath(brandId, `reminders/${id}`)), [brandId, id]);
  const act = useAction();
  const cancel = async () => {
    if (await act.run(() => staffApi("POST", brandPath(brandId, `reminders/${id}/cancel`)), "Reminder cancelled.")) {
      one.reload();
      onDone();
    }
  };
  const r = one.data;
  return html`<section class="card" aria-labelledby="rd-h">
    <h2 id="rd-h">Reminder</h2>
    <${Alert} error=${one.error || act.error} />
    <${Done} message=${act.done} />
    ${r &&
    html`<dl class="ops-kv">
        <dt>Customer</dt><dd>${r.customerName || r.customerId}</dd>
        <dt>Channel and template</dt><dd>${r.channel} · ${r.template}</dd>
        <dt>When</dt><dd>${when(r.scheduledAt)}</dd>
        <dt>Status</dt><dd>${r.status} (${r.attempts} attempts)${r.failureReason ? `: ${r.failureReason}` : ""}</dd>
        <dt>Variables</dt><dd class="ops-code">${JSON.stringify(r.variables)}</dd>
      </dl>
      <${Table} caption="Reminder log" rows=${r.log} columns=${[
        { label: "When", render: (l) => when(l.createdAt) }, { label: "What", key: "action" },
        { label: "Who", render: (l) => (l.actorId ? l.actorId.slice(0, 8) : "the dispatcher") },
        { label: "Details", render: (l) => html`<span class="ops-code">${JSON.stringify(l.details)}</span>` },
      ]} />`}
    <div class="ops-actions">
      ${r && r.status === "PENDING" && html`<button type="button" class="danger" onClick=${cancel} disabled=${act.busy}>Cancel the reminder</button>`}
      <button type="button" class="secondary" onClick=${onClose}>Close</button>
    </div>
  </section>`;
}
