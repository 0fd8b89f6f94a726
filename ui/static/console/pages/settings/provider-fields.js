// What the providers form knows about each kind and vendor: the kinds grouped as staff think of them, each vendor's
// own labelled options (the names its adapter reads, activities/providers/), how a form's vendors become the body of
// PUT settings/providers/{kind} (api/partner/settings/providers.py), and the checks made before sending it.

/** Provider kinds in groups: [group, [[kind, title], ...]]. Partner lenders are their own API (partner-lenders). */
export const GROUPS = [
  ["KYC", [["kyc", "KYC (Aadhaar OTP, DigiLocker)"], ["ckyc", "CKYC"], ["pennydrop", "Penny drop"], ["employment", "Employment (EPFO)"]]],
  ["Credit bureau", [["bureau", "Credit bureau"]]],
  ["Bank statements", [["bsa", "Bank-statement analysis"], ["aa", "Account Aggregator"]]],
  ["eSign", [["esign", "eSign"]]],
  ["Bank and payouts", [["disbursal", "Bank (payouts)"]]],
  ["Payment gateways", [["payments", "Payment gateways"]]],
  ["Messaging", [["sms", "SMS"], ["email", "E-mail"], ["whatsapp", "WhatsApp"]]],
  ["Dialer", [["dialer", "Dialer"]]],
  ["Business data", [["sme", "SME data"]]],
  ["Partners", [["partners", "Partner lenders"]]],
];

/** A kind's title ("bsa" -> "Bank-statement analysis"). */
export function kindTitle(kind) {
  for (const [, kinds] of GROUPS) for (const [k, title] of kinds) if (k === kind) return title;
  return kind;
}

const poll = [
  { key: "poll_attempts", label: "Polls before giving up", type: "number" },
  { key: "poll_interval_seconds", label: "Seconds between polls", type: "number" },
];
const dlt = [
  { key: "userid", label: "User id" },
  { key: "sender_id", label: "Sender id (DLT header)" },
  { key: "dlt_entity_id", label: "DLT entity id" },
  { key: "default_dlt_template_id", label: "Default DLT template id" },
];
const sender = [
  { key: "from_email", label: "From e-mail", type: "email" },
  { key: "from_name", label: "From name" },
];

/** Per "kind:vendor" (or "kind:*"): the vendor's own options and, where it differs, what its API key is called. */
const SPECS = {
  "bsa:*": { options: poll },
  "disbursal:icici": {
    options: [
      { key: "aggr_name", label: "Aggregator name" },
      { key: "debit_account", label: "Debit account number" },
      { key: "bank_public_key", label: "Bank's public key (PEM)", area: true },
      { key: "client_private_key", label: "Our private key (PEM)", area: true },
    ],
  },
  "disbursal:idfc": { options: [{ key: "account_number", label: "Debit account number" }] },
  "pennydrop:razorpay": { options: [{ key: "source_account", label: "Source account (RazorpayX)" }] },
  "esign:signdesk": {
    options: [
      { key: "application_id", label: "Application id" },
      { key: "environment", label: "Environment", choices: ["live", "sandbox"] },
    ],
  },
  "esign:signzy": { apiKey: "Access token", options: [{ key: "customer_id", label: "Customer id (the login's userId)" }] },
  "payments:cashfree": {
    apiKey: "Client secret",
    options: [
      { key: "client_id", label: "Client id (key id)" },
      { key: "api_version", label: "API version" },
    ],
  },
  "payments:paytring": { apiKey: "Paytring key", webhookSecret: "API secret (also signs webhooks)" },
  "sms:gupshup": { options: dlt },
  "sms:nimbusit": { options: dlt },
  "sms:msg91": { options: dlt.slice(1, 2).concat(dlt.slice(3)) },
  "email:brevo": { options: sender },
  "email:zepto": { options: sender },
  "email:sendgrid": { options: [...sender, { key: "event_webhook_public_key", label: "Event Webhook verification key", area: true }] },
  "whatsapp:aisensy": { options: [{ key: "source", label: "Source (campaign tag)" }] },
  "dialer:acefone": {
    options: [
      { key: "caller_id", label: "Caller id (the number customers see)" },
      { key: "call_timeout", label: "Ring time (seconds)", type: "number" },
      { key: "timezone_offset", label: "Time zone offset of the vendor's times" },
      { key: "webhook_header", label: "Webhook secret header" },
    ],
    agents: true,
  },
  "dialer:stringee": {
    options: [
      { key: "api_key_sid", label: "API key SID" },
      { key: "from_number", label: "From number" },
      { key: "record", label: "Record calls", type: "bool" },
      { key: "record_event_url", label: "Recording event URL", type: "url" },
      { key: "timeout", label: "Ring time (seconds)", type: "number" },
    ],
    agents: true,
  },
};
const TIMEOUT = { key: "timeout_seconds", label: "Timeout of a call to the vendor (seconds)", type: "number" };

