// What the app's screens share: the customer API call, the brand the app is opened for, money in words, the
// refusal alert, labelled fields, polling and the hand-off to a vendor's page.
import { html, useEffect, useRef, useState } from "/ui/vendor/preact-htm.js";
import { api, explain, getSession, rupees } from "/ui/shared/api.js";

export { explain, rupees };

/** A call to the customer API (`/api/v1/web...`) with the borrower's token; rejects with an ApiError. */
export const call = (method, path, body, options) => api("customer", method, path, body, options);

const BRAND_KEY = "los.app.brand";

/**
 * The brand's code the app works for: `?brand=CODE` in the page's address (`/app?brand=demo`) or in the hash
 * (`/app#/?brand=demo`), remembered on this device; else the one remembered; else "demo".
 */
export function brandCode() {
  const fromSearch = new URLSearchParams(location.search).get("brand");
  const hashQuery = (location.hash.split("?")[1] || "").split("#")[0];
  const fromHash = new URLSearchParams(hashQuery).get("brand");
  const given = (fromSearch || fromHash || "").trim();
  if (given) {
    localStorage.setItem(BRAND_KEY, given);
    return given;
  }
  return localStorage.getItem(BRAND_KEY) || "demo";
}

/** The signed-in borrower: {customerId, brandId, brand (code), phone, tokens...}, or null. */
export const me = () => getSession("customer");

/** Paise from a rupee decimal string as the preview answers it ("305.00"). */
export const paiseOf = (text) => Math.round(Number(text) * 100);

/** A rupee decimal string ("305.00") shown as money: "₹305.00". */
export const inr = (text) => (text === null || text === undefined ? "—" : rupees(paiseOf(text)));

/** The IST calendar day an installment is due, from `dueAt` (the instant it falls overdue: the end of that day). */
export function dueDay(dueAt) {
  if (!dueAt) return "—";
  const day = new Date(new Date(dueAt).getTime() - 1000);
  return day.toLocaleDateString("en-IN", { timeZone: "Asia/Kolkata", day: "numeric", month: "short", year: "numeric" });
}

/** Rupees for an amount field from paise: 150000 -> "1500.00". */
export const rupeeField = (paise) => (Number(paise) / 100).toFixed(2);

/** A refusal or failure, in words, where screen readers announce it. */
export function Alert({ error }) {
  if (!error) return null;
  return html`<p class="error" role="alert">${typeof error === "string" ? error : explain(error)}</p>`;
}

/** A confirmation, announced politely. */
export function Notice({ children }) {
  if (!children) return null;
  return html`<p class="notice" role="status">${children}</p>`;
}

/** A labelled input bound to `state[name]`; extra props go to the input. */
export function Field({ id, label, value, onValue, hint, ...rest }) {
  return html`<div class="field">
    <label for=${id}>${label}</label>
    <input id=${id} name=${id} value=${value ?? ""} onInput=${(e) => onValue(e.target.value)}
      aria-describedby=${hint ? `${id}-hint` : undefined} ...${rest} />
    ${hint && html`<small id=${`${id}-hint`} class="muted">${hint}</small>`}
  </div>`;
}

/**
 * A form's submit: `run(async () => ...)` sets busy, clears the error, and keeps the refusal to show.
 * Answers [busy, error, run, setError].
 */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const run = async (work) => {
    setBusy(true);
    setError(null);
    try {
      return await work();
    } catch (e) {
      setError(e);
      return undefined;
    } finally {
      setBusy(false);
    }
  };
  return [busy, error, run, setError];
}

/**
 * Load `load()` now, again every `every` ms while `every` is set and the page is visible, and at once when the
 * borrower comes back to the tab (after a vendor's page). Answers {data, error, reload}.
 */
export function usePoll(load, deps, every) {
  const [data, setData] = useState(null);
  const [error, setError] = useState(null);
  const live = useRef(true);
  const loadRef = useRef(load);
  loadRef.current = load;
  const reload = async () => {
    try {
      const answer = await loadRef.current();
      if (live.current) {
        setData(answer);
        setError(null);
      }
      return answer;
    } catch (e) {
      if (live.current) setError(e);
      return undefined;
    }
  };
  useEffect(() => {
    live.current = true;
    setData(null);
    reload();
    const onBack = () => document.visibilityState === "visible" && reload();
    document.addEventListener("visibilitychange", onBack);
    window.addEventListener("focus", onBack);
    return () => {
      live.current = false;
      document.removeEventListener("visibilitychange", onBack);
      window.removeEventListener("focus", onBack);
    };
  }, deps);
  useEffect(() => {
    if (!every) return undefined;
    const timer = setInterval(() => document.visibilityState === "visible" && reload(), every);
    return () => clearInterval(timer);
  }, [...deps, every]);
  return { data, error, reload };
}

/**
 * A link to a vendor's page (eSign, payment, AA consent, DigiLocker) opened in a new tab, as a real vendor's page
 * would be; the app keeps watching the loan and moves on when the borrower comes back.
 */
export function VendorLink({ href, children, onOpen }) {
  return html`<a class="button vendor" href=${href} target="_blank" rel="noopener" onClick=${onOpen}>${children}</a>
    <small class="muted block">Opens the provider's page in a new tab. Come back here when you are done: this page
      updates by itself.</small>`;
}

/** The loan statuses in words for the borrower. */
export const STATUS_WORDS = {
  APPLIED: "Application received: verification in progress",
  UNDER_REVIEW: "Under review by our credit team",
  SANCTIONED: "Sanctioned: read and accept the Key Fact Statement",
  AGREEMENT_PENDING: "Sign your loan agreement",
  AGREEMENT_SIGNED: "Agreement signed: the money is being sent",
  DISBURSAL_PENDING: "The money is being sent to your account",
  DISBURSED: "Active: being repaid",
  OVERDUE: "Overdue: an installment is unpaid",
  NEEDS_ATTENTION: "On hold: our team is looking into it",
  COMPLETED: "Closed: fully repaid",
  REJECTED: "Not approved",
  EXPIRED: "Expired",
  CANCELLED: "Cancelled",
  SETTLED: "Closed by settlement",
  WRITTEN_OFF: "Written off",
};

export const REPAYING = ["DISBURSED", "OVERDUE"];
export const CLOSED = ["COMPLETED", "REJECTED", "EXPIRED", "CANCELLED", "SETTLED", "WRITTEN_OFF"];

/**
 * The loan a screen is about: the route's `loanId`, else the borrower's current loan (the newest not closed, else
 * the newest). Answers {loanId, error, none} (`none`: the borrower has no loan).
 */
export function useLoanId(params) {
  const [found, setFound] = useState(params.loanId ? { loanId: params.loanId } : null);
  useEffect(() => {
    if (params.loanId) {
      setFound({ loanId: params.loanId });
      return;
    }
    call("GET", "/api/v1/web/loans")
      .then((loans) => {
        const current = loans.find((l) => !CLOSED.includes(l.status)) || loans[0];
        setFound(current ? { loanId: current.id } : { none: true });
      })
      .catch((error) => setFound({ error }));
  }, [params.loanId]);
  return found || {};
}
