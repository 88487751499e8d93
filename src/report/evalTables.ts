// The tables of the eval report (htmlReport.ts): the summary (AUC, detection at fixed false-alarm rates as in
// Forrest/Warrender-style comparisons, the calibrated operating point, cost), confusion matrices at the calibrated
// threshold, detection delay, detection per attack type, the LID-DS call-level figures (Grimmer et al. 2019), the
// supervised k-fold table (folds grouped by attack session, random leaky folds beside) and cost. Every figure is
// the EvalResult's as given.

import type { KfoldResult, KfoldRow, ModelResult, OperatingPointJson } from "../eval/evalResult.js";
import { foldGroupingLabel, LEAKY_FOLDS } from "../eval/protocolLabel.js";
import { type Cell, DASH, fix, int, pct, type Row, secs, sig, tableHtml } from "./htmlTable.js";
import { escapeHtml } from "./vegaPage.js";

/** A target rate as a short label: 0.01 -> "1%", 0.005 -> "0.5%". */
const rateLabel = (x: number): string => `${Number((x * 100).toPrecision(3))}%`;

/** The false-alarm targets of the dr_at_far points, in the order of the first model that has them. */
function farTargets(models: readonly ModelResult[]): number[] {
  const targets: number[] = [];
  for (const m of models)
    for (const o of m.dr_at_far) if (!targets.some((t) => Math.abs(t - o.target) < 1e-12)) targets.push(o.target);
  return targets.sort((a, b) => a - b);
}

function pointAt(points: readonly OperatingPointJson[], target: number): OperatingPointJson | undefined {
  return points.find((o) => Math.abs(o.target - target) < 1e-12);
}

export function summaryHtml(models: readonly ModelResult[]): string {
  const finite = models.map((m) => m.auc).filter((a) => Number.isFinite(a));
  const bestAuc = finite.length > 0 ? Math.max(...finite) : Number.NaN;
  const targets = farTargets(models);
  const header = [
    "model",
    "score",
    "#AUC",
    ...targets.map((t) => `#DR @ FAR ${rateLabel(t)}`),
    "#FAR @ DR 90%",
    "#precision",
    "#recall",
    "#F1",
    "#train\u00a0s",
    "#score\u00a0s",
    "#calls/s",
    "#profile bytes",
  ];
  const rows = models.map((m) => {
    const best = m.auc === bestAuc;
    return {
      ...(best ? { cls: "best" } : {}),
      cells: [
        m.name,
        m.score,
        best ? { n: fix(m.auc, 4), cls: "best-auc" } : { n: fix(m.auc, 4) },
        ...targets.map((t) => ({ n: pct(pointAt(m.dr_at_far, t)?.tpr ?? Number.NaN) })),
        { n: pct(m.far_at_dr90.fpr) },
        { n: pct(m.rates.precision) },
        { n: pct(m.rates.recall) },
        { n: fix(m.rates.f1) },
        { n: secs(m.cost.trainSeconds) },
        { n: secs(m.cost.scoreSeconds) },
        { n: int(m.cost.callsPerSecond) },
        { n: int(m.cost.profileBytes) },
      ],
    };
  });
  return [
    "<h2>Summary</h2>",
    tableHtml(header, rows, "summary"),
    '<p class="note">AUC and the DR/FAR operating points are threshold-free (read off the full ROC curve of the test ' +
      "traces); precision, recall and F1 are at the threshold calibrated on normal data only. DR = detection rate, " +
      `FAR = false-alarm rate, ${DASH} = undefined (a zero denominator). Highlighted: the best AUC.</p>`,
  ].join("\n");
}

export function confusionHtml(models: readonly ModelResult[]): string {
  const cards = models.map((m) => {
    const c = m.confusion;
    return (
      `<figure class="confusion"><figcaption>${escapeHtml(m.name)}</figcaption>` +
      `<table><thead><tr><th></th><th class="n">alarm</th><th class="n">no alarm</th></tr></thead><tbody>` +
      `<tr><th>attack</th><td class="n tp">${int(c.tp)}</td><td class="n fn">${int(c.fn)}</td></tr>` +
      `<tr><th>normal</th><td class="n fp">${int(c.fp)}</td><td class="n tn">${int(c.tn)}</td></tr></tbody></table>` +
      `<p class="note">threshold ${escapeHtml(sig(m.threshold))} · DR ${pct(m.rates.recall)} · FAR ${pct(m.rates.falseAlarmRate)} · ` +
      `precision ${pct(m.rates.precision)} · F1 ${fix(m.rates.f1)}</p></figure>`
    );
  });
  return [
    "<h2>At the calibrated threshold</h2>",
    '<p class="note">Test traces (calibration traces excluded): TP = attacks alarmed, FN = attacks missed, FP = false alarms, TN = quiet normal traces.</p>',
    `<div class="cards">${cards.join("\n")}</div>`,
  ].join("\n");
}

export function delayHtml(models: readonly ModelResult[]): string {
  return [
    "<h3>Detection delay</h3>",
    '<p class="note">Calls from the start of each detected attack trace (or of the attack, where its time is known) to the first alarm.</p>',
    tableHtml(
      ["model", "#detections timed", "#mean", "#median", "#min", "#max"],
      models.map((m) => ({
        cells: [
          m.name,
          { n: int(m.delay.count) },
          { n: fix(m.delay.mean, 1) },
          { n: fix(m.delay.median, 1) },
          { n: fix(m.delay.min, 0) },
          { n: fix(m.delay.max, 0) },
        ],
      })),
    ),
  ].join("\n");
}

