// The customer's KYC documents: each with a preview (image inline, PDF in a frame) from its short-lived link, and
// verify / reject for the roles that review KYC (documents.verify). A document is decided once.
import { html, useState } from "/ui/vendor/preact-htm.js";
import { label, when } from "../../lib/format.js";
import { Badge, brandUrl, can, explainAction, Loaded, Notice, staff, Table, useLoad } from "../../lib/ui.js";

function Preview({ doc }) {
  if (!doc.url) return null;
  if ((doc.contentType || "").startsWith("image/"))
    return html`<img class="doc-preview" src=${doc.url} alt=${`${label(doc.docType)}: ${doc.fileName}`} />`;
  if (doc.contentType === "application/pdf")
    return html`<iframe class="doc-preview" src=${doc.url} title=${`${label(doc.docType)}: ${doc.fileName}`}></iframe>`;
  return html`<p class="muted">No preview for ${doc.contentType}; <a href=${doc.url} target="_blank" rel="noopener">open it</a>.</p>`;
}

function Decide({ doc, brandId, onDecided }) {
  const [reason, setReason] = useState("");
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const base = brandUrl(brandId, `customers/${doc.customerId}/documents/${doc.id}`);
  const act = async (what) => {
    setError(null);
    if (what === "reject" && !reason.trim()) {
      setError("Write why the document is rejected.");
      return;
    }
    setBusy(true);
    try {
      await staff("POST", `${base}/${what}`, what === "reject" ? { reason: reason.trim() } : undefined);
      onDecided(what === "verify" ? "Document verified." : "Document rejected.");
    } catch (e) {
      setError(explainAction(e));
    } finally {
      setBusy(false);
    }
  };
  return html`<div class="row-actions decide">
    <button type="button" disabled=${busy} onClick=${() => act("verify")}>Verify</button>
    <input aria-label=${`Why reject ${doc.fileName}`} placeholder="Reason to reject" value=${reason}
      onInput=${(e) => setReason(e.target.value)} maxlength="1000" />
    <button type="button" class="danger" disabled=${busy} onClick=${() => act("reject")}>Reject</button>
    ${error && html`<p class="error" role="alert">${error}</p>`}
  </div>`;
}

export function Documents({ loan, brandId, me }) {
  const state = useLoad(
    () => (can(me, "documents.view") ? staff("GET", brandUrl(brandId, `customers/${loan.customerId}/documents`)) : []),
    [brandId, loan.customerId]
  );
  const [open, setOpen] = useState(null);
  const [done, setDone] = useState(null);
  if (!can(me, "documents.view")) return html`<p class="muted">Your role cannot see the customer's documents.</p>`;
  return html`<${Notice}>${done}<//>
    <${Loaded} state=${state} what="the documents">
      ${(docs) =>
        docs &&
        html`<${Table}
            rows=${docs}
            rowKey=${(d) => d.id}
            empty="The customer has uploaded no documents."
            columns=${[
              { title: "Document", render: (d) => label(d.docType) },
              { title: "File", render: (d) => html`<a href=${d.url} target="_blank" rel="noopener">${d.fileName}</a>` },
              { title: "Status", render: (d) => html`<${Badge} value=${d.status} />${d.rejectReason ? ` ${d.rejectReason}` : ""}` },
              { title: "Uploaded", render: (d) => when(d.createdAt) },
              { title: "Decided", render: (d) => when(d.decidedAt) },
              {
                title: "",
                render: (d) => html`<button type="button" class="secondary" onClick=${() => setOpen(open === d.id ? null : d.id)}>
                  ${open === d.id ? "Hide" : "Preview"}</button>`,
              },
            ]}
          />
          ${docs
            .filter((d) => d.id === open)
            .map(
              (d) => html`<div class="card" aria-label="Preview">
                <h3>${label(d.docType)} · ${d.fileName}</h3>
                <${Preview} doc=${d} />
                ${d.status === "PENDING" && can(me, "documents.verify") &&
                html`<${Decide} doc=${d} brandId=${brandId} onDecided=${(msg) => (setDone(msg), state.reload())} />`}
              </div>`
            )}`}
    <//>`;
}
