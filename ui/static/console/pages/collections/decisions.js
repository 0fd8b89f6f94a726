// The managers' decisions on a loan in arrears (maker-checker where two people must agree): settlement proposed
// and approved or rejected by another person, penal waiver, write-off. Each refusal is explained in words.
import { html, useState } from "/ui/vendor/preact-htm.js";
import { rupees, when } from "/ui/shared/api.js";
import { Alert, Done, Field, Table, brandPath, staffApi, toPaise, useAction, useLoad } from "../../ops/ui.js";

export function Decisions({ brandId, loanId, me, onChanged }) {
  const can = (p) => (me.permissions || []).includes(p);
  const settlements = useLoad(() => staffApi("GET", brandPath(brandId, `collection/${loanId}/settlements`)), [brandId, loanId]);
  const quote = useLoad(
    () => (can("collections.manage") ? staffApi("GET", brandPath(brandId, `loans/${loanId}/foreclosure-quote`)) : null),
    [brandId, loanId, settlements.data]
  );
  const changed = () => {
    settlements.reload();
    onChanged();
  };
  return html`<section class="card ops-card" aria-labelledby="dec-h">
    <h2 id="dec-h">Decisions</h2>
    ${quote.data &&
    html`<p>What closes the loan today: <strong>${rupees(quote.data.total)}</strong>
      (principal ${rupees(quote.data.principal)}, interest ${rupees(quote.data.interest)}, fees ${rupees(quote.data.fees)},
      penal ${rupees(quote.data.penal)}).</p>`}
    <${Alert} error=${quote.error} />
    <div class="ops-grid">
      ${can("collections.manage") && html`<${Settlement} brandId=${brandId} loanId=${loanId} list=${settlements} me=${me} onChanged=${changed} />`}
      ${can("collections.manage") && html`<${Waiver} brandId=${brandId} loanId=${loanId} onChanged=${changed} />`}
      ${can("collections.writeoff") && html`<${WriteOff} brandId=${brandId} loanId=${loanId} onChanged=${changed} />`}
    </div>
  </section>`;
}

function Settlement({ brandId, loanId, list, me, onChanged }) {
  const [form, setForm] = useState({ amount: "", reason: "", deadline: "" });
  const [decision, setDecision] = useState("");
  const set = (key) => (value) => setForm({ ...form, [key]: value });
  const act = useAction();
  const propose = async (event) => {
    event.preventDefault();
    const amount = toPaise(form.amount);
    if (!amount) return act.setError("Please correct: the settlement amount, in rupees (e.g. 12000).");
    const body = { amount, reason: form.reason };
    if (form.deadline) body.deadline = form.deadline;
    const ok = await act.run(
      () => staffApi("POST", brandPath(brandId, `collection/${loanId}/settlement`), body),
      "Settlement proposed: another person must approve it."
    );
    if (ok) {
      setForm({ amount: "", reason: "", deadline: "" });
      onChanged();
    }
  };
  const decide = async (verb) => {
    const body = decision ? { reason: decision } : verb === "reject" ? { reason: "" } : {};
    const ok = await act.run(
      () => staffApi("POST", brandPath(brandId, `collection/${loanId}/settlement/${verb}`), body),
      (a) => `Settlement ${a.result.toLowerCase()}; the loan is ${a.status}.`
    );
    if (ok) {
      setDecision("");
      onChanged();
    }
  };
  const rows = list.data || [];
  const open = rows.find((r) => r.status === "PROPOSED");
  const columns = [
    { label: "Proposed", render: (r) => when(r.createdAt) },
    { label: "Amount", render: (r) => rupees(r.amount), num: true },
    { label: "Owed then", render: (r) => rupees(r.outstanding), num: true },
    { label: "Deadline", key: "deadline" },
    { label: "Status", render: (r) => html`<span data-testid="settlement-status">${r.status}</span>` },
    { label: "By", render: (r) => (r.proposedBy === me.id ? "me" : r.proposedBy.slice(0, 8)) },
    { label: "Collected", render: (r) => rupees(r.collected), num: true },
  ];
  return html`<div aria-labelledby="set-h">
    <h3 id="set-h">Settlement</h3>
    ${!open &&
    html`<form onSubmit=${propose} aria-label="Propose a settlement">
      <${Field} id="st-amount" label="Settlement amount (₹)" inputmode="decimal" required value=${form.amount} onInput=${set("amount")} />
      <${Field} id="st-reason" label="Reason" required value=${form.reason} onInput=${set("reason")} maxlength="1000" />
      <${Field} id="st-deadline" label="Pay by (optional)" type="date" value=${form.deadline} onInput=${set("deadline")} />
      <div class="ops-actions"><button type="submit" disabled=${act.busy}>Propose the settlement</button></div>
    </form>`}
    ${open &&
    html`<div>
      <p>Open proposal: ${rupees(open.amount)} of ${rupees(open.outstanding)} owed, by ${open.deadline}
        (${open.proposedBy === me.id ? "proposed by you: another person decides" : "proposed by someone else"}).</p>
      <${Field} id="st-decision" label="Reason for the decision" value=${decision} onInput=${setDecision} maxlength="1000" />
      <div class="ops-actions">
        <button type="button" onClick=${() => decide("approve")} disabled=${act.busy}>Approve the settlement</button>
        <button type="button" class="danger" onClick=${() => decide("reject")} disabled=${act.busy}>Reject it</button>
      </div>
    </div>`}
    <${Alert} error=${act.error || list.error} />
    <${Done} message=${act.done} />
    <${Table} caption="Settlements" columns=${columns} rows=${rows} empty="No settlement yet." />
  </div>`;
}

