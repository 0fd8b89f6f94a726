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

// the statuses in which the loan moves on without the borrower (a decision, the lender's sanction, the eSign vendor's
// callback, the disbursal, a payment, a refund): the screen waits on the API for its next change (useLoanWatch)
export const WATCHED = [
  "APPLIED",
  "UNDER_REVIEW",
  "SANCTIONED",
  "AGREEMENT_PENDING",
  "AGREEMENT_SIGNED",
  "DISBURSAL_PENDING",
  "NEEDS_ATTENTION",
  "DISBURSED",
  "OVERDUE",
  "OVERPAID",
];

// The longest a loan read waits for a change (the API's cap, api/loan_changes.py MAX_WAIT_SECONDS).
export const LONG_POLL_SECONDS = 20;
// How often the loan is read when the API (or a proxy in front of it) answers a long poll at once: while its KYC
// progress is shown (APPLIED, `kyc`), and otherwise.
const KYC_EVERY = 1500;
const UNWAITED_EVERY = 5000;

/**
 * The loan `loanId` as its borrower sees it, kept current. Answers {data, error, reload}.
 *
 * - Read at once. With `kyc` (the Loan screen), with its KYC progress (`?include=kyc`), and while APPLIED long-polled
 *   so: the API answers when the loan or its workflow's KYC progress moves (the next step asked of the borrower, a
 *   step's result). An API that answers such a read at once is asked again every 1.5 s.
 * - In a status of `watched` (the loan moves on without the borrower: a decision, the eSign vendor's callback, the
 *   disbursal, a payment, a refund) it is long-polled: sent back with its `ETag` and `Prefer: wait=20`, the API
 *   answers when the loan changes (0.15 s after: a burst of commits once), or 304 after 20 s, and it is asked again at once (docs/api.md, "Waiting for
 *   a loan to change"). An API that answers 304 without waiting is asked again every 5 s.
 * - In any other status it is read again only when the borrower comes back to the tab.
 * - Nothing new is asked while the page is hidden. Coming back reads it afresh: at once, or, while a long poll is in
 *   flight, when that answers (at the loan's next change). `reload()` (after an action) lets the long poll in flight
 *   go and reads it afresh at once; it resolves after that read.
 * - A failed read is shown and tried again after a growing pause (at most 30 s); the next read that succeeds, 304
 *   included, clears it. Leaving the screen aborts the long poll in flight (it would hold a connection 20 s).
 */
export function useLoanWatch(loanId, watched, { kyc = false } = {}) {
  const [data, setData] = useState(null);
  const [error, setError] = useState(null);
  const nudge = useRef(async () => undefined);
  useEffect(() => {
    setData(null);
    setError(null);
    if (!loanId) return undefined;
    let stopped = false;
    let loan = null; // the last detail read, and its tag
    let etag = null;
    let fresh = true; // read it afresh at the next turn
    let settled = []; // reload() callers waiting for that read
    let inflight = null; // the long poll in flight
    let wake = null; // ends the current pause early
    const pause = (ms) =>
      new Promise((resolve) => {
        const done = () => {
          clearTimeout(timer);
          wake = null;
          resolve();
        };
        const timer = setTimeout(done, ms);
        wake = done;
      });
    const visible = () => document.visibilityState === "visible";
    const withKyc = () => kyc && (!loan || loan.status === "APPLIED");
    const read = async (waiting) => {
      inflight = waiting ? new AbortController() : null;
      const headers = waiting ? { "If-None-Match": etag, Prefer: `wait=${LONG_POLL_SECONDS}` } : {};
      const path = `/api/v1/web/loans/${loanId}${withKyc() ? "?include=kyc" : ""}`;
      const response = await call("GET", path, undefined, { raw: true, headers, signal: inflight && inflight.signal });
      inflight = null;
      if (response.status === 304) {
        if (!stopped) setError(null);
        return response.headers.has("preference-applied");
      }
      const answer = await response.json();
      if (stopped) return true;
      loan = answer;
      etag = response.headers.get("etag");
      setData(answer);
      setError(null);
      return true;
    };
    const run = async () => {
      let failures = 0;
      while (!stopped) {
        if (!visible()) {
          await pause(60_000); // until the borrower comes back (a nudge)
          continue;
        }
        const waiters = fresh ? settled : [];
        try {
          // (a pause after a read is skipped when a nudge came during it: `fresh`)
          if (fresh || !loan) {
            if (fresh) settled = [];
            fresh = false;
            await read(false);
            waiters.forEach((done) => done());
          } else if (withKyc() || watched.includes(loan.status)) {
            const every = withKyc() ? KYC_EVERY : UNWAITED_EVERY;
            if (!etag) {
              await pause(every); // an API without tags: read it again in a while
              fresh = true;
            } else if (!(await read(true)) && !fresh) await pause(every); // the API did not wait
          } else {
            await pause(60_000); // nothing moves it on by itself: read again when the borrower comes back
          }
          failures = 0;
        } catch (e) {
          waiters.forEach((done) => done());
          if (stopped) return;
          if (e.name === "AbortError") continue; // a long poll let go by reload(): read afresh now
          setError(e);
          failures += 1;
          if (!fresh) await pause(Math.min(30_000, 1000 * 2 ** failures));
        }
      }
    };
    // Read afresh at the next turn, now if the loop is pausing; `letGo` also aborts the long poll in flight (the API
    // notices and stops waiting for it), else that poll answers first, at the loan's next change.
    nudge.current = (letGo = false) =>
      new Promise((resolve) => {
        if (stopped) return resolve();
        settled.push(resolve);
        fresh = true;
        if (letGo && inflight) inflight.abort();
        if (wake) wake();
      });
    const onBack = () => visible() && nudge.current();
    document.addEventListener("visibilitychange", onBack);
    window.addEventListener("focus", onBack);
    run();
    return () => {
      stopped = true;
      settled.forEach((done) => done());
      settled = [];
      if (inflight) inflight.abort();
      if (wake) wake();
      document.removeEventListener("visibilitychange", onBack);
      window.removeEventListener("focus", onBack);
    };
  }, [loanId]);
  const reload = () => nudge.current(true);
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
  OVERPAID: "Fully repaid: the money paid over is being refunded",
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
