// The `homeostat eval --report` page: one self-contained HTML file that answers "how well does each model detect
// attacks on this data, and at what false-alarm cost?" at a glance. Top down: the protocol and its honesty rules,
// the data, a summary table (AUC, detection at fixed false-alarm rates as in Forrest/Warrender-style comparisons,
// the calibrated operating point, cost), ROC curves of all models on one chart (Fawcett 2006) with a zoom on the
// low false-alarm rates an operator can live with, normal vs attack score distributions, per-attack detection,
// confusion matrices, detection delay, the LID-DS call-level figures (Grimmer et al. 2019) and the supervised
// k-fold table when present (folds grouped by attack session, random leaky folds beside), and cost. A protocol
// that is not the data set's strict split (the LID-DS split of ADFA-LD, dedupe) says so in the title and a warning
// box. Every figure comes from the EvalResult as given; nothing is recomputed here except shares of histogram counts
// for plotting.

import type { EvalResult, KfoldResult, KfoldRow, ModelResult, OperatingPointJson } from "../eval/evalResult.js";
import {
  foldGroupingLabel,
  LEAKY_FOLDS,
  protocolCaveats,
  protocolLabel,
  protocolTitle,
  strictnessLabel,
} from "../eval/protocolLabel.js";
import { type Cell, DASH, fix, int, pct, type Row, secs, sig, tableHtml } from "./htmlTable.js";
import { type Chart, escapeHtml, vegaPage } from "./vegaPage.js";

const SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json";
/** One palette for every chart, so a model keeps its colour from the ROC to the bars. */
const PALETTE = [
  "#4c78a8",
  "#f58518",
  "#54a24b",
  "#e45756",
  "#72b7b2",
  "#b279a2",
  "#eeca3b",
  "#9d755d",
  "#ff9da6",
  "#bab0ac",
];
const CLASS_COLOURS = { domain: ["normal", "attack"], range: ["#4c78a8", "#e45756"] };
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

const colour = (
  models: readonly ModelResult[],
  legend: Record<string, unknown> | null = { labelLimit: 320 },
): Record<string, unknown> => ({
  field: "model",
  type: "nominal",
  title: "model",
  sort: null,
  scale: { domain: models.map((m) => m.name), range: PALETTE },
  legend,
});

const ROC_DIAGONAL = {
  values: [
    { fpr: 0, tpr: 0 },
    { fpr: 1, tpr: 1 },
  ],
};

/** The ROC axes: false-alarm rate up to `maxFpr`, detection rate. */
function rocAxes(maxFpr: number): { x: Record<string, unknown>; y: Record<string, unknown> } {
  return {
    x: {
      field: "fpr",
      type: "quantitative",
      title: "false-alarm rate",
      scale: { domain: [0, maxFpr] },
      axis: { format: "%" },
    },
    y: {
      field: "tpr",
      type: "quantitative",
      title: "detection rate",
      scale: { domain: [0, 1] },
      axis: { format: "%" },
    },
  };
}

/** One line per model through its ROC points, in order. */
function rocCurvesLayer(models: readonly ModelResult[], maxFpr: number, withLegend: boolean): Record<string, unknown> {
  const lines = models.flatMap((m) =>
    m.roc.map((p, i) => ({ model: m.name, auc: m.auc, i, fpr: p.fpr, tpr: p.tpr, threshold: p.threshold })),
  );
  return {
    data: { values: lines },
    mark: { type: "line", strokeWidth: 2, clip: true },
    encoding: {
      ...rocAxes(maxFpr),
      color: colour(
        models,
        withLegend ? { orient: "bottom", direction: "vertical", labelLimit: 400, symbolStrokeWidth: 3 } : null,
      ),
      order: { field: "i", type: "quantitative" },
      tooltip: [
        { field: "model" },
        { field: "fpr", title: "false-alarm rate", format: ".2%" },
        { field: "tpr", title: "detection rate", format: ".2%" },
        { field: "threshold", title: "threshold (alarm when score >)" },
        { field: "auc", title: "AUC", format: ".4f" },
      ],
    },
  };
}

