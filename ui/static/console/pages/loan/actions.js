// The decisions the signed-in role can take on the loan now, as the API allows them: the sanction hierarchy
// (forward, approve with conditions, send back, reject, sanction: api/partner/review.py), loan ops' release of the
// money with the beneficiary and its penny drop (api/partner/money_out.py), resume or reject a loan on hold, cancel
// a declined agreement, record an offline payment, and the closure certificate (NOC). A refusal is explained in words.
import { html, useState } from "/ui/vendor/preact-htm.js";
import { download } from "/ui/shared/api.js";
import { label, rupees, when } from "../../lib/format.js";
import { Badge, brandUrl, can, ErrorNote, explainAction, Facts, Loaded, Notice, staff, useLoad, withQuery } from "../../lib/ui.js";
import { ActionForm, Field } from "../../lib/forms.js";
import { OfflinePaymentForm } from "./offline.js";

const REPAYING = ["DISBURSED", "OVERDUE", "OVERPAID"];
const DONE = {
  forward: "Forwarded",
  approve: "Approved",
  "send-back": "Sent back",
  reject: "Rejected",
  sanction: "Sanctioned",
  "approve-disbursal": "Disbursal approved",
  "hold/resume": "Resumed",
  "hold/reject": "Rejected",
  "agreement/cancel": "Cancelled",
};

function where(result) {
  if (!result) return "";
  if (result.status === "UNDER_REVIEW" && result.reviewStage) return ` The loan is now at the ${label(result.reviewStage).toLowerCase()} stage.`;
  return ` The loan is now ${label(result.status).toLowerCase()}.`;
}

/** A reason text from the dropdown's choice and the remarks ("Label: remarks"). */
function reasonText(reason, remarks) {
  return [reason ? reason.label : "", remarks].filter(Boolean).join(": ") || undefined;
}

function Forward({ common, post }) {
  const [override, setOverride] = useState("");
  return html`<${ActionForm} ...${common} title="Forward to the sanction manager" submitLabel="Forward"
    description="Your notes go with the loan; an override of the evaluation score needs them."
    remarks=${{ label: "Reason / notes" }}
    onSubmit=${async ({ remarks }) => {
      const body = { reason: remarks || undefined };
      if (override.trim()) body.scoreOverride = override.trim();
      return `Forwarded.${where(await post("forward", body))}`;
    }}>
    <${Field} label="Evaluation score override (0–100)" optional value=${override} onInput=${setOverride} inputmode="decimal" />
  <//>`;
}

function Approve({ common, post }) {
  const [conditions, setConditions] = useState("");
  return html`<${ActionForm} ...${common} title="Approve with conditions" submitLabel="Approve"
    remarks=${{ label: "Reason / notes" }}
    onSubmit=${async ({ remarks }) =>
      `Approved.${where(await post("approve", { conditions: conditions.trim() || undefined, reason: remarks || undefined }))}`}>
    <${Field} label="Conditions of the approval" optional type="textarea" value=${conditions} onInput=${setConditions} maxlength="2000" />
  <//>`;
}

function SendBack({ common, post }) {
  return html`<${ActionForm} ...${common} title="Send back to the credit executive" submitLabel="Send back"
    reasons=${{ appliesTo: "SEND_BACK", required: true }}
    onSubmit=${async ({ reasonCode, remarks }) =>
      `Sent back.${where(await post("send-back", { reasonCode, reason: remarks || undefined }))}`} />`;
}

function Reject({ common, post }) {
  return html`<${ActionForm} ...${common} title="Reject the loan" submitLabel="Reject" danger
    reasons=${{ appliesTo: "REJECTED", required: true }}
    onSubmit=${async ({ reasonCode, remarks }) =>
      `Rejected.${where(await post("reject", { reasonCode, reason: remarks || undefined }))}`} />`;
}

function Sanction({ common, post }) {
  return html`<${ActionForm} ...${common} title="Sanction (final approval)" submitLabel="Sanction"
    description="The agreement goes out for eSign once the borrower accepts the Key Fact Statement."
    remarks=${{ label: "Reason / notes" }}
    onSubmit=${async ({ remarks }) => `Sanctioned.${where(await post("sanction", { reason: remarks || undefined }))}`} />`;
}

