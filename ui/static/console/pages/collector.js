// The collector's profile (`#/collectors` for oneself, `#/collectors/<staffId>` for a manager looking at one): the
// cases allocated to them now, today's follow-ups, promises and call-backs, calls placed, field visits, and what they
// recovered in a period with their efficiency. Figures from the collection queues (api/partner/collections.py), the
// collector's day (api/partner/collection_work.py), the dialer's agent stats (api/partner/dialer.py) and the
// dashboard's collection analysis (api/partner/dashboard.py); a manager also sees the allocation profile.
import { html, useState } from "/ui/vendor/preact-htm.js";
import { rupees, when } from "/ui/shared/api.js";
import { label, pct, todayIst } from "../lib/format.js";
import { Badge, can, Figure, Loaded } from "../lib/ui.js";
import { Alert, Field, Heading, Table, brandPath, qs, staffApi, useLoad, useOpsStyles } from "../ops/ui.js";

const QUEUES = [
  ["pre", "Pre-collection", "collection/pre"],
  ["due", "Collection", "collection"],
  ["post", "Post-collection", "collection/post"],
];
const COLLECTION_ROLES = ["COLLECTION_EXECUTIVE", "COLLECTION_MANAGER", "COLLECTION_HEAD"];

/** The first day of the IST month of `day` (YYYY-MM-DD). */
const monthStart = (day) => `${day.slice(0, 8)}01`;

/** A promise's or call-back's line for today's list. */
function dueWhat(f, day) {
  if (f.ptpDate === day) return `Promise to pay ${rupees(f.ptpAmountPaise)} (${label(f.ptpStatus)})`;
  return `Call back (${label(f.disposition)})`;
}

/** The collection-queue rows allocated to `staffId`: every queue's first page and its total. */
async function allocated(brandId, staffId, extra = {}) {
  const pages = await Promise.all(
    QUEUES.map(([id, , path]) =>
      staffApi("GET", brandPath(brandId, path + qs({ agentId: staffId, limit: 25, ...extra }))).then(
        (page) => ({ id, page }),
        (error) => ({ id, error })
      )
    )
  );
  return Object.fromEntries(pages.map((p) => [p.id, p]));
}

