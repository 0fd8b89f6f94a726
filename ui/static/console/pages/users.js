// Users, roles and API keys: the brand's staff (filters, add, change role, deactivate, reset a password, remove),
// the brand's API keys (create — the key shown once —, rotate, revoke), and the staff sign-in log.
import { html, useState } from "/ui/vendor/preact-htm.js";
import { when } from "/ui/shared/api.js";
import {
  Alert, Done, Field, Heading, Pager, Table, brandPath, qs, staffApi, useAction, useLoad, useOpsStyles,
} from "../ops/ui.js";

const ROLES = [
  "ADMIN", "LOAN_EXECUTIVE", "CREDIT_EXECUTIVE", "SANCTION_MANAGER", "SANCTION_HEAD", "COLLECTION_EXECUTIVE",
  "COLLECTION_MANAGER", "COLLECTION_HEAD",
];
const TABS = [["staff", "Staff"], ["keys", "API keys"], ["logins", "Sign-ins"]];

export default function Users({ query, me, brandId }) {
  useOpsStyles();
  const can = (p) => (me.permissions || []).includes(p);
  const tab = TABS.find((t) => t[0] === query.tab) || TABS[0];
  return html`<section>
    <${Heading} title="Users and keys">The brand's staff and their roles, the API keys of its systems, who signed in.</${Heading}>
    <nav class="ops-tabs" aria-label="Users sections">
      ${TABS.map((t) => html`<a href=${`#/users?tab=${t[0]}`} aria-current=${t === tab ? "page" : undefined}>${t[1]}</a>`)}
    </nav>
    ${tab[0] === "staff" && html`<${Staff} brandId=${brandId} me=${me} canManage=${can("staff.manage")} />`}
    ${tab[0] === "keys" && html`<${Keys} brandId=${brandId} />`}
    ${tab[0] === "logins" && html`<${Logins} brandId=${brandId} />`}
  </section>`;
}

function Staff({ brandId, me, canManage }) {
  const [form, setForm] = useState({ role: "", active: "", search: "" });
  const [filters, setFilters] = useState(form);
  const [page, setPage] = useState(1);
  const [editing, setEditing] = useState(null);
  const [note, setNote] = useState(null);
  const list = useLoad(() => staffApi("GET", brandPath(brandId, `user${qs({ ...filters, page, limit: 25 })}`)), [brandId, filters, page]);
  const columns = [
    { label: "Name", key: "name" },
    { label: "E-mail", key: "email" },
    { label: "Role", key: "role" },
    { label: "Active", render: (u) => (u.isActive ? "yes" : "no") },
    { label: "Last sign-in", render: (u) => when(u.lastLoginAt) },
    { label: "", render: (u) => (canManage && u.id !== me.id ? html`<button type="button" class="secondary" aria-label=${`Edit ${u.email}`} onClick=${() => setEditing(u)}>Edit</button>` : "") },
  ];
  return html`<div>
    <form class="card ops-filters" onSubmit=${(e) => (e.preventDefault(), setPage(1), setFilters({ ...form }))} aria-label="Staff filters">
      <${Field} id="us-role" label="Role" value=${form.role} onInput=${(v) => setForm({ ...form, role: v })} options=${[["", "any"], ...ROLES]} />
      <${Field} id="us-active" label="Active" value=${form.active} onInput=${(v) => setForm({ ...form, active: v })} options=${[["", "any"], ["true", "active"], ["false", "deactivated"]]} />
      <${Field} id="us-search" label="Name or e-mail" type="search" value=${form.search} onInput=${(v) => setForm({ ...form, search: v })} />
      <div class="ops-actions"><button type="submit">Apply</button></div>
    </form>
    <${Alert} error=${list.error} />
    <${Done} message=${note} />
    ${editing &&
    html`<${Edit} key=${editing.id} brandId=${brandId} user=${editing}
      onDone=${(message) => (setEditing(null), setNote(typeof message === "string" ? message : null), list.reload())} />`}
    ${list.data &&
    html`<${Table} caption="Staff" columns=${columns} rows=${list.data.items} rowKey=${(u) => u.id} empty="No one matches." />
      <${Pager} label="Staff pages" page=${list.data.page} limit=${list.data.limit} total=${list.data.total} onPage=${setPage} />`}
    ${canManage && html`<${Create} brandId=${brandId} onDone=${list.reload} />`}
  </div>`;
}

function Create({ brandId, onDone }) {
  const blank = { email: "", name: "", phone: "", role: "LOAN_EXECUTIVE", password: "" };
  const [form, setForm] = useState(blank);
  const set = (key) => (value) => setForm({ ...form, [key]: value });
  const act = useAction();
  const submit = async (event) => {
    event.preventDefault();
    const body = { ...form, phone: form.phone || null };
    if (await act.run(() => staffApi("POST", brandPath(brandId, "user/create"), body), `${form.email} can now sign in.`)) {
      setForm(blank);
      onDone();
    }
  };
  return html`<form class="card" onSubmit=${submit} aria-labelledby="uc-h">
    <h2 id="uc-h">Add a staff member</h2>
    <div class="ops-filters">
      <${Field} id="uc-email" label="E-mail" type="email" required value=${form.email} onInput=${set("email")} />
      <${Field} id="uc-name" label="Name" required value=${form.name} onInput=${set("name")} />
      <${Field} id="uc-phone" label="Mobile (optional)" inputmode="numeric" value=${form.phone} onInput=${set("phone")} />
      <${Field} id="uc-role" label="Role" value=${form.role} onInput=${set("role")} options=${ROLES} />
      <${Field} id="uc-password" label="First password" type="password" autocomplete="new-password" required value=${form.password} onInput=${set("password")} />
    </div>
    <div class="ops-actions"><button type="submit" disabled=${act.busy}>Add the staff member</button></div>
    <${Alert} error=${act.error} />
    <${Done} message=${act.done} />
  </form>`;
}

