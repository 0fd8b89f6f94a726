// Settings (`#/settings/:section`): loan rules, evaluation items with the policy simulation, status reasons,
// blocklist, providers, templates and holidays; each section is its own module under ./settings/.
import { html } from "/ui/vendor/preact-htm.js";
import { Heading, useOpsStyles } from "../ops/ui.js";
import LoanRules from "./settings/loan-rules.js";
import Evaluation from "./settings/evaluation.js";
import StatusReasons from "./settings/status-reasons.js";
import Blocklist from "./settings/blocklist.js";
import Providers from "./settings/providers.js";
import Templates from "./settings/templates.js";
import Holidays from "./settings/holidays.js";

const SECTIONS = [
  ["loan-rules", "Loan rules", LoanRules],
  ["evaluation", "Evaluation and policy", Evaluation],
  ["status-reasons", "Status reasons", StatusReasons],
  ["blocklist", "Blocklist", Blocklist],
  ["providers", "Providers", Providers],
  ["templates", "Templates", Templates],
  ["holidays", "Holidays", Holidays],
];

export default function Settings({ params, me, brandId }) {
  useOpsStyles();
  const current = SECTIONS.find((s) => s[0] === params.section) || SECTIONS[0];
  const Section = current[2];
  const can = (p) => (me.permissions || []).includes(p);
  return html`<section>
    <${Heading} title=${`Settings: ${current[1]}`}>The brand's configuration. Every change is audited.</${Heading}>
    <nav class="ops-tabs" aria-label="Settings sections">
      ${SECTIONS.map((s) => html`<a href=${`#/settings/${s[0]}`} aria-current=${s === current ? "page" : undefined}>${s[1]}</a>`)}
    </nav>
    <${Section} brandId=${brandId} me=${me} canManage=${can("settings.manage")} />
  </section>`;
}
