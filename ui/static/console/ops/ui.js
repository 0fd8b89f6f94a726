// Shared pieces of the operations pages: the stylesheet, a load hook, refusals in words, labelled fields, tables,
// a pager and small helpers (rupees typed by people, paise sent to the API).
import { html, useCallback, useEffect, useState } from "/ui/vendor/preact-htm.js";
import { explain } from "/ui/shared/api.js";
import { brandPath, staffApi } from "/ui/console/main.js";

export { brandPath, staffApi };

let styled = false;
/** Add the operations stylesheet to the document once. */
export function useOpsStyles() {
  if (styled) return;
  styled = true;
  const link = document.createElement("link");
  link.rel = "stylesheet";
  link.href = "/ui/console/ops/ops.css";
  document.head.appendChild(link);
}

/** Load `fn()` whenever `deps` change: {data, error, loading, reload}. */
export function useLoad(fn, deps) {
  const [state, setState] = useState({ data: null, error: null, loading: true });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true, error: null }));
    Promise.resolve()
      .then(fn)
      .then((data) => live && setState({ data, error: null, loading: false }))
      .catch((error) => live && setState({ data: null, error, loading: false }));
    return () => {
      live = false;
    };
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
}

/** Run an action with a busy flag, its refusal explained in words and its success message. */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const [done, setDone] = useState(null);
  const run = async (fn, message) => {
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      const answer = await fn();
      setDone(typeof message === "function" ? message(answer) : message || null);
      return answer;
    } catch (e) {
      setError(e);
      return undefined;
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, done, run, setError, setDone };
}

/** A refusal in words (role="alert"), or nothing. */
export function Alert({ error }) {
  if (!error) return null;
  return html`<p class="error" role="alert">${typeof error === "string" ? error : explain(error)}</p>`;
}

/** A success message (role="status"), or nothing. */
export function Done({ message }) {
  if (!message) return null;
  return html`<p class="notice" role="status">${message}</p>`;
}

/** A labelled input: `<${Field} id label type value onInput .../>`; `options` makes a select, `area` a textarea. */
export function Field({ id, label, value, onInput, type = "text", options, area, hint, ...rest }) {
  const set = (e) => onInput(type === "checkbox" ? e.target.checked : e.target.value);
  let input;
  if (options) {
    input = html`<select id=${id} value=${value ?? ""} onChange=${set} ...${rest}>
      ${options.map((o) => {
        const [v, text] = Array.isArray(o) ? o : [o, o];
        return html`<option value=${v}>${text}</option>`;
      })}
    </select>`;
  } else if (area) {
    input = html`<textarea id=${id} rows="3" value=${value ?? ""} onInput=${set} ...${rest}></textarea>`;
  } else if (type === "checkbox") {
    return html`<div class="ops-inline"><input id=${id} type="checkbox" checked=${!!value} onChange=${set} ...${rest} />
      <label for=${id}>${label}</label></div>`;
  } else {
    input = html`<input id=${id} type=${type} value=${value ?? ""} onInput=${set} ...${rest} />`;
  }
  return html`<div>
    <label for=${id}>${label}</label>
    ${input}
    ${hint && html`<small class="muted">${hint}</small>`}
  </div>`;
}

/** A table: columns [{label, key?, render?, num?}], rows; `caption` names it for screen readers. */
export function Table({ columns, rows, caption, empty = "Nothing to show.", rowKey }) {
  if (!rows || rows.length === 0) return html`<p class="muted">${empty}</p>`;
  return html`<div class="ops-table"><table>
    ${caption && html`<caption class="sr-only">${caption}</caption>`}
    <thead><tr>${columns.map((c) => html`<th scope="col" class=${c.num ? "num" : ""}>${c.label}</th>`)}</tr></thead>
    <tbody>
      ${rows.map(
        (row, i) => html`<tr key=${rowKey ? rowKey(row) : i}>
          ${columns.map((c) => html`<td class=${c.num ? "num" : ""}>${c.render ? c.render(row) : show(row[c.key])}</td>`)}
        </tr>`
      )}
    </tbody>
  </table></div>`;
}

function show(value) {
  if (value === null || value === undefined || value === "") return "—";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

/** Previous / next with "page p of n (total)". */
export function Pager({ page, limit, total, onPage, label = "Pages" }) {
  const pages = Math.max(1, Math.ceil((total || 0) / (limit || 1)));
  return html`<nav class="ops-pager" aria-label=${label}>
    <button type="button" class="secondary" disabled=${page <= 1} onClick=${() => onPage(page - 1)}>Previous</button>
    <span>Page ${page} of ${pages} (${total} in all)</span>
    <button type="button" class="secondary" disabled=${page >= pages} onClick=${() => onPage(page + 1)}>Next</button>
  </nav>`;
}

/** "1234.50" (rupees typed by a person) -> 123450 paise; null when empty or not a number. */
export function toPaise(rupeesText) {
  const text = String(rupeesText ?? "").replace(/[₹,\s]/g, "");
  if (!text) return null;
  if (!/^\d+(\.\d{1,2})?$/.test(text)) return NaN;
  const [whole, frac = ""] = text.split(".");
  return Number(whole) * 100 + Number((frac + "00").slice(0, 2));
}

/** A query string from an object, leaving out empty values. */
export function qs(params) {
  const entries = Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== "");
  return entries.length ? "?" + new URLSearchParams(entries).toString() : "";
}

/** Today as an IST calendar date, YYYY-MM-DD. */
export function todayIst() {
  return new Date(Date.now() + 5.5 * 3600 * 1000).toISOString().slice(0, 10);
}

/** A datetime-local value (read as IST) -> ISO 8601 with its offset. */
export function istInstant(local) {
  if (!local) return "";
  return (local.length === 16 ? local + ":00" : local) + "+05:30";
}

/** A page title with its help line. */
export function Heading({ title, children }) {
  return html`<header><h1>${title}</h1>${children && html`<p class="muted">${children}</p>`}</header>`;
}
