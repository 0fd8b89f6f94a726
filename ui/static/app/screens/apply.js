// Apply: the product, the amount (rupees) and the number of installments, with the EMI preview recomputed by the
// API as the borrower types (GET /products/{code}/emi-preview, debounced), then POST /loans. The preview's amounts
// are rupee decimal strings; the product's bounds are paise.
import { html, useEffect, useRef, useState } from "/ui/vendor/preact-htm.js";
import { Alert, Field, call, explain, inr, paiseOf, rupees, useAction } from "../lib.js";

const UNIT = { MONTHS: ["month", "months"], WEEKS: ["week", "weeks"], DAYS: ["day", "days"] };
const DEBOUNCE_MS = 350;

function every(product) {
  const [one, many] = UNIT[product.repayUnit] || ["period", "periods"];
  return product.repayEvery === 1 ? `every ${one}` : `every ${product.repayEvery} ${many}`;
}

function Preview({ preview, pending }) {
  if (!preview) return null;
  const first = preview.installments[0];
  return html`<section class="card preview" aria-live="polite" aria-busy=${pending ? "true" : "false"} aria-labelledby="preview-title">
    <h2 id="preview-title">Your installment</h2>
    <p class="emi"><output id="emi-value" for="amount tenure">${inr(preview.emi)}</output>
      <span class="muted"> × ${preview.installments.length}</span></p>
    <dl class="facts">
      <dt>First installment</dt><dd>${first ? first.due_date : "—"}</dd>
      <dt>Interest rate</dt><dd>${(preview.product.annualRateBps / 100).toFixed(2)}% a year</dd>
      <dt>APR (all costs)</dt><dd>${preview.apr}%</dd>
      <dt>Total interest</dt><dd>${inr(preview.totals.interest)}</dd>
      <dt>Charges deducted</dt><dd>${inr(preview.totals.upfront_charges)}</dd>
      <dt>You receive</dt><dd id="net-disbursed">${inr(preview.net_disbursed)}</dd>
      <dt>You repay in all</dt><dd>${inr(preview.totals.total)}</dd>
    </dl>
    ${preview.charges.length > 0 &&
    html`<details><summary>Charges</summary>
      <ul>${preview.charges.map((c) => html`<li>${c.name}: ${inr(c.amount)} (${c.basis})</li>`)}</ul></details>`}
  </section>`;
}

export default function Apply({ brand, navigate }) {
  const products = (brand && brand.products) || [];
  const [code, setCode] = useState(products.length ? products[0].code : "");
  const [amount, setAmount] = useState("");
  const [tenure, setTenure] = useState("");
  const [preview, setPreview] = useState(null);
  const [previewError, setPreviewError] = useState(null);
  const [pending, setPending] = useState(false);
  const [busy, error, run] = useAction();
  const seq = useRef(0);
  const product = products.find((p) => p.code === code);

  useEffect(() => {
    if (products.length) setCode((c) => c || products[0].code);
  }, [products.length]);

  useEffect(() => {
    const n = ++seq.current;
    if (!product || !Number(amount) || !Number(tenure)) {
      setPreview(null);
      setPreviewError(null);
      return undefined;
    }
    setPending(true);
    const timer = setTimeout(async () => {
      const query = new URLSearchParams({ brand: brand.id || brand.code, amount: amount.trim(), tenure: String(Number(tenure)) });
      try {
        const answer = await call("GET", `/api/v1/web/products/${encodeURIComponent(code)}/emi-preview?${query}`);
        if (n === seq.current) {
          setPreview(answer);
          setPreviewError(null);
        }
      } catch (e) {
        if (n === seq.current) {
          setPreview(null);
          setPreviewError(explain(e));
        }
      } finally {
        if (n === seq.current) setPending(false);
      }
    }, DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [code, amount, tenure]);

  const apply = (event) => {
    event.preventDefault();
    run(async () => {
      const loan = await call("POST", "/api/v1/web/loans", { amount: amount.trim(), tenure: Number(tenure), productCode: code });
      navigate(`/loan/${loan.id}`);
    });
  };

  if (!brand) return html`<p class="muted">Loading…</p>`;
  if (!products.length) return html`<p class="error" role="alert">This lender offers no loan right now.</p>`;
  return html`<section>
    <h1>Apply for a loan</h1>
    <form onSubmit=${apply} class="card">
      ${products.length > 1 &&
      html`<div class="field">
        <label for="product">Loan</label>
        <select id="product" value=${code} onChange=${(e) => setCode(e.target.value)}>
          ${products.map((p) => html`<option value=${p.code}>${p.name}</option>`)}
        </select>
      </div>`}
      ${products.length === 1 && html`<p><strong>${product.name}</strong></p>`}
      <${Field} id="amount" label="Amount (₹)" required inputmode="decimal" autocomplete="off" pattern="[0-9]+(\\.[0-9]{1,2})?"
        value=${amount} onValue=${setAmount}
        hint=${product && `From ${rupees(product.minAmountPaise)} to ${rupees(product.maxAmountPaise)}`} />
      <${Field} id="tenure" label="Number of installments" required type="number" inputmode="numeric"
        min=${product && product.minTenure} max=${product && product.maxTenure} value=${tenure} onValue=${setTenure}
        hint=${product && `${product.minTenure} to ${product.maxTenure}, one ${every(product)}; interest ${(product.annualRateBps / 100).toFixed(2)}% a year`} />
      ${previewError && html`<p class="error" role="alert">${previewError}</p>`}
      ${pending && !preview && html`<p class="muted">Working out your installment…</p>`}
      <${Preview} preview=${preview} pending=${pending} />
      <${Alert} error=${error} />
      <p><button type="submit" class="wide" disabled=${busy || !preview || pending}>Apply for ${Number(amount) > 0 ? rupees(paiseOf(amount)) : "the loan"}</button></p>
      <p class="muted small">Applying starts the checks: PAN, and the steps the lender asks for. You see the Key Fact
        Statement before you sign anything.</p>
    </form>
  </section>`;
}
