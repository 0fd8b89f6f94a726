// Dashboard: the brand's figures (api/partner/dashboard.py): the book now (AUM, PAR 30/60/90, GNPA), today and this
// month (applications, sanctions, disbursals, collections), the period's disbursals, collections and collection
// efficiency, and charts: disbursals by day and by amount band, loans by status, the collection buckets, vintage curves.
import { html, useState } from "/ui/vendor/preact-htm.js";
import { BarChart, LineChart } from "../lib/charts.js";
import { count, label, pct, rupees, todayIst } from "../lib/format.js";
import { brandUrl, can, ErrorNote, Figure, Loaded, staff, useLoad, withQuery } from "../lib/ui.js";
import { Field } from "../lib/forms.js";

const DASH = "dashboard";

function monthStart(today) {
  return today.slice(0, 8) + "01";
}

function Period({ query, navigate }) {
  const today = todayIst();
  const [from, setFrom] = useState(query.fromDate || monthStart(today));
  const [to, setTo] = useState(query.toDate || today);
  const apply = (event) => {
    event.preventDefault();
    navigate(withQuery("/dashboard", { fromDate: from, toDate: to }));
  };
  return html`<form class="filters" onSubmit=${apply} aria-label="Period">
    <${Field} label="From (IST)" type="date" value=${from} onInput=${setFrom} required />
    <${Field} label="To (IST)" type="date" value=${to} onInput=${setTo} required />
    <div class="field actions"><button type="submit">Show</button></div>
  </form>`;
}

function Book({ summary }) {
  const s = summary;
  return html`<section aria-label="Portfolio now" class="figures">
    <${Figure} id="aum" title="AUM" value=${rupees(s.aumPaise)} hint=${`${count(s.loansOnBook)} loans on book`} />
    <${Figure} id="par30" title="PAR 30" value=${pct(s.par30.percent)} hint=${`${count(s.par30.loans)} loans · ${rupees(s.par30.principalPaise)}`} />
    <${Figure} id="par60" title="PAR 60" value=${pct(s.par60.percent)} hint=${`${count(s.par60.loans)} loans · ${rupees(s.par60.principalPaise)}`} />
    <${Figure} id="par90" title="PAR 90" value=${pct(s.par90.percent)} hint=${`${count(s.par90.loans)} loans · ${rupees(s.par90.principalPaise)}`} />
    <${Figure} id="npa" title="NPA %" value=${pct(s.gnpa.percent)} hint=${`${count(s.gnpa.loans)} loans · ${rupees(s.gnpa.principalPaise)}`} />
    <${Figure} id="disbursals" title="Disbursals in the period" value=${rupees(s.disbursals.amountPaise)}
      hint=${`${count(s.disbursals.count)} loans · net ${rupees(s.disbursals.netPaise)}`} />
    <${Figure} id="collections" title="Collections in the period" value=${rupees(s.collections.amountPaise)}
      hint=${`${count(s.collections.count)} payments`} />
    <${Figure} id="efficiency" title="Collection efficiency" value=${pct(s.collectionEfficiency.percent)}
      hint=${`${rupees(s.collectionEfficiency.collectedPaise)} of ${rupees(s.collectionEfficiency.billedPaise)} billed`} />
    <${Figure} id="written-off" title="Written off" value=${rupees(s.writtenOff.principalPaise)} hint=${`${count(s.writtenOff.loans)} loans`} />
  </section>`;
}

function Today({ stats }) {
  const s = stats;
  return html`<section aria-label="Today and this month" class="figures">
    <${Figure} id="applications" title="Applications" value=${count(s.applications.today)} hint=${`today · ${count(s.applications.thisMonth)} this month`} />
    <${Figure} id="sanctioned" title="Sanctioned" value=${count(s.sanctioned.today)} hint=${`today · ${count(s.sanctioned.thisMonth)} this month`} />
    <${Figure} id="disbursed-today" title="Disbursed today" value=${rupees(s.disbursed.today.amountPaise)}
      hint=${`${count(s.disbursed.today.count)} loans · ${rupees(s.disbursed.thisMonth.amountPaise)} this month`} />
    <${Figure} id="collected-today" title="Collected today" value=${rupees(s.collections.today.amountPaise)}
      hint=${`${count(s.collections.today.count)} payments · ${rupees(s.collections.thisMonth.amountPaise)} this month`} />
    <${Figure} id="total-loans" title="Loans" value=${count(s.totalLoans)} hint="all statuses" />
  </section>`;
}

