// Form pieces the console shares: the brand's reason dropdowns (status reasons), and one form for every staff
// decision (a reason, remarks, extra fields, a clear message when the API refuses). Stable exports.
import { html, useEffect, useState } from "/ui/vendor/preact-htm.js";
import { brandUrl, ErrorNote, explainAction, Notice, staff } from "./ui.js";

const reasonCache = new Map();

/** The brand's active status reasons for a decision (`appliesTo`: REJECTED, SEND_BACK...), cached per page load. */
export function loadReasons(brandId, appliesTo) {
  const key = `${brandId}:${appliesTo || ""}`;
  if (!reasonCache.has(key)) {
    const query = appliesTo ? `?appliesTo=${encodeURIComponent(appliesTo)}` : "";
    const pending = staff("GET", brandUrl(brandId, `status-reasons${query}`)).catch((error) => {
      reasonCache.delete(key);
      throw error;
    });
    reasonCache.set(key, pending);
  }
  return reasonCache.get(key);
}

let ids = 0;
/** A unique id for a label's `for`. */
export function useId(prefix = "f") {
  const [id] = useState(() => `${prefix}-${++ids}`);
  return id;
}

/** A dropdown of the brand's reasons for `appliesTo`; `onChange(code, reason)`. */
export function ReasonSelect({ brandId, appliesTo, value, onChange, required = false, label = "Reason" }) {
  const id = useId("reason");
  const [reasons, setReasons] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    let live = true;
    loadReasons(brandId, appliesTo).then(
      (rows) => live && setReasons(rows),
      (e) => live && setError(e)
    );
    return () => {
      live = false;
    };
  }, [brandId, appliesTo]);
  if (error) return html`<${ErrorNote} error=${error} />`;
  return html`<div class="field">
    <label for=${id}>${label}${required ? "" : " (optional)"}</label>
    <select id=${id} required=${required} value=${value || ""} disabled=${reasons === null}
      onChange=${(e) => onChange(e.target.value, (reasons || []).find((r) => r.code === e.target.value) || null)}>
      <option value="">${reasons === null ? "Loading reasons…" : reasons.length ? "Choose a reason" : "No reasons set for this brand"}</option>
      ${(reasons || []).map((r) => html`<option value=${r.code}>${r.label} (${r.code})</option>`)}
    </select>
  </div>`;
}

/** A labelled input; `type` "textarea" for a text area; `optional` marks the label "(optional)". Extra props go to
 * the input. */
export function Field({ label, value, onInput, type = "text", required = false, optional = false, hint, ...rest }) {
  const id = useId("field");
  const input =
    type === "textarea"
      ? html`<textarea id=${id} required=${required} value=${value} rows="3" onInput=${(e) => onInput(e.target.value)} ...${rest}></textarea>`
      : html`<input id=${id} type=${type} required=${required} value=${value} onInput=${(e) => onInput(e.target.value)} ...${rest} />`;
  return html`<div class="field">
    <label for=${id}>${label}${optional ? " (optional)" : ""}</label>
    ${input}
    ${hint && html`<small class="muted">${hint}</small>`}
  </div>`;
}

/** A labelled dropdown of `options` [[value, text], ...]. */
export function Select({ label, value, onChange, options, required = false }) {
  const id = useId("select");
  return html`<div class="field">
    <label for=${id}>${label}</label>
    <select id=${id} required=${required} value=${value} onChange=${(e) => onChange(e.target.value)}>
      ${options.map(([v, text]) => html`<option value=${v}>${text}</option>`)}
    </select>
  </div>`;
}

/**
 * One staff decision as a form. `reasons`: {appliesTo, required, label} shows the brand's reason dropdown;
 * `remarks`: {label, required} a free-text box; `children` further fields. `onSubmit({reasonCode, reason,
 * remarks})` does the call and resolves to the success message; a refusal is shown in words (403 and 409
 * explained). `reason` is the chosen reason row ({code, label}) or null.
 */
export function ActionForm({
  brandId,
  title,
  description,
  reasons,
  remarks = { label: "Remarks" },
  submitLabel,
  danger = false,
  onSubmit,
  onDone,
  children,
  disabled = false,
}) {
  const [reasonCode, setReasonCode] = useState("");
  const [reason, setReason] = useState(null);
  const [text, setText] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const [done, setDone] = useState(null);
  const submit = async (event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      const message = await onSubmit({ reasonCode, reason, remarks: text.trim() });
      setDone(message || "Done.");
      setText("");
      if (onDone) onDone();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return html`<form class="action-form card" onSubmit=${submit} aria-label=${title}>
    <h3>${title}</h3>
    ${description && html`<div class="muted">${description}</div>`}
    ${children}
    ${reasons &&
    html`<${ReasonSelect} brandId=${brandId} appliesTo=${reasons.appliesTo} value=${reasonCode}
      required=${!!reasons.required} label=${reasons.label || "Reason"}
      onChange=${(code, row) => (setReasonCode(code), setReason(row))} />`}
    ${remarks &&
    html`<${Field} label=${remarks.label} type="textarea" value=${text} onInput=${setText}
      required=${!!remarks.required} optional=${!remarks.required} maxlength="1000" />`}
    ${error && html`<p class="error" role="alert">${error instanceof Error && !error.status ? error.message : explainAction(error)}</p>`}
    <${Notice}>${done}<//>
    <p><button type="submit" class=${danger ? "danger" : ""} disabled=${busy || disabled}>
      ${busy ? "Working…" : submitLabel || title}</button></p>
  </form>`;
}