/** Where the money goes: the loan-ops queue's row for this loan (beneficiary, penny drop, latest transfer). */
function Beneficiary({ loan, brandId, me }) {
  const state = useLoad(
    () =>
      can(me, "queue.loans_ops")
        ? staff("GET", brandUrl(brandId, withQuery("queues/loans-ops", { search: loan.id, limit: 1 })))
        : null,
    [brandId, loan.id]
  );
  return html`<${Loaded} state=${state} what="the beneficiary">
    ${(page) => {
      const row = page && page.items.find((r) => r.id === loan.id);
      if (!row) return html`<p class="muted">The beneficiary is shown in the loans-ops queue.</p>`;
      const b = row.beneficiary;
      if (!b) return html`<p class="error" role="alert">The borrower has no bank account on file: the money cannot go out.</p>`;
      const pd = b.pennyDrop;
      return html`<div class="beneficiary" aria-label="Beneficiary">
        <${Facts}
          items=${[
            ["Net disbursal", rupees(row.netDisbursedPaise)],
            ["Beneficiary", b.holderName || "—"],
            ["Account", `${b.accountMasked} · ${b.ifsc}${b.bankName ? " · " + b.bankName : ""}`],
            ["Penny drop", html`<span data-penny-drop><${Badge} value=${pd.status} />${pd.nameMatchScore ? ` name match ${pd.nameMatchScore}%` : ""}</span>`],
            ["Verified", pd.verifiedAt ? `${when(pd.verifiedAt)} (${pd.ageHours} h ago)` : "never"],
            ["Latest transfer", row.latestTransfer ? html`<${Badge} value=${row.latestTransfer.status} /> ${row.latestTransfer.utr || row.latestTransfer.failureReason || ""}` : "none yet"],
          ]}
        />
        ${pd.status !== "VERIFIED" && html`<p class="error" role="alert">The penny drop did not verify this account: check it before releasing the money.</p>`}
      </div>`;
    }}
  <//>`;
}

function Disbursal({ common, post, loan, brandId, me }) {
  return html`<${ActionForm} ...${common} title="Approve the disbursal" submitLabel="Approve disbursal"
    description="Releases the net amount to the beneficiary below; the bank confirms by webhook."
    remarks=${{ label: "Notes" }}
    onSubmit=${async ({ remarks }) => `Disbursal approved.${where(await post("approve-disbursal", { reason: remarks || undefined }))}`}>
    <${Beneficiary} loan=${loan} brandId=${brandId} me=${me} />
  <//>`;
}

function Hold({ common, post, loan }) {
  const hold = [...(loan.statusHistory || [])].reverse().find((h) => h.to === "NEEDS_ATTENTION");
  return html`<div class="hold">
    ${hold && html`<p class="error" role="note"><strong>On hold since ${when(hold.at)}:</strong> ${hold.reason || "—"}</p>`}
    <${ActionForm} ...${common} title="Resume the loan" submitLabel="Resume" remarks=${{ label: "Reason / notes" }}
      description="It returns to the status it left and the step that stopped runs again."
      onSubmit=${async ({ remarks }) => `Resumed.${where(await post("hold/resume", { reason: remarks || undefined }))}`} />
    <${ActionForm} ...${common} title="Reject the loan on hold" submitLabel="Reject" danger
      reasons=${{ appliesTo: "REJECTED", required: false }} remarks=${{ label: "Remarks" }}
      onSubmit=${async ({ reason, remarks }) => {
        const text = reasonText(reason, remarks);
        if (!text) throw new Error("Choose a reason or write one: a loan on hold is rejected with a reason.");
        return `Rejected.${where(await post("hold/reject", { reason: text }))}`;
      }} />
  </div>`;
}

function CancelAgreement({ common, post }) {
  return html`<${ActionForm} ...${common} title="Cancel the agreement" submitLabel="Cancel the loan" danger
    description="For an agreement the borrower declined, or a Key Fact Statement never accepted."
    reasons=${{ appliesTo: "REJECTED", required: false }} remarks=${{ label: "Remarks" }}
    onSubmit=${async ({ reason, remarks }) => {
      const text = reasonText(reason, remarks);
      if (!text) throw new Error("Choose a reason or write one: cancelling needs a reason.");
      return `Cancelled.${where(await post("agreement/cancel", { reason: text }))}`;
    }} />`;
}

