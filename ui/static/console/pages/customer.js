// One customer's file: identity and KYC results, documents, bank accounts (masked), employment, loans, calls and
// reminders; allocate them to a staff member; change their status (with a reason).
import { html, useState } from "/ui/vendor/preact-htm.js";
import { rupees, when } from "/ui/shared/api.js";
import { Alert, Done, Field, Table, brandPath, qs, staffApi, useAction, useLoad, useOpsStyles } from "../ops/ui.js";

export default function Customer({ params, me, brandId }) {
  useOpsStyles();
  const file = useLoad(() => staffApi("GET", brandPath(brandId, `customers/${params.userId}`)), [brandId, params.userId]);
  const c = file.data;
  const can = (p) => (me.permissions || []).includes(p);
  if (file.error) return html`<section><h1>Customer</h1><${Alert} error=${file.error} /></section>`;
  if (!c) return html`<p class="muted">Loading…</p>`;
  return html`<section>
    <p><a href="#/customers">← Customers</a></p>
    <h1>${c.fullName || "Customer"} <span class="badge">${c.status}</span></h1>
    <div class="ops-grid">
      <div class="card ops-card"><h2>Identity</h2><dl class="ops-kv">
        <dt>Phone</dt><dd>${c.phone}${c.phoneVerified ? " (verified)" : ""}</dd>
        <dt>E-mail</dt><dd>${c.email || "—"}</dd>
        <dt>PAN</dt><dd>${c.panMasked || "—"} ${c.panVerified ? "(verified)" : ""}</dd>
        <dt>Name on PAN</dt><dd>${c.panName || "—"}</dd>
        <dt>Aadhaar</dt><dd>${c.aadhaarMasked ? `XXXX XXXX ${c.aadhaarMasked}` : "—"} ${c.aadhaarVerified ? "(verified)" : ""}</dd>
        <dt>KYC</dt><dd>${c.kycState}</dd>
        <dt>Born</dt><dd>${c.dob || "—"} ${c.gender || ""}</dd>
        <dt>Address</dt><dd>${[c.address, c.city, c.state, c.pincode].filter(Boolean).join(", ") || "—"}</dd>
        <dt>Onboarding</dt><dd>${c.onboardingStep}</dd>
        <dt>Holder</dt><dd>${c.assignedTo || "nobody"}</dd>
        ${c.statusReason && html`<dt>Status reason</dt><dd>${c.statusReason}</dd>`}
      </dl></div>
      <div class="card ops-card">
        ${can("customers.allocate") && html`<${Allocate} brandId=${brandId} customer=${c} onDone=${file.reload} />`}
        ${can("settings.manage") && html`<${Status} brandId=${brandId} customer=${c} onDone=${file.reload} />`}
        ${!can("customers.allocate") && !can("settings.manage") && html`<p class="muted">Your role only reads this file.</p>`}
      </div>
    </div>
    <div class="card ops-card"><h2>Loans</h2>
      <${Table} caption="Loans" rows=${c.loans} empty="No loan." columns=${[
        { label: "Loan", render: (l) => html`<a href=${`#/loans/${l.id}`}>${l.id.slice(0, 8)}</a>` },
        { label: "Status", key: "status" },
        { label: "Amount", render: (l) => rupees(l.amountPaise), num: true },
        { label: "Outstanding", render: (l) => rupees(l.outstandingPrincipalPaise), num: true },
        { label: "DPD", key: "dpd", num: true },
        { label: "Applied", render: (l) => when(l.createdAt) },
      ]} /></div>
    <div class="card ops-card"><h2>KYC results</h2>
      <${Table} caption="KYC results" rows=${c.kyc} empty="No KYC check yet." columns=${[
        { label: "Check", key: "kind" }, { label: "Provider", key: "provider" }, { label: "Outcome", key: "outcome" },
        { label: "Score", key: "score" }, { label: "When", render: (k) => when(k.at) },
      ]} /></div>
    <div class="ops-grid">
      <div class="card ops-card"><h2>Documents</h2>
        <${Table} caption="Documents" rows=${c.documents} empty="No document." columns=${[
          { label: "Type", key: "docType" }, { label: "File", key: "fileName" }, { label: "Status", key: "status" },
          { label: "Uploaded", render: (d) => when(d.createdAt) },
        ]} /></div>
      <div class="card ops-card"><h2>Bank accounts</h2>
        <${Table} caption="Bank accounts" rows=${c.bankAccounts} empty="No bank account." columns=${[
          { label: "Account", key: "accountMasked" }, { label: "IFSC", key: "ifsc" }, { label: "Bank", key: "bankName" },
          { label: "Penny drop", key: "pennyDropStatus" }, { label: "Primary", render: (b) => (b.isPrimary ? "yes" : "") },
        ]} /></div>
    </div>
    <div class="card ops-card"><h2>Employment</h2>
      <${Table} caption="Employment" rows=${c.employment} empty="None recorded." columns=${[
        { label: "Employer", key: "employerName" }, { label: "Type", key: "employmentType" },
        { label: "Salary", render: (e) => rupees(e.monthlySalaryPaise), num: true }, { label: "Verified", render: (e) => (e.verified ? "yes" : "no") },
      ]} /></div>
    <div class="ops-grid">
      <div class="card ops-card"><h2>Calls</h2>
        <${Table} caption="Calls" rows=${c.calls} empty="No call." columns=${[
          { label: "When", render: (k) => when(k.startedAt) }, { label: "Status", key: "status" },
          { label: "Talk", render: (k) => `${k.durationSeconds} s`, num: true }, { label: "Loan", render: (k) => (k.loanId ? k.loanId.slice(0, 8) : "—") },
        ]} /></div>
      <div class="card ops-card"><h2>Reminders</h2>
        <${Table} caption="Reminders" rows=${c.reminders} empty="No reminder." columns=${[
          { label: "When", render: (r) => when(r.scheduledAt) }, { label: "Channel", key: "channel" },
          { label: "Template", key: "template" }, { label: "Status", key: "status" },
        ]} />
        <p><a href=${`#/reminders?userId=${c.id}`}>Schedule a reminder</a></p></div>
    </div>
  </section>`;
}

function Allocate({ brandId, customer, onDone }) {
  const staff = useLoad(() => staffApi("GET", brandPath(brandId, `user${qs({ active: "true", limit: 200 })}`)), [brandId]);
  const [staffId, setStaffId] = useState(customer.assignedTo || "");
  const [reason, setReason] = useState("");
  const act = useAction();
  const submit = async (event) => {
    event.preventDefault();
    const ok = await act.run(
      () => staffApi("POST", brandPath(brandId, `customers/${customer.id}/allocate`), { staffId: staffId || null, reason: reason || null }),
      staffId ? "Customer allocated." : "Customer put back in the pool."
    );
    if (ok) onDone();
  };
  const options = [["", "nobody (the pool)"], ...((staff.data && staff.data.items) || []).map((u) => [u.id, `${u.name} · ${u.role}`])];
  return html`<form onSubmit=${submit} aria-labelledby="al-h">
    <h2 id="al-h">Allocate</h2>
    <${Field} id="al-staff" label="Give to" value=${staffId} onInput=${setStaffId} options=${options} />
    <${Field} id="al-reason" label="Reason for the allocation" value=${reason} onInput=${setReason} maxlength="500" />
    <div class="ops-actions"><button type="submit" disabled=${act.busy}>Allocate</button></div>
    <${Alert} error=${act.error || staff.error} />
    <${Done} message=${act.done} />
  </form>`;
}

function Status({ brandId, customer, onDone }) {
  const [status, setStatus] = useState(customer.status);
  const [reason, setReason] = useState("");
  const act = useAction();
  const submit = async (event) => {
    event.preventDefault();
    const ok = await act.run(
      () => staffApi("POST", brandPath(brandId, `customers/${customer.id}/status`), { status, reason }),
      `Status set to ${status}.`
    );
    if (ok) onDone();
  };
  return html`<form onSubmit=${submit} aria-labelledby="cs-h">
    <h2 id="cs-h">Status</h2>
    <${Field} id="cs-status" label="New status" value=${status} onInput=${setStatus} options=${["ACTIVE", "BLOCKED", "SUSPENDED"]} />
    <${Field} id="cs-reason" label="Reason for the status" required value=${reason} onInput=${setReason} maxlength="1000" />
    <div class="ops-actions"><button type="submit" disabled=${act.busy}>Change the status</button></div>
    <${Alert} error=${act.error} />
    <${Done} message=${act.done} />
  </form>`;
}
