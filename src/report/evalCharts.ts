// The charts of the eval report (htmlReport.ts), as Vega-Lite specs: ROC curves of all models on one chart
// (Fawcett 2006) with each model's calibrated operating point, and a zoom on the low false-alarm rates an operator
// can live with; normal vs attack score distributions; detection per attack type; seconds to train and score. One
// palette for every chart, so that a model keeps its colour from the ROC to the bars.

import type { ModelResult } from "../eval/evalResult.js";
import type { Chart } from "./vegaPage.js";

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
export function rocChart(
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
export function distributionChart(id: string, models: readonly ModelResult[]): Chart {
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

export function attackChart(id: string, models: readonly ModelResult[]): Chart {
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

export function timingChart(id: string, models: readonly ModelResult[]): Chart {
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
