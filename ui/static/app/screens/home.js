// Home: what the borrower does next. New: complete the details, then apply. With a loan: its status in words and
// the way on (KYC, KFS, signing, paying); the earlier loans below; an open reloan offer when there is one.
import { html } from "/ui/vendor/preact-htm.js";
import { Alert, CLOSED, REPAYING, STATUS_WORDS, call, dueDay, rupees, usePoll } from "../lib.js";
import { when } from "/ui/shared/api.js";

function nextStep(loan) {
  const at = `#/loan/${loan.id}`;
  switch (loan.status) {
    case "APPLIED":
      return { href: at, label: "Continue verification" };
    case "SANCTIONED":
      return { href: `${at}/kfs`, label: "Read and accept the Key Fact Statement" };
    case "AGREEMENT_PENDING":
      return { href: `${at}/sign`, label: "Sign the agreement" };
    case "DISBURSED":
    case "OVERDUE":
      return { href: `${at}/pay`, label: "Pay" };
    default:
      return { href: at, label: "Open the loan" };
  }
}

export default function Home() {
  const { data, error } = usePoll(async () => {
    const [loans, details, accounts, offers] = await Promise.all([
      call("GET", "/api/v1/web/loans"),
      call("GET", "/api/v1/web/personal-details"),
      call("GET", "/api/v1/web/bank/accounts"),
      call("GET", "/api/v1/web/reloan-offers"),
    ]);
    return { loans, details, accounts, offers };
  }, []);
  if (error) return html`<${Alert} error=${error} />`;
  if (!data) return html`<p class="muted">Loading…</p>`;
  const { loans, details, accounts, offers } = data;
  const current = loans.find((l) => !CLOSED.includes(l.status));
  const complete = details.pan && details.firstName && accounts.length > 0;
  return html`<section>
    <h1>Hello${details.firstName ? `, ${details.firstName}` : ""}</h1>
    ${current &&
    html`<article class="card loan-card" aria-label="Your current loan">
      <h2>${rupees(current.amountPaise)} over ${current.tenure} installments</h2>
      <p><span class=${`status status-${current.status.toLowerCase()}`}>${STATUS_WORDS[current.status] || current.status}</span></p>
      ${REPAYING.includes(current.status) &&
      html`<p>Principal outstanding: <strong>${rupees(current.outstandingPrincipalPaise)}</strong>
        ${current.nextDueAt && html`<br />Next installment due ${dueDay(current.nextDueAt)}`}</p>`}
      <p class="split">
        <a class="button" href=${nextStep(current).href}>${nextStep(current).label}</a>
        <a class="button secondary" href=${`#/loan/${current.id}`}>Details</a>
      </p>
    </article>`}
    ${!current && !complete &&
    html`<article class="card">
      <h2>Get started</h2>
      <p>Tell us about yourself: your PAN, personal details, work and the bank account the loan is paid into.</p>
      <p><a class="button wide" href="#/profile">Complete your details</a></p>
    </article>`}
    ${!current && complete &&
    html`<article class="card">
      <h2>${offers.length ? "A new loan is waiting for you" : "Need a loan?"}</h2>
      ${offers.map((o) => html`<p>Pre-approved up to <strong>${rupees(o.amountPaise)}</strong> until ${o.expiresOn}.</p>`)}
      <p><a class="button wide" href="#/apply">Apply for a loan</a></p>
    </article>`}
    ${loans.filter((l) => l !== current).length > 0 &&
    html`<h2>Earlier loans</h2>
      <ul class="list">
        ${loans
          .filter((l) => l !== current)
          .map(
            (l) => html`<li><a href=${`#/loan/${l.id}`}>${rupees(l.amountPaise)} · ${when(l.createdAt)}</a>
              <span class="badge">${STATUS_WORDS[l.status] || l.status}</span></li>`
          )}
      </ul>`}
  </section>`;
}
