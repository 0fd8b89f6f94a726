// Global search: one box for a name, phone, PAN, loan id, UTR or e-mail (#/search?q=...). PANs come back masked.
import { html, useEffect, useState } from "/ui/vendor/preact-htm.js";
import { rupees } from "/ui/shared/api.js";
import { Alert, Heading, Table, brandPath, staffApi, useAction, useOpsStyles } from "../ops/ui.js";

export default function Search({ query, brandId, navigate }) {
  useOpsStyles();
  const [term, setTerm] = useState(query.q || "");
  const [result, setResult] = useState(null);
  const act = useAction();
  const run = async (q) => {
    if (!q || q.trim().length < 2) {
      act.setError("Please type at least 2 characters.");
      return;
    }
    const answer = await act.run(() => staffApi("POST", brandPath(brandId, "global-search"), { query: q.trim(), limit: 50 }));
    if (answer) setResult(answer);
  };
  useEffect(() => {
    setTerm(query.q || "");
    if (query.q) run(query.q);
  }, [query.q, brandId]);
  const submit = (event) => {
    event.preventDefault();
    if (term.trim() === (query.q || "")) run(term);
    else navigate(`/search?q=${encodeURIComponent(term.trim())}`);
  };
  const columns = [
    { label: "Found", render: (h) => (h.type === "loan" ? "loan" : "customer") },
    { label: "Name", render: (h) => html`<a href=${`#/customers/${h.customerId}`}>${h.name || "(no name)"}</a>` },
    { label: "Phone", key: "phone" },
    { label: "PAN", key: "panMasked" },
    { label: "E-mail", key: "email" },
    { label: "Customer status", key: "customerStatus" },
    {
      label: "Loan",
      render: (h) => (h.loanId ? html`<a href=${`#/loans/${h.loanId}`}>${h.loanId.slice(0, 8)}</a> ${h.loanStatus} ${rupees(h.amountPaise)}` : "—"),
    },
    { label: "Matched on", render: (h) => `${h.matchedOn}${h.score ? ` (${h.score})` : ""}` },
  ];
  return html`<section>
    <${Heading} title="Search">A name (spelling may be off), phone, PAN, e-mail, loan id or UTR.</${Heading}>
    <form class="card" role="search" onSubmit=${submit}>
      <label for="gs-q">Search for</label>
      <div class="ops-actions" style="margin-top:0">
        <input id="gs-q" type="search" style="flex:1 1 16rem" value=${term} onInput=${(e) => setTerm(e.target.value)} maxlength="100" />
        <button type="submit" disabled=${act.busy}>Search</button>
      </div>
    </form>
    <${Alert} error=${act.error} />
    ${result &&
    html`<p role="status">${result.count} found for “${result.query}”.</p>
      <${Table} caption="Search results" columns=${columns} rows=${result.items} empty="Nothing matches." />`}
  </section>`;
}