function Picker({ brandId, navigate }) {
  const list = useLoad(
    () =>
      Promise.all(
        COLLECTION_ROLES.map((role) => staffApi("GET", brandPath(brandId, `user${qs({ role, active: "true", limit: 100 })}`)))
      ).then((pages) => pages.flatMap((p) => p.items)),
    [brandId]
  );
  return html`<div class="card">
    <${Alert} error=${list.error} />
    ${list.data &&
    html`<${Table} caption="Collectors" rowKey=${(u) => u.id} empty="No active collector in this brand."
      rows=${list.data}
      columns=${[
        { label: "Name", render: (u) => html`<a href=${`#/collectors/${u.id}`}>${u.name || u.email}</a>` },
        { label: "E-mail", key: "email" },
        { label: "Role", render: (u) => label(u.role) },
        { label: "", render: (u) => html`<button type="button" class="secondary" aria-label=${`Open ${u.email}`}
          onClick=${() => navigate(`/collectors/${u.id}`)}>Open</button>` },
      ]} />`}
  </div>`;
}

function Cases({ queues }) {
  const rows = QUEUES.flatMap(([id, title]) => ((queues[id] && queues[id].page && queues[id].page.items) || []).map((r) => ({ ...r, queue: title })));
  const errors = QUEUES.map(([id]) => queues[id] && queues[id].error).filter((e) => e && e.status !== 403);
  return html`<section class="card ops-card" aria-labelledby="cp-cases">
    <h2 id="cp-cases">Allocated cases</h2>
    ${errors.map((e) => html`<${Alert} error=${e} />`)}
    <${Table} caption="Allocated cases" rowKey=${(r) => r.loanId} rows=${rows} empty="No case allocated now."
      columns=${[
        { label: "Queue", key: "queue" },
        { label: "Customer", render: (r) => r.customerName || "—" },
        { label: "DPD", key: "dpd", num: true },
        { label: "Bucket", render: (r) => r.bucket || "—" },
        { label: "Overdue", render: (r) => rupees(r.overduePaise), num: true },
        { label: "Promise", render: (r) => (r.ptpDate ? `${r.ptpDate} · ${rupees(r.ptpAmountPaise)}` : "—") },
        { label: "Status", render: (r) => html`<${Badge} value=${r.status} />` },
        { label: "", render: (r) => html`<a href=${`#/collections?loan=${r.loanId}`} aria-label=${`Work the loan of ${r.customerName || r.loanId}`}>Work</a>` },
      ]} />
  </section>`;
}

function Profile({ brandId, staffId }) {
  const profile = useLoad(() => staffApi("GET", brandPath(brandId, `collection/collectors/${staffId}/profile`)), [brandId, staffId]);
  return html`<section class="card ops-card" aria-labelledby="cp-profile">
    <h2 id="cp-profile">Allocation profile</h2>
    <${Loaded} state=${profile} what="the profile">
      ${(p) =>
        p &&
        html`<dl class="facts">
          <div><dt>Role</dt><dd>${label(p.role)}</dd></div>
          <div><dt>Rating</dt><dd>${p.rating} / 5</dd></div>
          <div><dt>Open cases</dt><dd>${p.openCases}${p.capacity ? ` of ${p.capacity}` : ""}</dd></div>
          <div><dt>Pincodes</dt><dd>${p.pincodes.length ? p.pincodes.join(", ") : "any"}</dd></div>
        </dl>`}
    <//>
  </section>`;
}

function Body({ brandId, staffId, me }) {
  useOpsStyles();
  const today = todayIst();
  const [form, setForm] = useState({ fromDate: monthStart(today), toDate: today });
  const [period, setPeriod] = useState(form);
  const day = useLoad(() => staffApi("GET", brandPath(brandId, `collection/collectors/${staffId}/day${qs({ date: today })}`)), [brandId, staffId, today]);
  const queues = useLoad(() => allocated(brandId, staffId), [brandId, staffId]);
  const promised = useLoad(() => allocated(brandId, staffId, { ptpDue: today, limit: 1 }), [brandId, staffId, today]);
  const callsToday = useLoad(
    () => staffApi("GET", brandPath(brandId, `acefone/dialer/partner/${staffId}/stats${qs({ from: today, to: today })}`)),
    [brandId, staffId, today]
  );
  const calls = useLoad(
    () => staffApi("GET", brandPath(brandId, `acefone/dialer/partner/${staffId}/stats${qs({ from: period.fromDate, to: period.toDate })}`)),
    [brandId, staffId, period]
  );
  const analysis = useLoad(
    () => (can(me, "dashboard.view") ? staffApi("GET", brandPath(brandId, `dashboard/collection-analysis${qs(period)}`)) : null),
    [brandId, period]
  );
  const line = analysis.data && analysis.data.byCollector.find((c) => c.staffId === staffId);
  const total = (state) => QUEUES.reduce((n, [id]) => n + ((state.data && state.data[id] && state.data[id].page && state.data[id].page.total) || 0), 0);
  const d = day.data;
  const name = (line && line.name) || (staffId === me.id ? me.name : null);
  return html`<div>
    <p class="muted">${name ? `${name}` : `Staff ${staffId.slice(0, 8)}`}${staffId === me.id ? " (you)" : ""} · today ${today} (IST)</p>
    <${Alert} error=${day.error} />
    <div class="figures" aria-label="Today">
      <${Figure} id="cases" title="Allocated cases" value=${queues.loading ? "…" : total(queues)} hint="pre, collection and post" />
      <${Figure} id="follow-ups" title="Follow-ups today" value=${d ? d.followUps : "…"}
        hint=${d && Object.keys(d.byDisposition).length ? Object.entries(d.byDisposition).map(([k, n]) => `${label(k)} ${n}`).join(", ") : "none yet"} />
      <${Figure} id="promises-due" title="Promises due by today" value=${promised.loading ? "…" : total(promised)} hint="pending, on their cases" />
      <${Figure} id="calls-today" title="Calls today" value=${callsToday.data ? callsToday.data.total : "…"}
        hint=${callsToday.data ? `${callsToday.data.answered} answered, ${Math.round(callsToday.data.totalTalkSeconds / 60)} min talk` : ""} />
      <${Figure} id="visits-today" title="Field visits today" value=${d ? d.fieldVisits : "…"} />
    </div>
    <section class="card ops-card" aria-labelledby="cp-due">
      <h2 id="cp-due">Due today: promises and call-backs</h2>
      <${Table} caption="Due today" rowKey=${(f) => f.id} rows=${d ? d.due : []} empty="Nothing due today."
        columns=${[
          { label: "What", render: (f) => dueWhat(f, today) },
          { label: "Recorded", render: (f) => when(f.createdAt) },
          { label: "Remarks", render: (f) => f.remarks || "—" },
          { label: "", render: (f) => html`<a href=${`#/collections?loan=${f.loanId}`}>Open the loan</a>` },
        ]} />
    </section>
    <${Cases} queues=${queues.data || {}} />
    <section class="card ops-card" aria-labelledby="cp-period">
      <h2 id="cp-period">Collected and efficiency</h2>
      <form class="ops-filters" aria-label="Period" onSubmit=${(e) => (e.preventDefault(), setPeriod({ ...form }))}>
        <${Field} id="cp-from" label="From" type="date" value=${form.fromDate} onInput=${(v) => setForm((f) => ({ ...f, fromDate: v }))} />
        <${Field} id="cp-to" label="To" type="date" value=${form.toDate} onInput=${(v) => setForm((f) => ({ ...f, toDate: v }))} />
        <div class="ops-actions"><button type="submit">Show the period</button></div>
      </form>
      <${Alert} error=${analysis.error || calls.error} />
      <div class="figures">
        <${Figure} id="recovered" title="Recovered" value=${line ? rupees(line.recoveredPaise) : analysis.loading ? "…" : rupees(0)} hint="paid while the loan was theirs" />
        <${Figure} id="efficiency" title="Efficiency" value=${line ? pct(line.recoveryRate) : "—"} hint="recovered ÷ (recovered + overdue now)" />
        <${Figure} id="overdue-now" title="Overdue on their cases" value=${line ? rupees(line.overduePaise) : "—"} />
        <${Figure} id="promises" title="Promises in the period" value=${line ? line.promises : "—"}
          hint=${line ? `${line.promisesKept} kept, ${line.promisesBroken} broken, ${line.promisesPending} pending` : ""} />
        <${Figure} id="calls" title="Calls in the period" value=${calls.data ? calls.data.total : "…"}
          hint=${calls.data ? `${Math.round((calls.data.answeredRate || 0) * 100)}% answered` : ""} />
      </div>
    </section>
    ${can(me, "collections.manage") && html`<${Profile} brandId=${brandId} staffId=${staffId} />`}
  </div>`;
}

export default function CollectorPage({ params, me, brandId, navigate }) {
  useOpsStyles();
  const staffId = params.staffId || (can(me, "collections.manage") ? null : me.id);
  return html`<section>
    <${Heading} title="Collector profile">Allocated cases, today's work, and what was recovered.</${Heading}>
    ${can(me, "collections.manage") && html`<p><a href="#/collectors">All collectors</a>${params.staffId ? "" : " · "}
      ${!params.staffId && html`<a href=${`#/collectors/${me.id}`}>My own</a>`}</p>`}
    ${staffId ? html`<${Body} key=${staffId} brandId=${brandId} staffId=${staffId} me=${me} />` : html`<${Picker} brandId=${brandId} navigate=${navigate} />`}
  </section>`;
}