function Waiver({ brandId, loanId, onChanged }) {
  const [form, setForm] = useState({ amount: "", reason: "" });
  const set = (key) => (value) => setForm({ ...form, [key]: value });
  const act = useAction();
  const submit = async (event) => {
    event.preventDefault();
    const amount = toPaise(form.amount);
    if (!amount) return act.setError("Please correct: the penal charges to waive, in rupees.");
    const ok = await act.run(
      () => staffApi("POST", brandPath(brandId, `collection/${loanId}/waiver`), { amount, reason: form.reason }),
      (a) => `Penal charges waived; the loan is ${a.status}.`
    );
    if (ok) {
      setForm({ amount: "", reason: "" });
      onChanged();
    }
  };
  return html`<form onSubmit=${submit} aria-labelledby="wv-h">
    <h3 id="wv-h">Penal waiver</h3>
    <${Field} id="wv-amount" label="Penal charges to waive (₹)" inputmode="decimal" required value=${form.amount} onInput=${set("amount")} />
    <${Field} id="wv-reason" label="Reason for the waiver" required value=${form.reason} onInput=${set("reason")} maxlength="1000" />
    <div class="ops-actions"><button type="submit" disabled=${act.busy}>Waive penal charges</button></div>
    <${Alert} error=${act.error} />
    <${Done} message=${act.done} />
  </form>`;
}

function WriteOff({ brandId, loanId, onChanged }) {
  const [reason, setReason] = useState("");
  const [sure, setSure] = useState(false);
  const act = useAction();
  const submit = async (event) => {
    event.preventDefault();
    const ok = await act.run(
      () => staffApi("POST", brandPath(brandId, `collection/${loanId}/writeoff`), { reason }),
      (a) => `Written off: the loan is ${a.status}.`
    );
    if (ok) onChanged();
  };
  return html`<form onSubmit=${submit} aria-labelledby="wo-h">
    <h3 id="wo-h">Write-off</h3>
    <${Field} id="wo-reason" label="Reason for the write-off" required value=${reason} onInput=${setReason} maxlength="1000" />
    <${Field} id="wo-sure" type="checkbox" label="I understand the loan ends WRITTEN_OFF" value=${sure} onInput=${setSure} />
    <div class="ops-actions"><button type="submit" class="danger" disabled=${act.busy || !sure}>Write the loan off</button></div>
    <${Alert} error=${act.error} />
    <${Done} message=${act.done} />
  </form>`;
}
