// Restructure (api/partner/servicing_actions.py): a collection manager proposes new terms for the outstanding
// principal (a number of installments, or a new EMI whose count follows) with the first new due date and a reason;
// another person (a collection head or an admin) approves or rejects it. Each proposal is listed with its schedule;
// an approved one's schedule is the loan's from its first new installment. Refusals are explained in words.
import { html, useState } from "/ui/vendor/preact-htm.js";
import { rupees, todayIst, when } from "../../lib/format.js";
import { Badge, brandUrl, can, ErrorNote, Loaded, Notice, Section, staff, Table, useLoad } from "../../lib/ui.js";
import { Field, ReasonSelect, Select, useId } from "../../lib/forms.js";

const SERVICING = ["DISBURSED", "OVERDUE"];

/** The grounds a restructure is offered on (the brand's status reasons have no restructure category). */
export const GROUNDS = [
  ["", "Choose the ground"],
  ["Temporary loss of income", "Temporary loss of income"],
  ["Medical emergency", "Medical emergency"],
  ["Business disruption", "Business disruption"],
  ["Natural calamity", "Natural calamity"],
  ["Other hardship", "Other hardship"],
];

/** Rupees typed by a person as paise; null when blank, NaN when not an amount. */
function paise(text) {
  const clean = String(text || "").replace(/[,₹\s]/g, "");
  if (!clean) return null;
  if (!/^\d+(\.\d{1,2})?$/.test(clean)) return NaN;
  const [whole, fraction = ""] = clean.split(".");
  return Number(whole) * 100 + Number((fraction + "00").slice(0, 2));
}

/** The proposal's body from the form, or the first problem in words (the API checks the same again). */
export function proposal(form, today = todayIst()) {
  const body = {};
  if (form.mode === "installments") {
    const n = Number(form.installments);
    if (!/^\d+$/.test(String(form.installments).trim()) || n < 1 || n > 360)
      return { problem: "Please correct: installments: a whole number from 1 to 360." };
    body.installments = n;
  } else {
    const emi = paise(form.emi);
    if (!emi || Number.isNaN(emi)) return { problem: "Please correct: emi: the new installment in rupees, above 0 (e.g. 2500)." };
    body.emi = emi;
  }
  if (form.firstDue) {
    if (form.firstDue <= today) return { problem: "Please correct: firstDue: must be after today (IST)." };
    body.firstDue = form.firstDue;
  }
  const reason = [form.ground, form.remarks.trim()].filter(Boolean).join(": ");
  if (!reason) return { problem: "Please correct: reason: choose the ground or write why." };
  body.reason = reason;
  return { body };
}

function ScheduleTable({ rows, caption }) {
  return html`<${Table}
    caption=${caption}
    rows=${rows || []}
    rowKey=${(r) => r.number}
    empty="No installments."
    columns=${[
      { title: "#", className: "num", render: (r) => r.number },
      { title: "Due", render: (r) => r.dueDate || when(r.dueAt) },
      { title: "Principal", className: "num", render: (r) => rupees(r.principal) },
      { title: "Interest", className: "num", render: (r) => rupees(r.interest) },
      { title: "Fees · penal", className: "num", render: (r) => rupees((r.fees || 0) + (r.penal || 0)) },
      { title: "Installment", className: "num", render: (r) => rupees((r.principal || 0) + (r.interest || 0) + (r.fees || 0) + (r.penal || 0)) },
    ]}
  />`;
}

