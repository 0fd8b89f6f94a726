// Money out: the agreement and its eSign docket (status, provider, link, expiry; the PDF), and every transfer attempt
// of the disbursal (account, bank ids, outcome and how it was learnt, who released it).
import { html, useState } from "/ui/vendor/preact-htm.js";
import { download } from "/ui/shared/api.js";
import { label, rupees, when } from "../../lib/format.js";
import { Badge, brandUrl, explainAction, Facts, Section, Table } from "../../lib/ui.js";

function Agreement({ loan, brandId }) {
  const a = loan.agreement;
  const [error, setError] = useState(null);
  if (!a) return html`<p class="muted">No agreement yet: it goes out for eSign once the loan is sanctioned and the KFS accepted.</p>`;
  const pdf = () =>
    download("staff", brandUrl(brandId, `loans/${loan.id}/agreement`), `agreement-${loan.id}.pdf`).catch((e) => setError(explainAction(e)));
  return html`<${Facts}
      items=${[
        ["Status", html`<${Badge} value=${a.status} />`],
        ["eSign provider", label(a.provider)],
        ["Docket", a.docketId],
        ["Signing link", a.signingUrl ? html`<a href=${a.signingUrl} target="_blank" rel="noopener">the borrower's link</a>` : null],
        ["Expires", when(a.expiresAt)],
        ["Signed", when(a.signedAt)],
        ["SHA-256", html`<code class="hash">${a.sha256}</code>`],
      ]}
    />
    <p><button type="button" class="secondary" onClick=${pdf}>Download the agreement (PDF)</button></p>
    ${error && html`<p class="error" role="alert">${error}</p>`}`;
}

const TRANSFER_COLUMNS = [
  { title: "Created", render: (t) => when(t.createdAt) },
  { title: "Amount", className: "num", render: (t) => rupees(t.amountPaise) },
  { title: "To", render: (t) => `${t.accountMasked || "—"} · ${t.ifsc || "—"}` },
  { title: "Bank · mode", render: (t) => `${label(t.provider)} · ${t.mode || "—"}` },
  { title: "Status", render: (t) => html`<${Badge} value=${t.status} />${t.failureReason ? ` ${t.failureReason}` : ""}` },
  { title: "UTR", render: (t) => t.utr || "—" },
  { title: "Learnt by", render: (t) => t.outcomeSource || "—" },
  { title: "Released by", render: (t) => t.approvedBy || "—" },
  { title: "Settled", render: (t) => when(t.settledAt) },
];

export function MoneyOut({ loan, brandId }) {
  return html`<${Section} title="Agreement and eSign"><${Agreement} loan=${loan} brandId=${brandId} /><//>
    <${Section} title="Disbursal transfers">
      <${Table} columns=${TRANSFER_COLUMNS} rows=${loan.transfers || []} rowKey=${(t) => t.id} empty="No transfer yet." />
    <//>`;
}
