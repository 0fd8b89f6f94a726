// The console's shared building blocks: loading data, showing errors in words, tables with pagination, tabs,
// figures and badges. Other pages may import them: the exported names and their props are stable (only add).
import { html, useCallback, useEffect, useRef, useState } from "/ui/vendor/preact-htm.js";
import { api, ApiError, explain } from "/ui/shared/api.js";
import { label, tone } from "./format.js";

/** A staff API call (the console's session). */
export const staff = (method, path, body, options) => api("staff", method, path, body, options);

/** `/api/v1/partner/brand/<brandId>/<rest>` */
export const brandUrl = (brandId, rest) => `/api/v1/partner/brand/${brandId}/${rest}`;

/** Whether the signed-in staff member holds any of `permissions` in the active brand. */
export function can(me, ...permissions) {
  const held = (me && me.permissions) || [];
  return permissions.some((p) => held.includes(p));
}

/** `path?query` for the hash router from an object, leaving out empty values. */
export function withQuery(path, query) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== "") params.set(key, value);
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

/**
 * Load something when `deps` change: `{data, error, loading, reload, setData}`. `load` is an async function (its
 * result becomes `data`); an answer arriving after the deps changed again is dropped.
 */
export function useLoad(load, deps) {
  const [state, setState] = useState({ data: null, error: null, loading: true });
  const generation = useRef(0);
  const run = useCallback(() => {
    const mine = ++generation.current;
    setState((s) => ({ ...s, loading: true, error: null }));
    Promise.resolve()
      .then(load)
      .then(
        (data) => mine === generation.current && setState({ data, error: null, loading: false }),
        (error) => mine === generation.current && setState({ data: null, error, loading: false })
      );
  }, deps);
  useEffect(() => {
    run();
    return () => {
      generation.current++;
    };
  }, [run]);
  return { ...state, reload: run, setData: (data) => setState({ data, error: null, loading: false }) };
}

/** What an error means, in words: the shared explanation, with what a refusal means for staff. */
export function explainAction(error) {
  const text = explain(error);
  if (error instanceof ApiError && error.status === 403)
    return `${text}. Your role in this brand does not allow it, or another person must do it (maker-checker).`;
  if (error instanceof ApiError && error.status === 409)
    return `${text}. The loan or record has moved on since this page was loaded: reload to see where it stands.`;
  return text;
}

/** An error shown as an alert (nothing when `error` is null). */
export function ErrorNote({ error, action = false }) {
  if (!error) return null;
  const text = typeof error === "string" ? error : action ? explainAction(error) : explain(error);
  return html`<p class="error" role="alert">${text}</p>`;
}

/** A success message (role=status). */
export function Notice({ children }) {
  if (!children) return null;
  return html`<p class="notice" role="status">${children}</p>`;
}

/** What a load shows while pending or failed; `children` once loaded. */
export function Loaded({ state, children, what = "" }) {
  if (state.error) return html`<${ErrorNote} error=${state.error} />`;
  if (state.loading && !state.data) return html`<p class="muted">Loading${what ? " " + what : ""}…</p>`;
  return typeof children === "function" ? children(state.data) : children;
}

/** A status as a coloured badge. */
export function Badge({ value, text }) {
  return html`<span class=${`badge tone-${tone(value)}`}>${text || label(value)}</span>`;
}

/** A figure card: a label, a big value and a hint. */
export function Figure({ title, value, hint, id }) {
  return html`<div class="figure card" data-figure=${id || title}>
    <div class="figure-label">${title}</div>
    <div class="figure-value">${value}</div>
    ${hint && html`<div class="figure-hint muted">${hint}</div>`}
  </div>`;
}

/** A description list from [[label, value], ...] (rows whose value is undefined are left out). */
export function Facts({ items }) {
  return html`<dl class="facts">
    ${items
      .filter(([, value]) => value !== undefined)
      .map(([term, value]) => html`<div><dt>${term}</dt><dd>${value === null || value === "" ? "—" : value}</dd></div>`)}
  </dl>`;
}

/**
 * A table: `columns` [{key, title, render(row), className}], `rows`, `rowKey(row)`. Wrapped so a wide table scrolls
 * in its own box and never widens the page.
 */
export function Table({ columns, rows, rowKey, empty = "Nothing to show.", caption, rowProps }) {
  if (!rows || rows.length === 0) return html`<p class="muted empty">${empty}</p>`;
  return html`<div class="table-wrap">
    <table>
      ${caption && html`<caption>${caption}</caption>`}
      <thead><tr>${columns.map((c) => html`<th scope="col" class=${c.className || ""}>${c.title}</th>`)}</tr></thead>
      <tbody>
        ${rows.map(
          (row, i) => html`<tr key=${rowKey ? rowKey(row) : i} ...${rowProps ? rowProps(row) : {}}>
            ${columns.map(
              (c) => html`<td class=${c.className || ""} data-label=${c.title}>
                ${c.render ? c.render(row) : row[c.key] === null || row[c.key] === undefined ? "—" : row[c.key]}
              </td>`
            )}
          </tr>`
        )}
      </tbody>
    </table>
  </div>`;
}

/** Page links for `{page, limit, total}`; `onPage(n)` moves. Nothing when everything fits on one page. */
export function Pager({ page, limit, total, onPage }) {
  if (!total || total <= limit) return null; // one page: nothing to move to
  const pages = Math.max(1, Math.ceil((total || 0) / (limit || 1)));
  const first = total ? (page - 1) * limit + 1 : 0;
  const last = Math.min(total || 0, page * limit);
  return html`<nav class="pager" aria-label="Pages">
    <button class="secondary" disabled=${page <= 1} onClick=${() => onPage(page - 1)}>Previous</button>
    <span>${first}–${last} of ${total || 0} · page ${page} of ${pages}</span>
    <button class="secondary" disabled=${page >= pages} onClick=${() => onPage(page + 1)}>Next</button>
  </nav>`;
}

/** Tabs: `tabs` [{id, title}], the `active` id, `onChange(id)`; the panel is the children. */
export function Tabs({ tabs, active, onChange, children, label: name = "Sections" }) {
  return html`<div class="tabs">
    <div role="tablist" aria-label=${name}>
      ${tabs.map(
        (t) => html`<button role="tab" id=${`tab-${t.id}`} aria-selected=${t.id === active ? "true" : "false"}
          class=${t.id === active ? "tab active" : "tab"} onClick=${() => onChange(t.id)}>${t.title}</button>`
      )}
    </div>
    <div role="tabpanel" aria-labelledby=${`tab-${active}`} class="tab-panel">${children}</div>
  </div>`;
}

/** A section card with a heading. */
export function Section({ title, children, actions, id }) {
  return html`<section class="card" id=${id} aria-label=${title}>
    <div class="section-head"><h2>${title}</h2>${actions}</div>
    ${children}
  </section>`;
}

/** JSON shown readably (for vendor payloads whose shape varies). */
export function Json({ value }) {
  return html`<pre class="json">${JSON.stringify(value, null, 2)}</pre>`;
}