/** The labelled fields of `vendor` in `kind`: {apiKey, webhookSecret, options: [...], agents}. */
export function spec(kind, vendor) {
  const own = SPECS[`${kind}:${vendor}`] || SPECS[`${kind}:*`] || {};
  return {
    apiKey: own.apiKey || "API key",
    webhookSecret: own.webhookSecret || "Webhook secret",
    options: [...(own.options || []), TIMEOUT],
    agents: !!own.agents,
  };
}

const URL_RE = /^https?:\/\/\S+$/;

/** A configured vendor (GET's view) as the form's row: secrets empty (kept unless typed), options split. */
export function toRow(kind, v) {
  const s = spec(kind, v.vendor);
  const known = new Set(s.options.map((o) => o.key));
  const options = {};
  const extra = [];
  const locked = [];
  for (const [key, value] of Object.entries(v.options || {})) {
    if (value !== null && typeof value === "object") locked.push(key); // not a name=value: only the API sets it
    else if (known.has(key)) options[key] = value;
    else extra.push(`${key}=${value}`);
  }
  return {
    vendor: v.vendor,
    stored: v,
    baseUrl: v.baseUrl || "",
    apiKey: "",
    webhookSecret: "",
    overlapHours: "24",
    active: v.active !== false,
    options,
    extra: extra.join("\n"),
    locked,
  };
}

/** A vendor added in the form. */
export function newRow(vendor) {
  return { vendor, stored: null, baseUrl: "", apiKey: "", webhookSecret: "", overlapHours: "24", active: true, options: {}, extra: "", locked: [] };
}

/** Check the rows and build the PUT body: {body} or {problems: [[field, reason], ...]} named as the API names them. */
export function buildBody(kind, rows, primary) {
  const problems = [];
  const vendors = rows.map((row, n) => {
    const at = `vendors.${n}`;
    const s = spec(kind, row.vendor);
    const url = row.baseUrl.trim();
    if (!url && !row.stored) problems.push([`${at}.baseUrl`, "a vendor configured for the first time needs its URL"]);
    else if (url && !URL_RE.test(url)) problems.push([`${at}.baseUrl`, "must start with http:// or https:// and have no spaces"]);
    const moved = row.stored && url.replace(/\/+$/, "") !== row.stored.baseUrl.replace(/\/+$/, "");
    if (moved && !row.apiKey) problems.push([`${at}.apiKey`, "a new URL needs the vendor's API key typed again"]);
    const options = {};
    for (const o of s.options) {
      const raw = row.options[o.key];
      if (raw === undefined || raw === null || raw === "") continue;
      if (o.type === "number") {
        const value = Number(raw);
        if (!Number.isFinite(value) || value < 0) problems.push([`${at}.options.${o.key}`, "must be a number, 0 or more"]);
        options[o.key] = value;
      } else if (o.type === "bool") options[o.key] = raw === true || raw === "true";
      else options[o.key] = String(raw).trim();
    }
    String(row.extra || "")
      .split("\n")
      .map((line) => line.trim())
      .filter(Boolean)
      .forEach((line) => {
        const eq = line.indexOf("=");
        if (eq < 1) return problems.push([`${at}.options`, `"${line}" is not name=value`]);
        options[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
      });
    // options holding a structure (msg91's template_ids) are not sent: the API keeps the stored ones
    const body = { vendor: row.vendor, active: !!row.active, ...(row.locked && row.locked.length ? {} : { options }) };
    if (url) body.baseUrl = url;
    if (row.apiKey) body.apiKey = row.apiKey;
    if (row.webhookSecret) {
      body.webhookSecret = row.webhookSecret;
      const hours = Number(row.overlapHours);
      if (!/^\d+$/.test(String(row.overlapHours).trim()) || hours > 168)
        problems.push([`${at}.secretOverlapHours`, "whole hours from 0 to 168"]);
      else body.secretOverlapHours = hours;
    }
    return body;
  });
  if (rows.length) {
    const chosen = rows.find((r) => r.vendor === primary);
    if (!chosen) problems.push(["primary", "choose the vendor tried first"]);
    else if (!chosen.active) problems.push(["primary", `the primary vendor ${primary} must be active`]);
  }
  return problems.length ? { problems } : { body: { primary: rows.length ? primary : null, vendors } };
}

/** A field name of the API ("vendors.1.baseUrl") in words, with the form's vendors ("Vendor 2 (finbox): base URL"). */
export function fieldWords(field, rows) {
  const m = /^vendors\.(\d+)(?:\.(.+))?$/.exec(field || "");
  if (!m) return field === "primary" ? "Primary vendor" : field;
  const row = rows[Number(m[1])];
  const what = { baseUrl: "base URL", apiKey: "API key", webhookSecret: "webhook secret", vendor: "vendor", secretOverlapHours: "hours the previous secret is accepted" }[m[2]] || m[2] || "";
  return `Vendor ${Number(m[1]) + 1}${row ? ` (${row.vendor})` : ""}${what ? `: ${what}` : ""}`;
}
