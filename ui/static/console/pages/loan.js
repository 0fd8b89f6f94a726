// The loan profile: who and what (header, Temporal UI link), the decisions the signed-in role can take now
// (./loan/actions.js), and tabs: timeline, credit file, documents, CAM, comments, repayment, ledger, money out,
// restructure.
// Each tab is its own module under ./loan/; the tab is in the hash query (?tab=credit) so it survives a reload.
import { html } from "/ui/vendor/preact-htm.js";
import { brandUrl, Loaded, staff, Tabs, useLoad, withQuery } from "../lib/ui.js";
import { LoanHeader } from "./loan/header.js";
import { LoanActions } from "./loan/actions.js";
import { Timeline } from "./loan/timeline.js";
import { CreditFile } from "./loan/credit.js";
import { Documents } from "./loan/documents.js";
import { CamCalculator } from "./loan/cam.js";
import { Comments } from "./loan/comments.js";
import { Repayment } from "./loan/repayment.js";
import { Ledger } from "./loan/ledger.js";
import { MoneyOut } from "./loan/moneyout.js";
import { Restructure } from "./loan/restructure.js";

const TABS = [
  { id: "timeline", title: "Timeline" },
  { id: "credit", title: "Credit file" },
  { id: "documents", title: "Documents" },
  { id: "cam", title: "CAM" },
  { id: "comments", title: "Comments" },
  { id: "repayment", title: "Repayment" },
  { id: "ledger", title: "Ledger" },
  { id: "money-out", title: "Transfers and eSign" },
  { id: "restructure", title: "Restructure" },
];

function Panel({ tab, ...props }) {
  switch (tab) {
    case "credit":
      return html`<${CreditFile} ...${props} />`;
    case "documents":
      return html`<${Documents} ...${props} />`;
    case "cam":
      return html`<${CamCalculator} ...${props} />`;
    case "comments":
      return html`<${Comments} ...${props} />`;
    case "repayment":
      return html`<${Repayment} ...${props} />`;
    case "ledger":
      return html`<${Ledger} ...${props} />`;
    case "money-out":
      return html`<${MoneyOut} ...${props} />`;
    case "restructure":
      return html`<${Restructure} ...${props} />`;
    default:
      return html`<${Timeline} ...${props} />`;
  }
}

export default function LoanPage({ params, query, me, brandId, navigate }) {
  const loanId = params.loanId;
  const state = useLoad(() => staff("GET", brandUrl(brandId, `loans/${loanId}`)), [brandId, loanId]);
  const tab = TABS.some((t) => t.id === query.tab) ? query.tab : "timeline";
  return html`<${Loaded} state=${state} what="the loan">
    ${(loan) =>
      loan &&
      html`<${LoanHeader} loan=${loan} me=${me} brandId=${brandId} onReload=${state.reload} />
        <${LoanActions} loan=${loan} me=${me} brandId=${brandId}
          onChanged=${state.reload} />
        <${Tabs} tabs=${TABS} active=${tab} label="Loan sections"
          onChange=${(id) => navigate(withQuery(`/loans/${loanId}`, { ...query, tab: id }))}>
          <${Panel} tab=${tab} loan=${loan} me=${me} brandId=${brandId} onChanged=${state.reload} />
        <//>`}
  <//>`;
}
