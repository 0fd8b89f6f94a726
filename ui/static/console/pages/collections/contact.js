// The collector's contact with the customer: click-to-call and the call log, follow-ups with dispositions,
// promises to pay, and the payment link for what is overdue.
import { html, useEffect, useState } from "/ui/vendor/preact-htm.js";
import { rupees, when } from "/ui/shared/api.js";
import {
  Alert, Done, Field, Pager, Table, brandPath, qs, staffApi, toPaise, todayIst, useAction, useLoad,
} from "../../ops/ui.js";

const DIALER = "acefone/dialer";
const OPEN_CALL = ["INITIATED", "RINGING", "ANSWERED"];

export function Calls({ brandId, loanId, customerId, me }) {
  const [page, setPage] = useState(1);
  const calls = useLoad(
    () => staffApi("GET", brandPath(brandId, `${DIALER}/user/${customerId}/calls${qs({ loanId, page, limit: 10 })}`)),
    [brandId, customerId, loanId, page]
  );
  const act = useAction();
  // while a call is open, read the log again every few seconds (the vendor's events move it on), a minute at most
  const [polls, setPolls] = useState(0);
  const open = calls.data && calls.data.items.some((c) => OPEN_CALL.includes(c.status));
  useEffect(() => {
    if (!open || polls >= 20) return undefined;
    const timer = setTimeout(() => (setPolls((n) => n + 1), calls.reload()), 3000);
    return () => clearTimeout(timer);
  }, [calls.data]);
  const call = () =>
    act
      .run(
        () => staffApi("POST", brandPath(brandId, `${DIALER}/initiate`), { userId: customerId, loanId }),
        (c) => `Call placed through ${c.provider} to ${c.customerNumberMasked || "the customer"}: your phone rings first.`
      )
      .then(() => (setPolls(0), calls.reload()));
  const end = (id) =>
    act.run(() => staffApi("PATCH", brandPath(brandId, `${DIALER}/call/${id}/end`)), "Call ended.").then(calls.reload);
  const columns = [
    { label: "When", render: (r) => when(r.startedAt || r.createdAt) },
    { label: "Status", key: "status" },
    { label: "Talk", render: (r) => `${r.durationSeconds} s`, num: true },
    { label: "By", render: (r) => (r.staffId === me.id ? "me" : r.staffId.slice(0, 8)) },
    {
      label: "Recording",
      render: (r) => (r.recordingUrl ? html`<a href=${r.recordingUrl} target="_blank" rel="noopener">listen</a>` : "—"),
    },
    {
      label: "",
      render: (r) =>
        OPEN_CALL.includes(r.status)
          ? html`<button type="button" class="secondary" onClick=${() => end(r.id)}>End call</button>`
          : r.hangupCause || "",
    },
  ];
  return html`<section class="card ops-card" aria-labelledby="calls-h">
    <h2 id="calls-h">Calls</h2>
    <div class="ops-actions">
      <button type="button" onClick=${call} disabled=${act.busy}>Call the customer</button>
      <button type="button" class="secondary" onClick=${calls.reload}>Refresh the log</button>
    </div>
    <${Alert} error=${act.error || calls.error} />
    <${Done} message=${act.done} />
    ${calls.data &&
    html`<${Table} caption="Call log" columns=${columns} rows=${calls.data.items} empty="No call yet." />
      ${calls.data.total > 10 &&
      html`<${Pager} label="Call pages" page=${page} limit=${10} total=${calls.data.total} onPage=${setPage} />`}`}
  </section>`;
}

export const DISPOSITIONS = [
  ["PROMISE_TO_PAY", "Promise to pay"],
  ["CALLBACK", "Call back"],
  ["REFUSED_TO_PAY", "Refused to pay"],
  ["NOT_CONTACTABLE", "Not contactable"],
  ["WRONG_NUMBER", "Wrong number"],
  ["DISPUTE", "Dispute"],
  ["PAID", "Says paid"],
];
const BLANK = { disposition: "PROMISE_TO_PAY", remarks: "", nextActionOn: "", ptpDate: "", ptpAmount: "", callId: "" };

