// What the settings sections share: the settings path of the brand, and a delete button with its refusal.
import { html } from "/ui/vendor/preact-htm.js";
import { explain } from "/ui/shared/api.js";
import { brandPath, staffApi, useAction } from "../../ops/ui.js";

export const settingsPath = (brandId, rest) => brandPath(brandId, `settings/${rest}`);

/** A button that sends DELETE to `path` after a confirmation, then `onDone()`; a refusal in words next to it. */
export function DeleteButton({ path, what, onDone }) {
  const act = useAction();
  const remove = async () => {
    if (!window.confirm(`Delete ${what}?`)) return;
    const ok = await act.run(() => staffApi("DELETE", path));
    if (ok !== undefined) onDone();
  };
  return html`<button type="button" class="secondary" aria-label=${`Delete ${what}`} onClick=${remove} disabled=${act.busy}>Delete</button>
    ${act.error && html`<span class="error" role="alert">${explainText(act.error)}</span>`}`;
}

const explainText = (e) => (typeof e === "string" ? e : explain(e));
