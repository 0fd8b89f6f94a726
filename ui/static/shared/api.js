// The front ends' one door to the JSON API: tokens, refresh on 401, and errors explained in words.
//
// A session is kept per front end ("staff" for the console, "customer" for the app) in sessionStorage, so a
// closed tab signs out. Every call goes to the same origin: `api(kind, "GET", "/api/v1/...")`.

const KEYS = { staff: "los.staff", customer: "los.customer" };
const REFRESH = { staff: "/api/v1/partner/auth/refresh-token", customer: "/api/v1/web/auth/refresh-token" };

export function getSession(kind) {
  const raw = sessionStorage.getItem(KEYS[kind]);
  return raw ? JSON.parse(raw) : null;
}

export function setSession(kind, value) {
  if (value) sessionStorage.setItem(KEYS[kind], JSON.stringify(value));
  else sessionStorage.removeItem(KEYS[kind]);
}

/** An error answer of the API: `status`, the envelope's `message` and its field `errors` [{field, reason}]. */
export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || `HTTP ${status}`);
    this.status = status;
    this.body = body || {};
    this.fields = (body && body.errors) || [];
  }
}

/** What an error means for the person in front of the screen, in words. */
export function explain(error) {
  if (!(error instanceof ApiError)) return `The server could not be reached (${error.message || error}). Try again.`;
  const detail = error.message;
  switch (error.status) {
    case 400:
      return `The request was refused: ${detail}`;
    case 401:
      return `Your session has ended or the sign-in was refused: ${detail}`;
    case 403:
      return `You are not allowed to do this: ${detail}`;
    case 404:
      return `Not found: ${detail}`;
    case 409:
      return `Not possible in the current state: ${detail}`;
    case 413:
      return `Too large: ${detail}`;
    case 422: {
      const fields = error.fields.map((f) => `${f.field}: ${f.reason}`).join("; ");
      return fields ? `Please correct: ${fields}` : `Please correct the form: ${detail}`;
    }
    case 423:
    case 429:
      return detail;
    default:
      return error.status >= 500 ? `The server failed (${detail}). Nothing was changed; try again.` : detail;
  }
}

let refreshing = null;

async function refresh(kind) {
  const session = getSession(kind);
  if (!session || !session.refreshToken) return false;
  refreshing =
    refreshing ||
    fetch(REFRESH[kind], {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ refreshToken: session.refreshToken }),
    })
      .then(async (r) => {
        if (!r.ok) return false;
        const tokens = await r.json();
        setSession(kind, { ...getSession(kind), ...tokens });
        return true;
      })
      .finally(() => {
        refreshing = null;
      });
  return refreshing;
}

/**
 * Call the API. `body` is sent as JSON unless it is FormData. Resolves to the parsed JSON (or the Response when
 * `options.raw`, a 304 to a conditional read included); rejects with ApiError. `options.headers` are added,
 * `options.signal` aborts it. A 401 refreshes the tokens once and retries; a second 401 signs out (the
 * `los:signed-out` event tells the shell).
 */
export async function api(kind, method, path, body, options = {}) {
  const send = async () => {
    const session = getSession(kind);
    const headers = { Accept: "application/json", ...(options.headers || {}) };
    if (session && session.accessToken) headers.Authorization = `Bearer ${session.accessToken}`;
    let payload;
    if (body instanceof FormData) payload = body;
    else if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      payload = JSON.stringify(body);
    }
    return fetch(path, { method, headers, body: payload, signal: options.signal });
  };
  let response = await send();
  if (response.status === 401 && getSession(kind) && !options.noRefresh && (await refresh(kind))) {
    response = await send();
  }
  if (response.status === 401 && getSession(kind) && !options.noRefresh) {
    setSession(kind, null);
    window.dispatchEvent(new CustomEvent("los:signed-out"));
  }
  if (response.status === 304 && options.raw) return response; // a conditional read: unchanged
  if (!response.ok) {
    let envelope = null;
    try {
      envelope = await response.json();
    } catch (_) {
      envelope = { message: response.statusText };
    }
    throw new ApiError(response.status, envelope);
  }
  if (options.raw) return response;
  if (response.status === 204) return null;
  const type = response.headers.get("content-type") || "";
  return type.includes("json") ? response.json() : response.text();
}

/** Download a file the API serves behind the bearer token (a CSV, a PDF) under `filename`. */
export async function download(kind, path, filename) {
  const response = await api(kind, "GET", path, undefined, { raw: true });
  const blob = await response.blob();
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** Rupees from paise, Indian grouping: 12345678 -> "₹1,23,456.78". */
export function rupees(paise) {
  if (paise === null || paise === undefined || paise === "") return "—";
  const value = Number(paise) / 100;
  return "₹" + value.toLocaleString("en-IN", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
}

/** An ISO instant shown in IST, or an ISO date as it is. */
export function when(value) {
  if (!value) return "—";
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) return value;
  return new Date(value).toLocaleString("en-IN", { timeZone: "Asia/Kolkata", dateStyle: "medium", timeStyle: "short" });
}