/** Each model's operating point at its calibrated threshold, as a diamond. */
function calibratedPointsLayer(models: readonly ModelResult[], maxFpr: number): Record<string, unknown> {
  const calibrated = models.map((m) => ({
    model: m.name,
    fpr: m.rates.falseAlarmRate,
    tpr: m.rates.recall,
    threshold: m.threshold,
  }));
  return {
    data: { values: calibrated },
    mark: { type: "point", shape: "diamond", size: 90, filled: true, stroke: "#1d2430", strokeWidth: 1, clip: true },
    encoding: {
      ...rocAxes(maxFpr),
      color: colour(models, null),
      tooltip: [
        { field: "model" },
        { field: "threshold", title: "calibrated threshold" },
        { field: "fpr", title: "false-alarm rate", format: ".2%" },
        { field: "tpr", title: "detection rate", format: ".2%" },
      ],
    },
  };
}

/**
 * ROC curves of all models, straight segments between the points roc.ts gives (a group of tied scores is one
 * diagonal segment, the trapezoid the AUC integrates), the chance diagonal, and each model's operating point at
 * the calibrated threshold. `maxFpr` < 1 zooms on the low false-alarm rates (clipped, same data).
 */
function rocChart(
  id: string,
  models: readonly ModelResult[],
  maxFpr: number,
  title: string,
  withLegend: boolean,
): Chart {
  return {
    id,
    spec: {
      $schema: SCHEMA,
      title,
      width: 400,
      height: 360,
      layer: [
        {
          data: ROC_DIAGONAL,
          mark: { type: "line", strokeDash: [4, 4], color: "#9aa3ad", clip: true },
          encoding: rocAxes(maxFpr),
        },
        rocCurvesLayer(models, maxFpr, withLegend),
        calibratedPointsLayer(models, maxFpr),
      ],
    },
  };
}

/**
 * Score histograms, one panel per model, each class as its share of its own traces: attack traces are usually far
 * fewer than normal ones, and raw counts would hide their shape. Score scales differ by model, so x is independent.
 */
function distributionChart(id: string, models: readonly ModelResult[]): Chart {
  const values = models.flatMap((m) => {
    const d = m.distribution;
    const nTotal = d.normal.reduce((a, b) => a + b, 0);
    const aTotal = d.attack.reduce((a, b) => a + b, 0);
    return d.normal.flatMap((n, i) => {
      const lo = d.edges[i] ?? Number.NaN;
      const hi = d.edges[i + 1] ?? Number.NaN;
      const a = d.attack[i] ?? 0;
      return [
        { model: m.name, class: "normal", lo, hi, traces: n, share: nTotal > 0 ? n / nTotal : Number.NaN },
        { model: m.name, class: "attack", lo, hi, traces: a, share: aTotal > 0 ? a / aTotal : Number.NaN },
      ];
    });
  });
  return {
    id,
    spec: {
      $schema: SCHEMA,
      title: {
        text: "Trace scores: normal vs attack test traces",
        subtitle: "share of each class's traces per score bin",
      },
      data: { values },
      facet: {
        field: "model",
        type: "nominal",
        title: null,
        sort: models.map((m) => m.name),
        header: { labelLimit: 300, labelFontWeight: "bold" },
      },
      columns: 3,
      resolve: { scale: { x: "independent", y: "independent" } },
      spec: {
        width: 280,
        height: 140,
        mark: { type: "bar", opacity: 0.6, binSpacing: 0 },
        encoding: {
          x: { field: "lo", type: "quantitative", title: "score", bin: { binned: true } },
          x2: { field: "hi" },
          y: { field: "share", type: "quantitative", title: "share of traces", stack: null, axis: { format: "%" } },
          color: { field: "class", type: "nominal", title: "test traces", scale: CLASS_COLOURS },
          tooltip: [
            { field: "class" },
            { field: "lo", title: "from", format: ".4g" },
            { field: "hi", title: "to", format: ".4g" },
            { field: "traces", title: "traces" },
            { field: "share", format: ".1%" },
          ],
        },
      },
    },
  };
}

