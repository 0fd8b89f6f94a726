// The borrower's app (mobile-first): to be built.
import { html, render } from "/ui/vendor/preact-htm.js";

render(html`<main class="card"><h1>Your loan</h1><p class="muted">The app is not built yet.</p></main>`,
  document.getElementById("root"));
