// The loan's double-entry ledger (each posting, debit > 0, credit < 0) and its trial balance, as of a date.
import { html, useState } from "/ui/vendor/preact-htm.js";
import { label, rupees, when } from "../../lib/format.js";
import { Badge, brandUrl, Loaded, Section, staff, Table, useLoad, withQuery } from "../../lib/ui.js";
import { Field } from "../../lib/forms.js";

export function Ledger({ loan, brandId }) {
  const [asOf, setAsOf] = useState("");
  const [applied, setApplied] = useState("");
  const state = useLoad(
    () => staff("GET", brandUrl(brandId, withQuery(`loans/${loan.id}/ledger`, { asOf: applied }))),
    [brandId, loan.id, applied, loan.status, loan.totalCollectedPaise]
  );
  return html`<form class="filters" aria-label="Ledger date" onSubmit=${(e) => (e.preventDefault(), setApplied(asOf))}>
      <${Field} label="As of (IST)" type="date" value=${asOf} onInput=${setAsOf} />
      <div class="field actions"><button type="submit">Show</button></div>
    </form>
    <${Loaded} state=${state} what="the ledger">
      ${(l) =>
        l &&
        html`<${Section} title="Trial balance">
            <p>${l.balanced ? html`<${Badge} value="PASS" text="Balanced: debits equal credits" />` : html`<${Badge} value="FAIL" text="Not balanced" />`}</p>
            <${Table}
              rows=${l.trialBalance}
              empty="No postings yet."
              columns=${[
                { title: "Account", render: (r) => label(r.account) },
                { title: "Debit", className: "num", render: (r) => rupees(r.debitPaise) },
                { title: "Credit", className: "num", render: (r) => rupees(r.creditPaise) },
                { title: "Balance", className: "num", render: (r) => rupees(r.balancePaise) },
              ]}
            />
          <//>
          <${Section} title="Postings">
            <${Table}
              rows=${l.entries}
              empty="No postings yet."
              columns=${[
                { title: "When", render: (r) => when(r.at) },
                { title: "Value date", render: (r) => r.valueDate || "—" },
                { title: "Transaction", render: (r) => label(r.kind) },
                { title: "Account", render: (r) => label(r.account) },
                { title: "Debit", className: "num", render: (r) => (r.amountPaise > 0 ? rupees(r.amountPaise) : "") },
                { title: "Credit", className: "num", render: (r) => (r.amountPaise < 0 ? rupees(-r.amountPaise) : "") },
              ]}
            />
          <//>`}
    <//>`;
}