function attackChart(id: string, models: readonly ModelResult[]): Chart {
  const values = models.flatMap((m) =>
    m.per_attack.map((a) => ({
      model: m.name,
      type: a.type,
      rate: a.detectionRate,
      detected: a.detected,
      traces: a.traces,
    })),
  );
  return {
    id,
    spec: {
      $schema: SCHEMA,
      title: "Detection rate per attack type at the calibrated threshold",
      data: { values },
      width: { step: Math.max(6, Math.min(18, Math.floor(90 / Math.max(1, models.length)))), for: "offset" },
      height: 220,
      mark: "bar",
      encoding: {
        x: { field: "type", type: "nominal", title: "attack type", axis: { labelAngle: -30, labelLimit: 180 } },
        xOffset: { field: "model", sort: models.map((m) => m.name) },
        y: {
          field: "rate",
          type: "quantitative",
          title: "detection rate",
          scale: { domain: [0, 1] },
          axis: { format: "%" },
        },
        color: colour(models),
        tooltip: [
          { field: "model" },
          { field: "type", title: "attack type" },
          { field: "rate", title: "detection rate", format: ".1%" },
          { field: "detected" },
          { field: "traces" },
        ],
      },
    },
  };
}

function timingChart(id: string, models: readonly ModelResult[]): Chart {
  const values = models.flatMap((m) => [
    { model: m.name, phase: "train", seconds: m.cost.trainSeconds },
    { model: m.name, phase: "score", seconds: m.cost.scoreSeconds },
  ]);
  return {
    id,
    spec: {
      $schema: SCHEMA,
      title: "Seconds to train, and to score every test trace",
      data: { values },
      width: 460,
      height: { step: 14, for: "offset" },
      mark: "bar",
      encoding: {
        y: { field: "model", type: "nominal", title: null, sort: models.map((m) => m.name), axis: { labelLimit: 260 } },
        yOffset: { field: "phase", sort: ["train", "score"] },
        x: { field: "seconds", type: "quantitative", title: "seconds" },
        color: {
          field: "phase",
          type: "nominal",
          title: "phase",
          sort: ["train", "score"],
          scale: { range: ["#72b7b2", "#b279a2"] },
        },
        tooltip: [{ field: "model" }, { field: "phase" }, { field: "seconds", format: ".3f" }],
      },
    },
  };
}

/** The title's warning when the protocol is not the strict one, with what its variants changed. */
function variantWarningHtml(result: EvalResult): string {
  const p = result.protocol;
  if (p.strict) return "";
  return (
    `<div class="warn"><b>${escapeHtml(protocolTitle(p))}.</b>` +
    protocolCaveats(p)
      .map((c) => ` ${escapeHtml(c)}`)
      .join("") +
    "</div>"
  );
}

