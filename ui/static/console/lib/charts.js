// Charts for the console: bars as plain SVG (scales with its box), lines with uPlot (vendored). Each chart has a
// title and a text alternative (a table for screen readers). Stable exports: BarChart, LineChart.
import { html, useEffect, useRef } from "/ui/vendor/preact-htm.js";
import uPlot from "/ui/vendor/uplot.esm.js";

const PALETTE = ["var(--brand)", "#0f766e", "#b45309", "#7c3aed", "#be123c", "#334155"];
const RAW_PALETTE = ["#1d4ed8", "#0f766e", "#b45309", "#7c3aed", "#be123c", "#334155"];

/**
 * Horizontal bars: `data` [{label, value}], `format(value)` for the numbers shown. An all-zero chart says so.
 */
export function BarChart({ title, data, format = String, id }) {
  const rows = data || [];
  const max = Math.max(0, ...rows.map((d) => Number(d.value) || 0));
  const barHeight = 22;
  const gap = 8;
  const labelWidth = 150;
  const width = 460;
  const height = Math.max(1, rows.length) * (barHeight + gap) + gap;
  return html`<figure class="chart card" data-chart=${id || title}>
    <figcaption>${title}</figcaption>
    ${rows.length === 0
      ? html`<p class="muted">No data for this period.</p>`
      : html`<svg viewBox=${`0 0 ${width} ${height}`} role="img" aria-label=${title} preserveAspectRatio="xMinYMin meet">
          ${rows.map((d, i) => {
            const y = gap + i * (barHeight + gap);
            const w = max > 0 ? ((Number(d.value) || 0) / max) * (width - labelWidth - 110) : 0;
            return html`<g>
              <text x="0" y=${y + barHeight * 0.7} class="chart-label">${String(d.label).slice(0, 20)}</text>
              <rect x=${labelWidth} y=${y} width=${Math.max(w, 1)} height=${barHeight} rx="3"
                style=${`fill: ${PALETTE[i % PALETTE.length]}`} />
              <text x=${labelWidth + Math.max(w, 1) + 6} y=${y + barHeight * 0.7} class="chart-value">${format(d.value)}</text>
            </g>`;
          })}
        </svg>`}
    <table class="sr-only">
      <caption>${title}</caption>
      <tbody>${rows.map((d) => html`<tr><th scope="row">${d.label}</th><td>${format(d.value)}</td></tr>`)}</tbody>
    </table>
  </figure>`;
}

/**
 * Lines over a shared x axis: `x` numbers (e.g. months on book), `series` [{label, values}], `xLabel`, `yLabel`,
 * `format(value)` for the axis and the text alternative. Sized to its box and redrawn when the box resizes.
 */
export function LineChart({ title, x, series, xLabel = "", yLabel = "", format = String, height = 240, id }) {
  const box = useRef(null);
  const plot = useRef(null);
  const hasData = x && x.length > 0 && series && series.length > 0;
  useEffect(() => {
    if (!hasData || !box.current) return undefined;
    const width = () => Math.max(240, box.current.clientWidth - 8);
    const options = {
      width: width(),
      height,
      legend: { show: true },
      scales: { x: { time: false, auto: false, range: () => [Math.min(0, ...x), Math.max(3, ...x)] } },
      axes: [
        { label: xLabel, values: (u, ticks) => ticks.map((t) => (Number.isInteger(t) ? String(t) : "")) },
        { label: yLabel, values: (u, ticks) => ticks.map((t) => format(t)) },
      ],
      series: [
        { label: xLabel || "x" },
        ...series.map((s, i) => ({
          label: s.label,
          stroke: RAW_PALETTE[i % RAW_PALETTE.length],
          width: 2,
          points: { show: true },
          value: (u, v) => (v === null || v === undefined ? "—" : format(v)),
        })),
      ],
    };
    const data = [x, ...series.map((s) => s.values)];
    plot.current = new uPlot(options, data, box.current);
    const observer = new ResizeObserver(() => plot.current && plot.current.setSize({ width: width(), height }));
    observer.observe(box.current);
    return () => {
      observer.disconnect();
      plot.current && plot.current.destroy();
      plot.current = null;
    };
  }, [JSON.stringify(x), JSON.stringify(series), height]);
  return html`<figure class="chart card" data-chart=${id || title}>
    <figcaption>${title}</figcaption>
    ${hasData ? html`<div class="line-chart" ref=${box} role="img" aria-label=${title}></div>` : html`<p class="muted">No data yet.</p>`}
    ${hasData &&
    html`<table class="sr-only">
      <caption>${title}</caption>
      <thead><tr><th scope="col">${xLabel}</th>${series.map((s) => html`<th scope="col">${s.label}</th>`)}</tr></thead>
      <tbody>${x.map((xv, i) => html`<tr><th scope="row">${xv}</th>${series.map((s) => html`<td>${s.values[i] === null ? "—" : format(s.values[i])}</td>`)}</tr>`)}</tbody>
    </table>`}
  </figure>`;
}