/** One row per attack type, one column per model: the detection rate, then detected / traces and the type's AUC. */
export function perAttackHtml(models: readonly ModelResult[]): string {
  const types: string[] = [];
  for (const m of models) for (const a of m.per_attack) if (!types.includes(a.type)) types.push(a.type);
  const rows = types.map((type) => {
    const traces = models.map((m) => m.per_attack.find((a) => a.type === type)?.traces).find((t) => t !== undefined);
    return {
      cells: [
        type,
        { n: int(traces ?? Number.NaN) },
        ...models.map((m): Cell => {
          const a = m.per_attack.find((x) => x.type === type);
          if (a === undefined) return { n: DASH };
          return {
            numeric: true,
            html: `${escapeHtml(pct(a.detectionRate))}<span class="sub">${escapeHtml(int(a.detected))}/${escapeHtml(int(a.traces))} · AUC ${escapeHtml(fix(a.auc))}</span>`,
          };
        }),
      ],
    };
  });
  return tableHtml(["attack type", "#traces", ...models.map((m) => `#${m.name}`)], rows);
}

export function callLevelHtml(models: readonly ModelResult[]): string {
  const rows: Row[] = [];
  for (const m of models) {
    const c = m.callLevel;
    if (c === undefined) continue;
    rows.push({
      cells: [
        m.name,
        { n: int(c.recordings) },
        { n: `${int(c.detectedAttacks)} / ${int(c.attackRecordings)}` },
        { n: pct(c.detectionRate) },
        { n: int(c.falseAlarmCalls) },
        { n: pct(c.falseAlarmCallRate) },
        { n: `${int(c.cfa)} (${int(c.cfaNormal)} + ${int(c.cfaAttack)})` },
        { n: fix(c.precisionCfa) },
        { n: fix(c.precisionCalls) },
        { n: fix(c.f1Cfa) },
        { n: fix(c.delayCalls.median, 1) },
        { n: fix(c.delaySeconds.median, 3) },
      ],
    });
  }
  if (rows.length === 0) return "";
  return [
    "<h2>Call level (LID-DS)</h2>",
    '<p class="note">As LID-DS counts them: every call from the attack start on is an attack call; false-alarm calls are alarmed ' +
      "calls in normal recordings and before the attack; CFA = runs of consecutive false-alarm calls (normal recordings + " +
      "attack recordings before the attack); precision (CFA) = detected / (detected + CFA), precision (calls) = detected / " +
      "(detected + false-alarm calls); delays are medians over detected recordings.</p>",
    tableHtml(
      [
        "model",
        "#recordings",
        "#detected / attacks",
        "#detection rate",
        "#false-alarm calls",
        "#false-alarm call rate",
        "#CFA (normal + attack)",
        "#precision (CFA)",
        "#precision (calls)",
        "#F1 (CFA)",
        "#delay (calls)",
        "#delay (s)",
      ],
      rows,
    ),
  ].join("\n");
}

function kfoldRowHtml(label: string, r: KfoldRow, extra: Cell[] = [], cls?: string): Row {
  return {
    ...(cls !== undefined ? { cls } : {}),
    cells: [
      label,
      { n: int(r.n) },
      { n: int(r.tp) },
      { n: int(r.fn) },
      { n: int(r.fp) },
      { n: int(r.tn) },
      { n: pct(r.precision) },
      { n: pct(r.recall) },
      { n: pct(r.accuracy) },
      ...extra,
    ],
  };
}

/** The grouped and random folds' totals side by side, the random ones labelled as leaky. */
function kfoldComparisonHtml(kfold: KfoldResult, groupedAuc: number): string {
  const random = kfold.random;
  if (random === undefined) return "";
  const leakyNote =
    `${LEAKY_FOLDS}: a classifier tested on a session it has already trained on. The gap between the rows is ` +
    `what that leak adds; the summary and ROC above show both, the random one as "${random.model}".`;
  return [
    "<h3>Grouped folds (the figure to quote) and random folds (leaky)</h3>",
    tableHtml(
      ["folds", "#n", "#TP", "#FN", "#FP", "#TN", "#precision", "#recall", "#accuracy", "#AUC"],
      [
        kfoldRowHtml("grouped by attack session", kfold.total, [{ n: fix(groupedAuc, 4) }], "best"),
        kfoldRowHtml("random per trace (LEAKY)", random.total, [{ n: fix(random.auc, 4) }]),
      ],
    ),
    `<p class="note">${escapeHtml(leakyNote)}</p>`,
  ].join("\n");
}

export function kfoldHtml(kfold: KfoldResult, groupedAuc: number): string {
  return [
    `<h2>Supervised ${escapeHtml(String(kfold.k))}-fold cross-validation</h2>`,
    `<p class="note">${escapeHtml(foldGroupingLabel(kfold))}.</p>`,
    tableHtml(
      ["fold", "#n", "#TP", "#FN", "#FP", "#TN", "#precision", "#recall", "#accuracy"],
      [...kfold.rows.map((r) => kfoldRowHtml(String(r.fold), r)), kfoldRowHtml("total", kfold.total, [], "total")],
    ),
    kfoldComparisonHtml(kfold, groupedAuc),
  ].join("\n");
}

export function costHtml(models: readonly ModelResult[]): string {
  return tableHtml(
    ["model", "kind", "options", "#train\u00a0s", "#score\u00a0s", "#calls/s", "#profile bytes", "#memory bytes"],
    models.map((m) => ({
      cells: [
        m.name,
        m.kind,
        {
          html: Object.entries(m.options)
            .map(([k, v]) => `<code>${escapeHtml(k)}=${escapeHtml(String(v))}</code>`)
            .join(" "),
        },
        { n: secs(m.cost.trainSeconds) },
        { n: secs(m.cost.scoreSeconds) },
        { n: int(m.cost.callsPerSecond) },
        { n: int(m.cost.profileBytes) },
        { n: int(m.cost.memoryBytes) },
      ],
    })),
  );
}