function Vintage({ vintage }) {
  const cohorts = vintage.cohorts || [];
  const months = [...new Set(cohorts.flatMap((c) => c.dpd30.map((p) => p.monthsOnBook)))].sort((a, b) => a - b);
  const series = cohorts.slice(-6).map((c) => ({
    label: `${c.month} DPD30+`,
    values: months.map((m) => {
      const point = c.dpd30.find((p) => p.monthsOnBook === m);
      return point && point.percentPrincipal !== null ? Number(point.percentPrincipal) : null;
    }),
  }));
  return html`<${LineChart} id="vintage" title="Vintage: share of principal above DPD 30, by month on book"
    x=${months} series=${series} xLabel="Months on book" yLabel="% of principal" format=${(v) => `${Number(v).toFixed(1)}%`} />`;
}

export default function Dashboard({ me, brandId, query, navigate }) {
  const period = { fromDate: query.fromDate, toDate: query.toDate };
  const qs = withQuery("", period);
  const state = useLoad(
    async () => {
      const get = (path) => staff("GET", brandUrl(brandId, `${DASH}/${path}`));
      const parts = ["stats", `summary${qs}`, `disbursement-analysis${qs}`, `collection-analysis${qs}`, "portfolio/vintage"];
      // each part on its own: one that fails shows its error, the others still show
      const settled = await Promise.allSettled(parts.map(get));
      const [stats, summary, disbursement, collection, vintage] = settled.map((r) => (r.status === "fulfilled" ? r.value : null));
      const errors = settled.filter((r) => r.status === "rejected").map((r) => r.reason);
      return { stats, summary, disbursement, collection, vintage, errors };
    },
    [brandId, qs]
  );
  if (!can(me, "dashboard.view")) return html`<h1>Dashboard</h1><${ErrorNote} error="Your role cannot see the dashboard." />`;
  return html`<h1>Dashboard</h1>
    <${Period} query=${query} navigate=${navigate} />
    <${Loaded} state=${state} what="the figures">
      ${(d) =>
        d &&
        html`${d.errors.map((e) => html`<${ErrorNote} error=${e} />`)}
          ${d.summary &&
          html`<p class="muted">Live figures as of ${d.summary.asOf} (IST); the period is ${d.summary.fromDate} to ${d.summary.toDate}.</p>
            <h2>The book</h2>
            <${Book} summary=${d.summary} />`}
          ${d.stats && html`<h2>Today</h2><${Today} stats=${d.stats} />`}
          <h2>Charts</h2>
          <div class="charts">
            ${d.disbursement &&
            html`<${BarChart} id="disbursals-by-day" title="Disbursals by day" format=${rupees}
              data=${d.disbursement.byDay.map((r) => ({ label: r.day, value: r.amountPaise }))} />`}
            ${d.stats &&
            html`<${BarChart} id="by-status" title="Loans by status" format=${count}
              data=${d.stats.byStatus.map((r) => ({ label: label(r.status), value: r.count }))} />`}
            ${d.collection &&
            html`<${BarChart} id="buckets" title="Collection buckets (principal outstanding)" format=${rupees}
              data=${d.collection.byBucket.map((r) => ({ label: `${r.bucket} DPD · ${r.loans}`, value: r.principalPaise }))} />`}
            ${d.disbursement &&
            html`<${BarChart} id="bands" title="Disbursals by amount band" format=${count}
              data=${d.disbursement.byAmountBand.map((r) => ({ label: r.band, value: r.count }))} />`}
            ${d.vintage && html`<${Vintage} vintage=${d.vintage} />`}
          </div>`}
    <//>`;
}