function Edit({ brandId, user, onDone }) {
  const [form, setForm] = useState({ name: user.name, role: user.role || "LOAN_EXECUTIVE", isActive: user.isActive, password: "" });
  const set = (key) => (value) => setForm({ ...form, [key]: value });
  const act = useAction();
  const save = async (event) => {
    event.preventDefault();
    const body = { name: form.name, role: form.role, isActive: form.isActive };
    if (form.password) body.password = form.password;
    if (await act.run(() => staffApi("PUT", brandPath(brandId, `user/${user.id}/update`), body))) onDone(`${user.email} saved.`);
  };
  const remove = async () => {
    if (!window.confirm(`Remove ${user.email} from this brand? Their loans go back to the pool.`)) return;
    if (await act.run(() => staffApi("DELETE", brandPath(brandId, `user/${user.id}`)))) onDone(`${user.email} removed from the brand.`);
  };
  return html`<form class="card" onSubmit=${save} aria-labelledby="ue-h">
    <h2 id="ue-h">Edit ${user.email}</h2>
    <div class="ops-filters">
      <${Field} id="ue-name" label="Name" required value=${form.name} onInput=${set("name")} />
      <${Field} id="ue-role" label="Role in this brand" value=${form.role} onInput=${set("role")} options=${ROLES} />
      <${Field} id="ue-password" label="New password (optional)" type="password" autocomplete="new-password" value=${form.password} onInput=${set("password")} />
    </div>
    <${Field} id="ue-active" type="checkbox" label="May sign in" value=${form.isActive} onInput=${set("isActive")} />
    <div class="ops-actions">
      <button type="submit" disabled=${act.busy}>Save</button>
      <button type="button" class="danger" onClick=${remove} disabled=${act.busy}>Remove from the brand</button>
      <button type="button" class="secondary" onClick=${() => onDone()}>Close</button>
    </div>
    <${Alert} error=${act.error} />
  </form>`;
}

function Keys({ brandId }) {
  const list = useLoad(() => staffApi("GET", brandPath(brandId, "api-keys")), [brandId]);
  const [name, setName] = useState("");
  const [fresh, setFresh] = useState(null);
  const act = useAction();
  const made = (answer) => {
    if (answer) {
      setFresh(answer);
      list.reload();
    }
  };
  const create = async (event) => {
    event.preventDefault();
    made(await act.run(() => staffApi("POST", brandPath(brandId, "api-keys"), { name })));
    setName("");
  };
  const rotate = async (k) => made(await act.run(() => staffApi("POST", brandPath(brandId, `api-keys/${k.id}/rotate`))));
  const revoke = async (k) => {
    if (!window.confirm(`Revoke the key "${k.name}"? Systems using it stop working.`)) return;
    if (await act.run(() => staffApi("DELETE", brandPath(brandId, `api-keys/${k.id}`)), "Key revoked.")) list.reload();
  };
  const columns = [
    { label: "Name", key: "name" },
    { label: "Ends with", key: "last4" },
    { label: "Created", render: (k) => when(k.createdAt) },
    { label: "Last used", render: (k) => when(k.lastUsedAt) },
    { label: "State", render: (k) => (k.revokedAt ? `revoked ${when(k.revokedAt)}` : "works") },
    {
      label: "",
      render: (k) =>
        k.revokedAt
          ? ""
          : html`<span class="ops-actions" style="margin:0">
              <button type="button" class="secondary" aria-label=${`Rotate ${k.name}`} onClick=${() => rotate(k)}>Rotate</button>
              <button type="button" class="secondary" aria-label=${`Revoke ${k.name}`} onClick=${() => revoke(k)}>Revoke</button></span>`,
    },
  ];
  return html`<div>
    <${Alert} error=${list.error || act.error} />
    <${Done} message=${act.done} />
    ${fresh &&
    html`<div class="notice" role="status">New key for “${fresh.name}” — copy it now, it is not shown again:
      <p class="ops-code"><strong>${fresh.key}</strong></p>
      <button type="button" class="secondary" onClick=${() => setFresh(null)}>I have copied it</button></div>`}
    ${list.data && html`<${Table} caption="API keys" columns=${columns} rows=${list.data.items} rowKey=${(k) => k.id} empty="No API key." />`}
    <form class="card ops-filters" onSubmit=${create} aria-label="Create an API key">
      <${Field} id="ak-name" label="What the key is for" required value=${name} onInput=${setName} maxlength="100" />
      <div class="ops-actions"><button type="submit" disabled=${act.busy}>Create a key</button></div>
    </form>
  </div>`;
}

function Logins({ brandId }) {
  const [page, setPage] = useState(1);
  const list = useLoad(() => staffApi("GET", brandPath(brandId, `reports/login-logs${qs({ page, limit: 50 })}`)), [brandId, page]);
  const columns = [
    { label: "When", render: (l) => when(l.createdAt) },
    { label: "E-mail", key: "email" },
    { label: "Result", render: (l) => (l.success ? "signed in" : `refused: ${l.reason || ""}`) },
    { label: "IP", key: "ip" },
    { label: "New device", render: (l) => (l.newDevice ? "yes" : "") },
  ];
  return html`<div>
    <${Alert} error=${list.error} />
    ${list.data &&
    html`<${Table} caption="Sign-ins" columns=${columns} rows=${list.data.items} rowKey=${(l) => l.id} empty="No sign-in." />
      <${Pager} label="Sign-in pages" page=${list.data.page} limit=${list.data.limit} total=${list.data.total} onPage=${setPage} />`}
  </div>`;
}
