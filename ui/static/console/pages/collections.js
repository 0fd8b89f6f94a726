// Console page "collections" (to be built).
import { html } from "/ui/vendor/preact-htm.js";

export default function Page() {
  return html`<h1>collections</h1><p class="muted">This page is not built yet.</p>`;
}