export function FollowUps({ brandId, loanId, customerId, onSaved }) {
  const [form, setForm] = useState({ ...BLANK, ptpDate: todayIst() });
  const [page, setPage] = useState(1);
  const set = (key) => (value) => setForm({ ...form, [key]: value });
  const list = useLoad(
    () => staffApi("GET", brandPath(brandId, `collection/${loanId}/follow-ups${qs({ page, limit: 10 })}`)),
    [brandId, loanId, page]
  );
  const calls = useLoad(
    () => staffApi("GET", brandPath(brandId, `${DIALER}/user/${customerId}/calls${qs({ loanId, limit: 10 })}`)),
    [brandId, customerId, loanId, list.data]
  );
  const act = useAction();
  const promise = form.disposition === "PROMISE_TO_PAY";
  const submit = async (event) => {
    event.preventDefault();
    const body = { disposition: form.disposition };
    if (form.remarks) body.remarks = form.remarks;
    if (form.nextActionOn) body.nextActionOn = form.nextActionOn;
    if (form.callId) body.callId = form.callId;
    if (promise) {
      const paise = toPaise(form.ptpAmount);
      if (!paise) {
        act.setError("Please correct: the promised amount, in rupees (e.g. 2500 or 2500.50).");
        return;
      }
      body.ptpDate = form.ptpDate;
      body.ptpAmount = paise;
    }
    const saved = await act.run(
      () => staffApi("POST", brandPath(brandId, `collection/${loanId}/follow-ups`), body),
      "Follow-up recorded."
    );
    if (saved) {
      setForm({ ...BLANK, ptpDate: todayIst() });
      list.reload();
      if (onSaved) onSaved();
    }
  };
  const columns = [
    { label: "When", render: (r) => when(r.createdAt) },
    { label: "Disposition", key: "disposition" },
    { label: "Promise", render: (r) => (r.ptpDate ? `${rupees(r.ptpAmountPaise)} by ${r.ptpDate}` : "—") },
    { label: "Promise status", render: (r) => r.ptpStatus || "—" },
    { label: "Next action", key: "nextActionOn" },
    { label: "Remarks", key: "remarks" },
  ];
  const callOptions = [["", "none"], ...((calls.data && calls.data.items) || []).map((c) => [c.id, `${when(c.startedAt || c.createdAt)} · ${c.status}`])];
  return html`<section class="card ops-card" aria-labelledby="fu-h">
    <h2 id="fu-h">Follow-ups</h2>
    <form onSubmit=${submit} aria-label="Record a follow-up">
      <div class="ops-filters">
        <${Field} id="fu-disposition" label="Disposition" value=${form.disposition} onInput=${set("disposition")} options=${DISPOSITIONS} />
        ${promise &&
        html`<${Field} id="fu-ptp-date" label="Promised by" type="date" value=${form.ptpDate} onInput=${set("ptpDate")} />
          <${Field} id="fu-ptp-amount" label="Promised amount (₹)" inputmode="decimal" value=${form.ptpAmount} onInput=${set("ptpAmount")} />`}
        <${Field} id="fu-next" label="Next action on" type="date" value=${form.nextActionOn} onInput=${set("nextActionOn")} />
        <${Field} id="fu-call" label="About the call" value=${form.callId} onInput=${set("callId")} options=${callOptions} />
      </div>
      <${Field} id="fu-remarks" label="Remarks" area value=${form.remarks} onInput=${set("remarks")} maxlength="2000" />
      <div class="ops-actions"><button type="submit" disabled=${act.busy}>Record the follow-up</button></div>
    </form>
    <${Alert} error=${act.error || list.error} />
    <${Done} message=${act.done} />
    ${list.data &&
    html`<${Table} caption="Follow-ups" columns=${columns} rows=${list.data.items} empty="No follow-up yet." />
      ${list.data.total > 10 &&
      html`<${Pager} label="Follow-up pages" page=${page} limit=${10} total=${list.data.total} onPage=${setPage} />`}`}
  </section>`;
}

export function Promises({ brandId, loanId, version }) {
  const list = useLoad(
    () => staffApi("GET", brandPath(brandId, `collection/${loanId}/promises`)),
    [brandId, loanId, version]
  );
  const columns = [
    { label: "Made", render: (r) => when(r.createdAt) },
    { label: "Amount", render: (r) => rupees(r.ptpAmountPaise), num: true },
    { label: "By", key: "ptpDate" },
    { label: "Paid towards it", render: (r) => rupees(r.ptpPaidPaise), num: true },
    { label: "Status", key: "ptpStatus" },
  ];
  return html`<section class="card ops-card" aria-labelledby="ptp-h">
    <h2 id="ptp-h">Promises to pay</h2>
    <div class="ops-actions"><button type="button" class="secondary" onClick=${list.reload}>Refresh</button></div>
    <${Alert} error=${list.error} />
    ${list.data &&
    html`<p>${list.data.pending} pending · ${list.data.kept} kept · ${list.data.broken} broken</p>
      <${Table} caption="Promises to pay" columns=${columns} rows=${list.data.items} empty="No promise yet." />`}
  </section>`;
}

export function PaymentLink({ brandId, loanId, canWork }) {
  const act = useAction();
  const [link, setLink] = useState(null);
  const send = async () => {
    const answer = await act.run(() => staffApi("POST", brandPath(brandId, `collection/${loanId}/payment-link`)));
    if (answer) setLink(answer);
  };
  return html`<section class="card ops-card" aria-labelledby="link-h">
    <h2 id="link-h">Payment link</h2>
    <p class="muted">Sends the customer a link for the overdue amount on the brand's channels.</p>
    <button type="button" onClick=${send} disabled=${act.busy || !canWork}>Send a payment link for the overdue amount</button>
    <${Alert} error=${act.error} />
    ${link &&
    html`<div role="status" class="notice">
      Link for ${rupees(link.amountPaise)} (${link.gateway}, DPD ${link.dpd}):
      <a href=${link.url} target="_blank" rel="noopener">${link.url}</a><br />
      Sent: ${Object.entries(link.sent).map(([k, v]) => `${k} ${v}`).join(", ") || "no channel"}
    </div>`}
  </section>`;
}
