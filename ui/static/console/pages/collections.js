// Collections workbench: the collector's queues (pre-collection, collection, post-collection) and, for one loan
// (`#/collections?loan=<loanId>`), the day's work on it (calls, follow-ups, promises, field visits, the payment
// link) and the managers' decisions (settlement, penal waiver, write-off).
import { html } from "/ui/vendor/preact-htm.js";
import { useOpsStyles } from "../ops/ui.js";
import Queue from "./collections/queue.js";
import Workbench from "./collections/workbench.js";

export default function Collections({ query, me, brandId, navigate }) {
  useOpsStyles();
  if (query.loan) return html`<${Workbench} loanId=${query.loan} me=${me} brandId=${brandId} navigate=${navigate} />`;
  return html`<${Queue} query=${query} me=${me} brandId=${brandId} navigate=${navigate} />`;
}
