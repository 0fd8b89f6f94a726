// The signed-in staff member's notifications in this brand (docs/workbench.md): newest first, unread ones marked;
// mark one or all read, dismiss one, open the loan it is about. The bell counts again after each change.
import { html, useState } from "/ui/vendor/preact-htm.js";
import { label, when } from "../lib/format.js";
import { brandUrl, explainAction, Loaded, Pager, staff, useLoad, withQuery } from "../lib/ui.js";

const changed = () => window.dispatchEvent(new CustomEvent("los:notifications-changed"));

function Item({ n, brandId, onChange, onError }) {
  const base = brandUrl(brandId, `notifications/${n.id}`);
  const run = (method, path) =>
    staff(method, path)
      .then(() => (onChange(), changed()))
      .catch(onError);
  const loanId = n.metadata && n.metadata.loanId;
  return html`<li class=${n.isRead ? "card notification" : "card notification unread"} data-notification=${n.id}>
    <div class="section-head">
      <strong>${n.isRead ? "" : html`<span class="badge unread">new</span> `}${n.title}</strong>
      <span class="muted">${label(n.type)} · ${when(n.createdAt)}</span>
    </div>
    <p>${n.body}</p>
    <div class="row-actions">
      ${loanId && html`<a class="button secondary" href=${`#/loans/${loanId}`}>Open the loan</a>`}
      ${!n.isRead && html`<button type="button" class="secondary" onClick=${() => run("PATCH", `${base}/read`)}>Mark read</button>`}
      <button type="button" class="secondary" onClick=${() => run("DELETE", base)}>Dismiss</button>
    </div>
  </li>`;
}

export default function Notifications({ query, brandId, navigate }) {
  const unread = query.unread === "true";
  const page = Number(query.page || 1);
  const state = useLoad(
    () => staff("GET", brandUrl(brandId, withQuery("notifications", { unread: unread ? "true" : "", page, limit: 20 }))),
    [brandId, unread, page]
  );
  const [error, setError] = useState(null);
  const go = (next) => navigate(withQuery("/notifications", next));
  const readAll = () =>
    staff("PATCH", brandUrl(brandId, "notifications/read-all"))
      .then(() => (state.reload(), changed()))
      .catch(setError);
  return html`<h1>Notifications</h1>
    <div class="row-actions">
      <label class="inline"><input type="checkbox" checked=${unread} onChange=${(e) => go({ unread: e.target.checked ? "true" : "" })} />
        Only unread</label>
      <button type="button" class="secondary" onClick=${readAll}>Mark all read</button>
    </div>
    ${error && html`<p class="error" role="alert">${explainAction(error)}</p>`}
    <${Loaded} state=${state} what="your notifications">
      ${(p) =>
        p &&
        html`<p class="muted">${p.unreadCount} unread.</p>
          ${p.items.length
            ? html`<ul class="notifications">
                ${p.items.map((n) => html`<${Item} key=${n.id} n=${n} brandId=${brandId} onChange=${state.reload} onError=${setError} />`)}
              </ul>`
            : html`<p class="muted">${unread ? "Nothing unread." : "No notifications."}</p>`}
          <${Pager} page=${p.page} limit=${p.limit} total=${p.total} onPage=${(n) => go({ unread: unread ? "true" : "", page: n })} />`}
    <//>`;
}
