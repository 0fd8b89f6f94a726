// Evaluation items and the credit policy: edit a draft of the items, simulate it against the brand's last decided
// applications (which decisions flip, and which rules or items flip them), then publish it as the next version.
import { html, useEffect, useState } from "/ui/vendor/preact-htm.js";
import { rupees, when } from "/ui/shared/api.js";
import { Alert, Done, Field, Table, brandPath, staffApi, useAction, useLoad } from "../../ops/ui.js";
import { settingsPath } from "./common.js";

const COMPARATORS = [">=", ">", "<=", "<", "==", "!="];
const ITEM_KEYS = ["name", "metric", "comparator", "threshold", "weight", "hardReject", "isActive"];
const NEW_ITEM = { name: "", metric: "bureau.score", comparator: ">=", threshold: "700", weight: 1, hardReject: false, isActive: true };

function asThreshold(text) {
  const t = String(text).trim();
  if (t === "true" || t === "false") return t === "true";
  if (/^-?\d+$/.test(t)) return Number(t);
  return t;
}

export default function Evaluation({ brandId, canManage }) {
  const items = useLoad(() => staffApi("GET", settingsPath(brandId, "evaluation-items")), [brandId]);
  const versions = useLoad(() => staffApi("GET", brandPath(brandId, "policy/versions")), [brandId]);
  const [draft, setDraft] = useState([]);
  const [version, setVersion] = useState("V1");
  const [sim, setSim] = useState(null);
  const [notes, setNotes] = useState("");
  const act = useAction();
  useEffect(() => {
    if (!items.data) return;
    setDraft(items.data.map((i) => Object.fromEntries(ITEM_KEYS.map((k) => [k, i[k]]))));
    if (items.data[0]) setVersion(items.data[0].version);
  }, [items.data]);
  const setItem = (n, key) => (value) => setDraft(draft.map((it, i) => (i === n ? { ...it, [key]: value } : it)));
  const body = () => draft.map((it) => ({ ...it, threshold: asThreshold(it.threshold), weight: Number(it.weight) }));
  const simulate = async () => {
    const answer = await act.run(
      () => staffApi("POST", brandPath(brandId, "policy/simulate"), {
          draft: draft.length ? { evaluationItems: body() } : {},
          sampleSize: 500,
        }),
      (a) => `Simulated on ${a.result.sampleSize} past applications: ${a.result.changedCount} would change.`
    );
    if (answer) setSim(answer.result);
  };
  const publish = async () => {
    const ok = await act.run(async () => {
      // no item of the brand's own: the version published is the current policy (the built-in items)
      if (draft.length) await staffApi("PUT", settingsPath(brandId, "evaluation-items"), { version, items: body() });
      return staffApi("POST", brandPath(brandId, "policy/versions"), { notes: notes || null });
    }, (v) => `Published as version ${v.version}.`);
    if (ok) {
      setSim(null);
      items.reload();
      versions.reload();
    }
  };
  return html`<div>
    <${Alert} error=${items.error} />
    <div class="card">
      <h2>Evaluation items (draft)</h2>
      <p class="muted">Edit the items below; nothing changes for applications until you publish.</p>
      ${draft.map(
        (it, n) => html`<fieldset class="ops-filters" key=${n}><legend>Item ${n + 1}</legend>
          <${Field} id=${`ev-name-${n}`} label="Name" value=${it.name} onInput=${setItem(n, "name")} disabled=${!canManage} />
          <${Field} id=${`ev-metric-${n}`} label="Metric" value=${it.metric} onInput=${setItem(n, "metric")} disabled=${!canManage} />
          <${Field} id=${`ev-cmp-${n}`} label="Comparator" value=${it.comparator} onInput=${setItem(n, "comparator")} options=${COMPARATORS} disabled=${!canManage} />
          <${Field} id=${`ev-thr-${n}`} label="Threshold" value=${String(it.threshold)} onInput=${setItem(n, "threshold")} disabled=${!canManage} />
          <${Field} id=${`ev-w-${n}`} label="Weight" type="number" min="0" value=${it.weight} onInput=${setItem(n, "weight")} disabled=${!canManage} />
          <${Field} id=${`ev-hard-${n}`} type="checkbox" label="Failing it rejects" value=${it.hardReject} onInput=${setItem(n, "hardReject")} disabled=${!canManage} />
          <${Field} id=${`ev-act-${n}`} type="checkbox" label="Active" value=${it.isActive} onInput=${setItem(n, "isActive")} disabled=${!canManage} />
          ${canManage && html`<div class="ops-actions"><button type="button" class="secondary" onClick=${() => setDraft(draft.filter((_, i) => i !== n))}>Remove item ${n + 1}</button></div>`}
        </fieldset>`
      )}
      ${draft.length === 0 && html`<p class="muted">No item of the brand's own: the built-in defaults apply.</p>`}
      ${canManage &&
      html`<div class="ops-actions">
        <button type="button" class="secondary" onClick=${() => setDraft([...draft, { ...NEW_ITEM }])}>Add an item</button>
        <button type="button" onClick=${simulate} disabled=${act.busy}>Simulate the draft</button>
      </div>
      <${Field} id="ev-notes" label="Notes for the version" value=${notes} onInput=${setNotes} maxlength="500" />
      <div class="ops-actions"><button type="button" onClick=${publish} disabled=${act.busy}>Publish the draft</button></div>`}
      <${Alert} error=${act.error} />
      <${Done} message=${act.done} />
    </div>
    ${sim && html`<${Simulation} result=${sim} />`}
    <div class="card"><h2>Published versions</h2>
      <${Alert} error=${versions.error} />
      ${versions.data &&
      html`<${Table} caption="Policy versions" rows=${versions.data} rowKey=${(v) => v.id} empty="Nothing published yet." columns=${[
        { label: "Version", key: "version", num: true }, { label: "Published", render: (v) => when(v.publishedAt) },
        { label: "By", render: (v) => (v.publishedBy ? v.publishedBy.slice(0, 8) : "—") }, { label: "Notes", key: "notes" },
        { label: "Items", render: (v) => ((v.config.evaluation || {}).items || []).length, num: true },
      ]} />`}
    </div>
  </div>`;
}

function Simulation({ result }) {
  const pct = (rate) => `${(Number(rate) * 100).toFixed(1)} %`;
  return html`<section class="card" aria-labelledby="sim-h">
    <h2 id="sim-h">What the draft changes</h2>
    <dl class="ops-kv">
      <dt>Applications re-decided</dt><dd>${result.sampleSize}</dd>
      <dt>Decisions that flip</dt><dd>${result.changedCount}</dd>
      <dt>Approval rate</dt><dd>${pct(result.approvalRateBefore)} → ${pct(result.approvalRateAfter)}</dd>
      <dt>Expected loss</dt><dd>${rupees(result.expectedLossBefore)} → ${rupees(result.expectedLossAfter)}</dd>
    </dl>
    <${Table} caption="Transitions" rows=${Object.entries(result.transitions)} empty="No application to re-decide."
      columns=${[{ label: "Before → after", render: (t) => t[0].replace("->", " → ") }, { label: "Applications", render: (t) => t[1], num: true }]} />
    <${Table} caption="Decisions that flip" rows=${result.changed} empty="No decision flips."
      columns=${[
        { label: "Application", render: (c) => (c.applicationId ? html`<a href=${`#/loans/${c.applicationId}`}>${c.applicationId.slice(0, 8)}</a>` : "—") },
        { label: "Before", key: "before" }, { label: "After", key: "after" },
        { label: "What flipped", render: (c) => (c.flipped || []).map((f) => `${f.name}: ${f.before} → ${f.after}`).join("; ") || "—" },
      ]} />
  </section>`;
}