function Propose({ loan, brandId, onDone }) {
  const [form, setForm] = useState({ mode: "installments", installments: "", emi: "", firstDue: "", ground: "", remarks: "" });
  const set = (key) => (value) => setForm((f) => ({ ...f, [key]: value }));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const groundId = useId("ground");
  const submit = async (event) => {
    event.preventDefault();
    setError(null);
    const { body, problem } = proposal(form);
    if (problem) return setError(problem);
    setBusy(true);
    try {
      await staff("POST", brandUrl(brandId, `collection/${loan.id}/restructure`), body);
      setForm((f) => ({ ...f, installments: "", emi: "", remarks: "" }));
      onDone("Restructure proposed: another person (a collection head or an admin) must approve it.");
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return html`<form class="action-form card" onSubmit=${submit} aria-label="Propose a restructure" novalidate>
    <h3>Propose a restructure</h3>
    <p class="muted">The outstanding principal over new installments; what is overdue rides on the first new one (never
      capitalised). Once approved the loan is flagged restructured and classified NPA until it performs for a year.</p>
    <${Select} label="Restructure by" value=${form.mode} onChange=${set("mode")}
      options=${[["installments", "A number of installments"], ["emi", "A new EMI (the count follows)"]]} />
    ${form.mode === "installments"
      ? html`<${Field} label="New number of installments" required value=${form.installments} onInput=${set("installments")}
          inputmode="numeric" hint="1 to 360" />`
      : html`<${Field} label="New EMI (₹)" required value=${form.emi} onInput=${set("emi")} inputmode="decimal" />`}
    <${Field} label="First new due date" optional type="date" min=${todayIst()} value=${form.firstDue} onInput=${set("firstDue")}
      hint="After today; default: 30 days from today" />
    <div class="field">
      <label for=${groundId}>Ground</label>
      <select id=${groundId} value=${form.ground} onChange=${(e) => set("ground")(e.target.value)}>
        ${GROUNDS.map(([v, text]) => html`<option value=${v}>${text}</option>`)}
      </select>
    </div>
    <${Field} label="Reason / remarks" type="textarea" value=${form.remarks} onInput=${set("remarks")} maxlength="900" />
    ${error && html`<${ErrorNote} error=${error} action />`}
    <p><button type="submit" disabled=${busy}>${busy ? "Working…" : "Propose the restructure"}</button></p>
  </form>`;
}

function Decide({ open, loan, brandId, me, onDone }) {
  const [reasonCode, setReasonCode] = useState("");
  const [reason, setReason] = useState(null);
  const [remarks, setRemarks] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const decide = async (verb) => {
    setError(null);
    const text = [reason ? reason.label : "", remarks.trim()].filter(Boolean).join(": ");
    if (verb === "reject" && !text) return setError("Please correct: reason: a rejection needs a reason (choose one or write it).");
    setBusy(true);
    try {
      const answer = await staff("POST", brandUrl(brandId, `collection/${loan.id}/restructure/${verb}`), text ? { reason: text } : {});
      onDone(verb === "approve"
        ? `Restructure approved: the new schedule applies; the loan is ${answer.status}.`
        : "Restructure rejected: the loan keeps its schedule.");
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const mine = open.proposedBy === me.id;
  return html`<div class="action-form card" role="group" aria-label="Decide the restructure">
    <h3>Decide the proposal</h3>
    <p>${open.installments} installments of ${rupees(open.emi)} from ${open.firstDue}, for ${rupees(open.outstandingPrincipal)}
      of principal (${mine ? "proposed by you: another person decides" : "proposed by someone else"}).</p>
    <${ReasonSelect} brandId=${brandId} appliesTo="REJECTED" value=${reasonCode} label="Reason for a rejection"
      onChange=${(code, row) => (setReasonCode(code), setReason(row))} />
    <${Field} label="Decision remarks" optional type="textarea" value=${remarks} onInput=${setRemarks} maxlength="900" />
    ${error && html`<${ErrorNote} error=${error} action />`}
    <p class="row-actions">
      <button type="button" disabled=${busy} onClick=${() => decide("approve")}>Approve the restructure</button>
      <button type="button" class="danger" disabled=${busy} onClick=${() => decide("reject")}>Reject the restructure</button>
    </p>
  </div>`;
}

/** The loan's Restructure tab. */
export function Restructure({ loan, me, brandId, onChanged }) {
  const list = useLoad(() => staff("GET", brandUrl(brandId, `collection/${loan.id}/restructures`)), [brandId, loan.id]);
  const [notice, setNotice] = useState(null);
  const changed = (message) => {
    setNotice(message || null);
    list.reload();
    onChanged();
  };
  const manager = can(me, "collections.manage");
  const servicing = SERVICING.includes(loan.status);
  return html`<${Loaded} state=${list} what="the restructures">
    ${(rows) => {
      rows = rows || [];
      const open = rows.find((r) => r.status === "PROPOSED");
      const shown = open || rows[0];
      return html`<div>
        <${Notice}>${notice}<//>
        ${!servicing && html`<p class="muted">A loan is restructured while it is being repaid (disbursed or overdue); this one is ${loan.status}.</p>`}
        ${servicing && !manager && html`<p class="muted">Restructures are proposed and decided by collection managers, heads and admins.</p>`}
        ${servicing && manager && html`<div class="action-grid">
          ${!open && html`<${Propose} loan=${loan} brandId=${brandId} onDone=${changed} />`}
          ${open && html`<${Decide} key=${open.id} open=${open} loan=${loan} brandId=${brandId} me=${me} onDone=${changed} />`}
        </div>`}
        <${Section} title="Restructures">
          <${Table}
            caption="Restructures"
            rows=${rows}
            rowKey=${(r) => r.id}
            empty="No restructure proposed for this loan."
            columns=${[
              { title: "Proposed", render: (r) => when(r.createdAt) },
              { title: "Installments", className: "num", render: (r) => r.installments },
              { title: "EMI", className: "num", render: (r) => rupees(r.emi) },
              { title: "First due", render: (r) => r.firstDue },
              { title: "Principal", className: "num", render: (r) => rupees(r.outstandingPrincipal) },
              { title: "Reason", render: (r) => r.reason },
              { title: "Status", render: (r) => html`<span data-testid="restructure-status"><${Badge} value=${r.status} text=${r.status} /></span>` },
              { title: "By", render: (r) => (r.proposedBy === me.id ? "me" : r.proposedBy.slice(0, 8)) },
            ]}
          />
        <//>
        ${shown && html`<${Section} title=${shown.status === "APPROVED" ? "The new schedule" : `Schedule of the ${shown.status.toLowerCase()} restructure`}>
          <${ScheduleTable} rows=${shown.schedule} caption="Restructured schedule" />
          ${shown.status === "APPROVED" && html`<p class="muted">The loan's live schedule, with what is paid, is on the Repayment tab.</p>`}
        <//>`}
      </div>`;
    }}
  <//>`;
}