function headerHtml(result: EvalResult, title: string): string {
  const p = result.protocol;
  const t = p.threshold;
  const threshold =
    t.method === "far"
      ? `score quantile for a ${pct(t.far ?? Number.NaN)} false-alarm rate on ${t.calibration}`
      : `largest score on ${t.calibration}`;
  const d = result.dataset;
  const meta: [string, string][] = [
    ["protocol", `<b>${escapeHtml(protocolLabel(p))}</b>: ${escapeHtml(strictnessLabel(p))}`],
    ...(p.dedupe !== undefined
      ? [
          [
            "dedupe",
            escapeHtml(
              `${int(p.dedupe.removed)} test traces identical to a training trace removed ` +
                `(${int(p.dedupe.normal)} normal, ${int(p.dedupe.attack)} attack)`,
            ),
          ] as [string, string],
        ]
      : []),
    ["threshold", escapeHtml(threshold)],
    ["seed", escapeHtml(String(p.seed))],
    [
      "time",
      `${escapeHtml(secs(result.totalSeconds))} s in all, ${escapeHtml(secs(result.loadSeconds))} s reading the inputs`,
    ],
    ["run", `homeostat ${escapeHtml(result.homeostat)}, started ${escapeHtml(result.startedAt)}`],
    ["inputs", d.paths.length > 0 ? d.paths.map((x) => `<code>${escapeHtml(x)}</code>`).join(" ") : DASH],
  ];
  const splits = tableHtml(
    ["split", "#traces", "#calls"],
    d.splits.map((s) => ({ cells: [s.name, { n: int(s.traces) }, { n: int(s.calls) }] })),
  );
  const types =
    d.attackTypes.length > 0
      ? tableHtml(
          ["attack type", "#traces"],
          d.attackTypes.map((a) => ({ cells: [a.type, { n: int(a.traces) }] })),
        )
      : '<p class="note">No attack types given.</p>';
  return [
    `<header><h1>${escapeHtml(title)}</h1>`,
    variantWarningHtml(result),
    `<p class="lead">${escapeHtml(p.description)}</p>`,
    `<dl class="meta">${meta.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${v}</dd>`).join("")}</dl>`,
    p.rules.length > 0
      ? `<h3>Rules that keep these figures honest</h3><ul class="rules">${p.rules.map((r) => `<li>${escapeHtml(r)}</li>`).join("")}</ul>`
      : "",
    `<h3>Data</h3><div class="side">${splits}${types}</div>`,
    `<p class="note">${escapeHtml(int(d.syscalls))} distinct system calls across all splits.</p></header>`,
  ].join("\n");
}

function summaryHtml(models: readonly ModelResult[]): string {
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

function confusionHtml(models: readonly ModelResult[]): string {
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

function delayHtml(models: readonly ModelResult[]): string {
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
function perAttackHtml(models: readonly ModelResult[]): string {
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

function callLevelHtml(models: readonly ModelResult[]): string {
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

function kfoldHtml(kfold: KfoldResult, groupedAuc: number): string {
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

function costHtml(models: readonly ModelResult[]): string {
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

/** The eval report's style sheet (after vegaPage's), for pages that hold eval report bodies. */
export const EVAL_REPORT_STYLE = `
th, td { padding: 4px 7px; }
th, th.n { white-space: normal; vertical-align: bottom; }
td:first-child { overflow-wrap: anywhere; min-width: 8em; max-width: 18em; }
table.summary { font-size: 0.82em; }
table.summary td:nth-child(2) { min-width: 6em; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 12px 0; font-size: 0.92em; }
dl.meta dt { color: #5b6575; } dl.meta dd { margin: 0; }
.side { display: flex; flex-wrap: wrap; gap: 0 32px; align-items: flex-start; }
td.best-auc { font-weight: 700; }
.best-auc::after { content: " ★"; color: #2f8a2f; }
.cards { display: flex; flex-wrap: wrap; gap: 12px 20px; }
figure.confusion { margin: 0; padding: 8px 12px; border: 1px solid #e3e6ea; border-radius: 6px; width: 300px; }
figure.confusion figcaption { font-weight: 600; overflow-wrap: anywhere; }
figure.confusion table { margin: 6px 0; font-size: 0.95em; }
figure.confusion td.n { min-width: 70px; font-size: 1.1em; }
figure.confusion .tp, figure.confusion .tn { background: #eaf6ea; }
figure.confusion .fp, figure.confusion .fn { background: #fcebea; }
figure.confusion p.note { margin: 0; }
td .sub { display: block; color: #5b6575; font-size: 0.85em; }
.warn { margin: 10px 0; padding: 8px 12px; border: 1px solid #e0a800; border-left: 6px solid #d9480f; background: #fff8e6; }
`;

/** The page title of one eval run's report. */
function reportTitle(result: EvalResult): string {
  return `homeostat eval: ${protocolLabel(result.protocol)}${result.protocol.strict ? "" : " (not strict)"}`;
}

/** Where an eval report body goes: its chart ids' prefix, its title, and how far its headings are moved down. */
export interface EvalReportBodyOptions {
  /** Prefixed to every chart id, so that several bodies can share a page ("" for a page of its own). */
  idPrefix?: string;
  /** The body's title (default: "homeostat eval: <protocol>"). */
  title?: string;
  /** Moves every heading down this many levels (h1 -> h2 with 1), for a body inside a larger page. */
  headingShift?: number;
}

/**
 * Moves HTML headings down `by` levels (at most to h6). Safe on the report's own markup: every text in it is
 * escaped, so a `<hN` can only be one of its tags.
 */
export function shiftHeadings(html: string, by: number): string {
  if (by <= 0) return html;
  return html.replace(/<(\/?)h([1-6])\b/g, (_m, slash: string, level: string) => {
    return `<${slash}h${Math.min(6, Number(level) + by)}`;
  });
}

/** The sections of one eval run's report and their charts, to place in a page (renderHtmlReport) or several. */
export function evalReportBody(
  result: EvalResult,
  options: EvalReportBodyOptions = {},
): { html: string; charts: Chart[] } {
  const id = (name: string): string => `${options.idPrefix ?? ""}${name}`;
  const models = result.models;
  const parts: string[] = [headerHtml(result, options.title ?? reportTitle(result))];
  const charts: Chart[] = [];
  if (models.length === 0) {
    parts.push('<h2>Summary</h2><p class="note">No models were evaluated.</p>');
  } else {
    parts.push(summaryHtml(models));

    parts.push("<h2>ROC curves</h2>");
    parts.push(
      '<p class="note">Each curve: every (false-alarm rate, detection rate) a threshold can give on the test traces; the dashed line is chance. ' +
        "Diamonds: the calibrated threshold. Right: the same curves for false-alarm rates up to 10%.</p>",
    );
    parts.push(
      `<div class="side"><div class="chart" id="${id("chart-roc")}"></div><div class="chart" id="${id("chart-roc-low")}"></div></div>`,
    );
    charts.push(rocChart(id("chart-roc"), models, 1, "ROC: detection rate against false-alarm rate", true));
    charts.push(rocChart(id("chart-roc-low"), models, 0.1, "Zoom: false-alarm rates up to 10%", false));

    parts.push(`<h2>Score distributions</h2><div class="chart" id="${id("chart-dist")}"></div>`);
    charts.push(distributionChart(id("chart-dist"), models));

    parts.push("<h2>Per attack type</h2>");
    if (models.some((m) => m.per_attack.length > 0)) {
      parts.push(`<div class="chart" id="${id("chart-attack")}"></div>`);
      charts.push(attackChart(id("chart-attack"), models));
      parts.push(perAttackHtml(models));
    } else parts.push('<p class="note">The attack traces have no types.</p>');

    parts.push(confusionHtml(models));
    parts.push(delayHtml(models));
    parts.push(callLevelHtml(models));
  }
  if (result.kfold !== undefined) parts.push(kfoldHtml(result.kfold, models[0]?.auc ?? Number.NaN));
  if (models.length > 0) {
    parts.push(`<h2>Cost</h2><div class="chart" id="${id("chart-timing")}"></div>`);
    charts.push(timingChart(id("chart-timing"), models));
    parts.push(costHtml(models));
  }
  return { html: shiftHeadings(parts.join("\n"), options.headingShift ?? 0), charts };
}

/** The report page for one eval run: a complete HTML document that needs no network to be viewed. */
export function renderHtmlReport(result: EvalResult): string {
  const { html, charts } = evalReportBody(result);
  return vegaPage(reportTitle(result), html, charts, { style: EVAL_REPORT_STYLE });
}