function Noc({ loan, brandId, me }) {
  const [error, setError] = useState(null);
  const [done, setDone] = useState(null);
  const [busy, setBusy] = useState(false);
  const run = async (what) => {
    setError(null);
    setDone(null);
    setBusy(true);
    try {
      if (what === "issue") {
        const issued = await staff("POST", brandUrl(brandId, `loans/${loan.id}/generate-ndc`), {});
        setDone(`Certificate ${issued.certificateNo || ""} issued${issued.sent ? " and sent to the borrower" : ""}.`);
      } else {
        await download("staff", brandUrl(brandId, `loans/${loan.id}/ndc`), `noc-${loan.id}.pdf`);
        setDone("The certificate was downloaded.");
      }
    } catch (e) {
      setError(e && e.status === 404 ? "No closure certificate has been issued for this loan yet." : explainAction(e));
    } finally {
      setBusy(false);
    }
  };
  return html`<div class="card action-form" aria-label="Closure certificate">
    <h3>Closure certificate (NOC)</h3>
    <p class="muted">The no-dues certificate of a closed loan (a settlement certificate for a settled one).</p>
    <p class="row-actions">
      <button type="button" disabled=${busy} onClick=${() => run("download")}>Download NOC</button>
      ${can(me, "loan_ops.disburse", "collections.manage") &&
      html`<button type="button" class="secondary" disabled=${busy} onClick=${() => run("issue")}>Issue a new NOC</button>`}
    </p>
    <${ErrorNote} error=${error} />
    <${Notice}>${done}<//>
  </div>`;
}

/** Which decisions `me` can take on `loan` now. */
function available(loan, me) {
  const out = [];
  if (loan.status === "UNDER_REVIEW") {
    const stage = loan.reviewStage;
    if (stage === "CREDIT_EXECUTIVE" && can(me, "review.credit")) out.push("forward");
    if (stage === "SANCTION_MANAGER" && can(me, "review.sanction_manager")) out.push("approve", "send-back", "reject");
    if (stage === "SANCTION_HEAD" && can(me, "review.sanction_head")) out.push("sanction", "send-back", "reject");
    if (!stage && can(me, "review.sanction_head")) out.push("sanction", "reject");
  }
  if (["AGREEMENT_SIGNED", "DISBURSAL_PENDING"].includes(loan.status) && can(me, "loan_ops.disburse")) out.push("disbursal");
  if (loan.status === "NEEDS_ATTENTION" && can(me, "loan_ops.disburse")) out.push("hold");
  if (loan.status === "AGREEMENT_PENDING" && can(me, "loan_ops.disburse")) out.push("cancel-agreement");
  if (REPAYING.includes(loan.status) && can(me, "collections.pre", "loan_ops.disburse")) out.push("offline");
  if (["COMPLETED", "SETTLED"].includes(loan.status)) out.push("noc");
  return out;
}

export function LoanActions({ loan, me, brandId, onChanged }) {
  const [outcome, setOutcome] = useState(null);
  const actions = available(loan, me);
  const post = async (action, body) => {
    const result = await staff("POST", brandUrl(brandId, `loans/${loan.id}/${action}`), body);
    return result;
  };
  const common = {
    brandId,
    onDone: () => {
      onChanged();
    },
  };
  const posting = async (action, body) => {
    const result = await post(action, body);
    setOutcome(`${DONE[action] || "Done"}.${where(result)}`);
    return result;
  };
  const key = `${loan.status}:${loan.reviewStage}`;
  const forms = {
    forward: html`<${Forward} key=${key + "f"} common=${common} post=${posting} />`,
    approve: html`<${Approve} key=${key + "a"} common=${common} post=${posting} />`,
    "send-back": html`<${SendBack} key=${key + "s"} common=${common} post=${posting} />`,
    reject: html`<${Reject} key=${key + "r"} common=${common} post=${posting} />`,
    sanction: html`<${Sanction} key=${key + "x"} common=${common} post=${posting} />`,
    disbursal: html`<${Disbursal} key=${key + "d"} common=${common} post=${posting} loan=${loan} brandId=${brandId} me=${me} />`,
    hold: html`<${Hold} key=${key + "h"} common=${common} post=${posting} loan=${loan} />`,
    "cancel-agreement": html`<${CancelAgreement} key=${key + "c"} common=${common} post=${posting} />`,
    offline: html`<${OfflinePaymentForm} key=${key + "o"} loan=${loan} brandId=${brandId} onDone=${onChanged} />`,
    noc: html`<${Noc} key=${key + "n"} loan=${loan} brandId=${brandId} me=${me} />`,
  };
  return html`<section class="actions-panel" aria-label="Actions">
    <h2>Actions</h2>
    ${outcome && html`<p class="notice" role="status" id="action-outcome">${outcome}</p>`}
    ${actions.length === 0
      ? html`<p class="muted">Nothing for your role (${label(me.role)}) to decide on this loan while it is ${label(loan.status).toLowerCase()}.</p>`
      : html`<div class="action-grid">${actions.map((a) => forms[a])}</div>`}
  </section>`;
}
