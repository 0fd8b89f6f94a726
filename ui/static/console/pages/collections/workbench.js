// One loan in collections: who and what is owed, then the collector's work (calls, follow-ups, promises, field
// visits, the payment link) and, for those allowed, the decisions (settlement, penal waiver, write-off).
import { html, useState } from "/ui/vendor/preact-htm.js";
import { rupees, when } from "/ui/shared/api.js";
import { Alert, brandPath, staffApi, useLoad } from "../../ops/ui.js";
import { Calls, FollowUps, PaymentLink, Promises } from "./contact.js";
import { FieldVisits } from "./visits.js";
import { Decisions } from "./decisions.js";

export default function Workbench({ loanId, me, brandId }) {
  const [version, setVersion] = useState(0);
  const loan = useLoad(() => staffApi("GET", brandPath(brandId, `loans/${loanId}`)), [brandId, loanId]);
  const customerId = loan.data && loan.data.customerId;
  const customer = useLoad(
    () => (customerId ? staffApi("GET", brandPath(brandId, `customers/${customerId}`)) : null),
    [brandId, customerId]
  );
  const can = (p) => (me.permissions || []).includes(p);
  const l = loan.data;
  const c = customer.data && (customer.data.customer || customer.data);
  const overdue = l
    ? (l.schedule || []).filter((r) => r.status === "OVERDUE").reduce((sum, r) => sum + (r.duePaise ?? 0), 0)
    : 0;
  return html`<section>
    <p><a href="#/collections">← Back to the queues</a></p>
    <h1>Collections: ${c ? c.fullName || c.name || "customer" : "loan"}</h1>
    <${Alert} error=${loan.error} />
    ${l &&
    html`<div class="card ops-card">
      <dl class="ops-kv">
        <dt>Loan</dt><dd><a href=${`#/loans/${l.id}`}>${l.id}</a></dd>
        <dt>Customer</dt><dd><a href=${`#/customers/${l.customerId}`}>${c ? c.fullName || c.name || l.customerId : l.customerId}</a>
          ${c && c.phone ? html` · ${c.phone}` : null}</dd>
        <dt>Status</dt><dd><strong data-testid="loan-status">${l.status}</strong></dd>
        <dt>Days past due</dt><dd>${l.dpd} (${l.assetClass})</dd>
        <dt>Principal outstanding</dt><dd>${rupees(l.outstandingPrincipalPaise)}</dd>
        ${overdue > 0 ? html`<dt>Overdue installments</dt><dd>${rupees(overdue)}</dd>` : null}
        <dt>Next due</dt><dd>${when(l.nextDueAt)}</dd>
      </dl>
    </div>
    <div class="ops-grid">
      <${Calls} brandId=${brandId} loanId=${l.id} customerId=${l.customerId} me=${me} />
      <${PaymentLink} brandId=${brandId} loanId=${l.id} canWork=${can("collections.pre") || can("collections.manage")} />
    </div>
    <${FollowUps} brandId=${brandId} loanId=${l.id} customerId=${l.customerId} onSaved=${() => setVersion((v) => v + 1)} />
    <${Promises} brandId=${brandId} loanId=${l.id} version=${version} />
    <${FieldVisits} brandId=${brandId} loanId=${l.id} />
    ${(can("collections.manage") || can("collections.writeoff")) &&
    html`<${Decisions} brandId=${brandId} loanId=${l.id} me=${me} onChanged=${loan.reload} />`}`}
  </section>`;
}
