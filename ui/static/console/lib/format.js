// Formatting shared by the console's pages: money, percentages, dates, statuses, ids. Other pages may import these;
// the exported names are stable.
import { rupees, when } from "/ui/shared/api.js";

export { rupees, when };

/** A percentage string from the API ("12.50") as "12.50%"; null/undefined as "—". */
export function pct(value) {
  if (value === null || value === undefined || value === "") return "—";
  return `${value}%`;
}

/** Basis points as a yearly rate: 2400 -> "24.00% p.a." */
export function rate(bps) {
  if (bps === null || bps === undefined) return "—";
  return `${(Number(bps) / 100).toFixed(2)}% p.a.`;
}

/** UPPER_SNAKE words as a label: "UNDER_REVIEW" -> "Under review". */
export function label(value) {
  if (value === null || value === undefined || value === "") return "—";
  const text = String(value).replace(/_/g, " ").toLowerCase();
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** The first 8 characters of an id (loans and staff are shown by it; the full id is in the title). */
export function shortId(id) {
  return id ? String(id).slice(0, 8) : "—";
}

/** A count with Indian grouping. */
export function count(value) {
  if (value === null || value === undefined) return "—";
  return Number(value).toLocaleString("en-IN");
}

/** Rupees typed by a person ("12,500.50", "12500") as integer paise, or null when blank; throws on bad input. */
export function toPaise(text) {
  const clean = String(text ?? "").replace(/[,₹\s]/g, "");
  if (!clean) return null;
  if (!/^\d+(\.\d{1,2})?$/.test(clean)) throw new Error(`"${text}" is not an amount in rupees (e.g. 12500.50)`);
  const [whole, fraction = ""] = clean.split(".");
  return Number(whole) * 100 + Number((fraction + "00").slice(0, 2));
}

/** Rupees typed by a person as the decimal string the API takes for rupee fields ("12500.50"). */
export function rupeeString(text) {
  const paise = toPaise(text);
  if (paise === null) return null;
  return `${Math.floor(paise / 100)}.${String(paise % 100).padStart(2, "0")}`;
}

/** Paise as rupees for an input's value (no grouping): 1250050 -> "12500.50". */
export function paiseToInput(paise) {
  if (paise === null || paise === undefined || paise === "") return "";
  const n = Number(paise);
  return n % 100 === 0 ? String(n / 100) : (n / 100).toFixed(2);
}

/** Today in IST as YYYY-MM-DD. */
export function todayIst() {
  return new Date().toLocaleDateString("en-CA", { timeZone: "Asia/Kolkata" });
}

/** The tone of a status for its badge: ok, warn, bad or plain. */
export function tone(status) {
  const s = String(status || "").toUpperCase();
  if (["COMPLETED", "DISBURSED", "SANCTIONED", "APPROVED", "VERIFIED", "SETTLED", "PAID", "PASS", "PASSED", "SIGNED", "MATCHED"].includes(s))
    return "ok";
  if (["REJECTED", "FAILED", "FAIL", "WRITTEN_OFF", "OVERDUE", "NPA", "DECLINED", "EXPIRED", "CANCELLED", "NO_MATCH"].includes(s))
    return "bad";
  if (["NEEDS_ATTENTION", "UNDER_REVIEW", "PENDING", "MANUAL_REVIEW", "DISBURSAL_PENDING", "AGREEMENT_PENDING", "SENT"].includes(s))
    return "warn";
  return "plain";
}
