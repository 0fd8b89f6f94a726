// The loan's status timeline, oldest first: each move with the staff action behind it, who acted and why (reason
// code, remarks, conditions, score override).
import { html } from "/ui/vendor/preact-htm.js";
import { label, when } from "../../lib/format.js";
import { Badge } from "../../lib/ui.js";

/** "role:email" / "customer:<id>" / "system" in words. */
export function actorText(actor) {
  if (!actor) return "—";
  if (actor === "system") return "the system";
  const [kind, rest] = [actor.slice(0, actor.indexOf(":")), actor.slice(actor.indexOf(":") + 1)];
  if (!rest || actor.indexOf(":") < 0) return actor;
  if (kind === "customer") return "the customer";
  return `${label(kind)} (${rest})`;
}

function Details({ details }) {
  if (!details || typeof details !== "object") return null;
  const known = [
    ["reasonCode", "Reason code"],
    ["reason", "Remarks"],
    ["remarks", "Remarks"],
    ["conditions", "Conditions"],
    ["scoreOverride", "Score override"],
    ["step", "Step"],
  ];
  const shown = known.filter(([key]) => details[key] !== undefined && details[key] !== null && details[key] !== "");
  const others = Object.entries(details).filter(
    ([key, v]) => key !== "action" && !known.some(([k]) => k === key) && v !== null && v !== ""
  );
  if (!shown.length && !others.length) return null;
  return html`<ul class="details">
    ${shown.map(([key, title]) => html`<li><strong>${title}:</strong> ${String(details[key])}</li>`)}
    ${others.map(([key, v]) => html`<li><strong>${key}:</strong> ${typeof v === "object" ? JSON.stringify(v) : String(v)}</li>`)}
  </ul>`;
}

export function Timeline({ loan }) {
  const moves = loan.statusHistory || [];
  if (!moves.length) return html`<p class="muted">No status history yet.</p>`;
  return html`<ol class="timeline" aria-label="Status timeline">
    ${moves.map(
      (m) => html`<li key=${m.seq} data-action=${m.action || ""}>
        <div class="timeline-head">
          ${m.from ? html`<${Badge} value=${m.from} /> → ` : ""}<${Badge} value=${m.to} />
          ${m.action && html` <strong class="timeline-action">${label(m.action)}</strong>`}
          <span class="muted"> · ${when(m.at)} · by ${actorText(m.actor)}</span>
        </div>
        ${m.reason && html`<div class="timeline-reason">${m.reason}</div>`}
        <${Details} details=${m.details} />
      </li>`
    )}
  </ol>`;
}
