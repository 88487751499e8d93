// The `homeostat eval --report` page: one self-contained HTML file that answers "how well does each method detect
// attacks on this data, and at what false-alarm cost?" at a glance: a summary table, ROC curves of all models on
// one chart, normal vs attack score distributions, per-attack detection, timing, confusion tables, delays, LID-DS
// call-level figures and the k-fold table when present, and the protocol's honesty rules.

import type { EvalResult, ModelResult } from "../eval/evalResult.js";
import { type Chart, escapeHtml, vegaPage } from "./vegaPage.js";

const pct = (x: number): string => (Number.isFinite(x) ? `${(x * 100).toFixed(1)}%` : "–");
const fix = (x: number, d = 3): string => (Number.isFinite(x) ? x.toFixed(d) : "–");
const int = (x: number): string => (Number.isFinite(x) ? Math.round(x).toLocaleString("en-US") : "–");

function tableHtml(header: string[], rows: { cells: (string | { n: string })[]; cls?: string }[]): string {
  const head = header.map((h) => `<th>${escapeHtml(h)}</th>`).join("");
  const body = rows
    .map(
      (r) =>
        `<tr${r.cls ? ` class="${r.cls}"` : ""}>${r.cells
          .map((c) => (typeof c === "string" ? `<td>${escapeHtml(c)}</td>` : `<td class="n">${escapeHtml(c.n)}</td>`))
          .join("")}</tr>`,
    )
    .join("\n");
  return `<table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

function rocChart(models: readonly ModelResult[]): Chart {
  const values = models.flatMap((m) => m.roc.map((p) => ({ model: `${m.name} (AUC ${fix(m.auc)})`, fpr: p.fpr, tpr: p.tpr })));
  return {
    id: "chart-roc",
    spec: {
      $schema: "https://vega.github.io/schema/vega-lite/v6.json",
      width: 520,
      height: 400,
      title: "ROC: detection rate against false-alarm rate",
      layer: [
        {
          data: { values: [{ x: 0, y: 0 }, { x: 1, y: 1 }] },
          mark: { type: "line", strokeDash: [4, 4], color: "#aaa" },
          encoding: { x: { field: "x", type: "quantitative" }, y: { field: "y", type: "quantitative" } },
        },
        {
          data: { values },
          mark: { type: "line", interpolate: "step-after", strokeWidth: 2 },
          encoding: {
            x: { field: "fpr", type: "quantitative", title: "false-alarm rate", scale: { domain: [0, 1] } },
            y: { field: "tpr", type: "quantitative", title: "detection rate", scale: { domain: [0, 1] } },
            color: { field: "model", type: "nominal", title: "model" },
            order: { field: "fpr" },
          },
        },
      ],
    },
  };
}

function distributionChart(models: readonly ModelResult[]): Chart {
  const values = models.flatMap((m) => {
    const d = m.distribution;
    return d.normal.flatMap((n, i) => {
      const lo = d.edges[i]!;
      const hi = d.edges[i + 1]!;
      const nTotal = d.normal.reduce((a, b) => a + b, 0) || 1;
      const aTotal = d.attack.reduce((a, b) => a + b, 0) || 1;
      return [
        { model: m.name, class: "normal", lo, hi, share: n / nTotal },
        { model: m.name, class: "attack", lo, hi, share: (d.attack[i] ?? 0) / aTotal },
      ];
    });
  });
  return {
    id: "chart-dist",
    spec: {
      $schema: "https://vega.github.io/schema/vega-lite/v6.json",
      title: "Score distributions of normal and attack test traces (share of each class per bin)",
      data: { values },
      facet: { field: "model", type: "nominal", title: null },
      columns: 3,
      resolve: { scale: { x: "independent", y: "independent" } },
      spec: {
        width: 260,
        height: 140,
        mark: { type: "bar", opacity: 0.6 },
        encoding: {
          x: { field: "lo", type: "quantitative", title: "score", bin: { binned: true } },
          x2: { field: "hi" },
          y: { field: "share", type: "quantitative", title: "share", stack: null },
          color: {
            field: "class",
            type: "nominal",
            scale: { domain: ["normal", "attack"], range: ["#4c78a8", "#e45756"] },
          },
        },
      },
    },
  };
}

function attackChart(models: readonly ModelResult[]): Chart {
  const values = models.flatMap((m) => m.per_attack.map((a) => ({ model: m.name, type: a.type, rate: a.detectionRate })));
  return {
    id: "chart-attack",
    spec: {
      $schema: "https://vega.github.io/schema/vega-lite/v6.json",
      title: "Detection rate per attack type at the calibrated threshold",
      data: { values },
      width: { step: 14 },
      height: 220,
      mark: "bar",
      encoding: {
        x: { field: "type", type: "nominal", title: "attack type" },
        xOffset: { field: "model" },
        y: { field: "rate", type: "quantitative", title: "detection rate", scale: { domain: [0, 1] } },
        color: { field: "model", type: "nominal" },
        tooltip: [{ field: "model" }, { field: "type" }, { field: "rate", format: ".1%" }],
      },
    },
  };
}

function timingChart(models: readonly ModelResult[]): Chart {
  const values = models.flatMap((m) => [
    { model: m.name, phase: "train", seconds: m.cost.trainSeconds },
    { model: m.name, phase: "score", seconds: m.cost.scoreSeconds },
  ]);
  return {
    id: "chart-timing",
    spec: {
      $schema: "https://vega.github.io/schema/vega-lite/v6.json",
      title: "Time to train and to score the test set (seconds)",
      data: { values },
      width: 520,
      height: { step: 18 },
      mark: "bar",
      encoding: {
        y: { field: "model", type: "nominal", title: null },
        yOffset: { field: "phase" },
        x: { field: "seconds", type: "quantitative" },
        color: { field: "phase", type: "nominal" },
      },
    },
  };
}

/** The report page for one eval run. */
export function renderHtmlReport(result: EvalResult): string {
  const models = result.models;
  const bestAuc = Math.max(...models.map((m) => (Number.isFinite(m.auc) ? m.auc : -1)));
  const p = result.protocol;
  const parts: string[] = [];
  parts.push(`<h1>homeostat eval: ${escapeHtml(p.name)}</h1>`);
  parts.push(`<p class="lead">${escapeHtml(p.description)}</p>`);
  parts.push(
    `<p class="note">homeostat ${escapeHtml(result.homeostat)} · started ${escapeHtml(result.startedAt)} · seed ${p.seed} · ` +
      `threshold ${escapeHtml(p.threshold.method === "far" ? `false-alarm rate ${pct(p.threshold.far ?? Number.NaN)}` : "max")} ` +
      `on ${escapeHtml(p.threshold.calibration)} · ${fix(result.totalSeconds, 1)} s in all (loading ${fix(result.loadSeconds, 1)} s)</p>`,
  );
  parts.push(`<ul class="rules">${p.rules.map((r) => `<li>${escapeHtml(r)}</li>`).join("")}</ul>`);

  parts.push("<h2>Summary</h2>");
  parts.push(
    tableHtml(
      ["model", "score", "AUC", "DR@FAR 1%", "DR@FAR 5%", "DR@FAR 10%", "FAR@DR 90%", "precision", "recall", "F1", "train s", "score s", "calls/s", "profile bytes"],
      models.map((m) => ({
        cls: m.auc === bestAuc ? "best" : "",
        cells: [
          m.name,
          m.score,
          { n: fix(m.auc, 4) },
          ...m.dr_at_far.map((o) => ({ n: pct(o.tpr) })),
          { n: pct(m.far_at_dr90.fpr) },
          { n: pct(m.rates.precision) },
          { n: pct(m.rates.recall) },
          { n: fix(m.rates.f1) },
          { n: fix(m.cost.trainSeconds, 2) },
          { n: fix(m.cost.scoreSeconds, 2) },
          { n: int(m.cost.callsPerSecond) },
          { n: int(m.cost.profileBytes) },
        ],
      })),
    ),
  );

  const charts = [rocChart(models), distributionChart(models), attackChart(models), timingChart(models)];
  parts.push('<h2>ROC curves</h2><div class="chart" id="chart-roc"></div>');
  parts.push('<h2>Score distributions</h2><div class="chart" id="chart-dist"></div>');
  parts.push('<h2>Per attack type</h2><div class="chart" id="chart-attack"></div>');
  parts.push(
    tableHtml(
      ["model", "attack type", "traces", "detected", "detection rate", "AUC vs normal"],
      models.flatMap((m) =>
        m.per_attack.map((a) => ({
          cells: [m.name, a.type, { n: int(a.traces) }, { n: int(a.detected) }, { n: pct(a.detectionRate) }, { n: fix(a.auc) }],
        })),
      ),
    ),
  );

  parts.push("<h2>At the calibrated threshold</h2>");
  parts.push(
    tableHtml(
      ["model", "threshold", "TP", "FN", "FP", "TN", "false-alarm rate", "delay median (calls)", "delay mean", "detected with delay"],
      models.map((m) => ({
        cells: [
          m.name,
          { n: Number.isFinite(m.threshold) ? String(Number(m.threshold.toPrecision(4))) : "–" },
          { n: int(m.confusion.tp) },
          { n: int(m.confusion.fn) },
          { n: int(m.confusion.fp) },
          { n: int(m.confusion.tn) },
          { n: pct(m.rates.falseAlarmRate) },
          { n: fix(m.delay.median, 1) },
          { n: fix(m.delay.mean, 1) },
          { n: int(m.delay.count) },
        ],
      })),
    ),
  );

  const callLevel = models.filter((m) => m.callLevel !== undefined);
  if (callLevel.length > 0) {
    parts.push("<h2>Call level (LID-DS)</h2>");
    parts.push(
      tableHtml(
        ["model", "recordings", "detection rate", "false-alarm calls", "CFA", "precision (CFA)", "F1 (CFA)", "delay median (s)"],
        callLevel.map((m) => {
          const c = m.callLevel!;
          return {
            cells: [
              m.name,
              { n: int(c.recordings) },
              { n: pct(c.detectionRate) },
              { n: int(c.falseAlarmCalls) },
              { n: int(c.cfa) },
              { n: fix(c.precisionCfa) },
              { n: fix(c.f1Cfa) },
              { n: fix(c.delaySeconds.median, 3) },
            ],
          };
        }),
      ),
    );
  }

  if (result.kfold !== undefined) {
    parts.push(`<h2>Supervised ${result.kfold.k}-fold cross-validation</h2>`);
    parts.push(
      tableHtml(
        ["fold", "n", "TP", "FN", "FP", "TN", "precision", "recall"],
        [...result.kfold.rows, result.kfold.total].map((r) => ({
          ...(r.fold === 0 ? { cls: "best" } : {}),
          cells: [r.fold === 0 ? "total" : String(r.fold), { n: int(r.n) }, { n: int(r.tp) }, { n: int(r.fn) }, { n: int(r.fp) }, { n: int(r.tn) }, { n: pct(r.precision) }, { n: pct(r.recall) }],
        })),
      ),
    );
  }

  parts.push('<h2>Cost</h2><div class="chart" id="chart-timing"></div>');
  parts.push("<h2>Data</h2>");
  parts.push(
    tableHtml(
      ["split", "traces", "calls"],
      result.dataset.splits.map((s) => ({ cells: [s.name, { n: int(s.traces) }, { n: int(s.calls) }] })),
    ),
  );
  if (result.dataset.attackTypes.length > 0) {
    parts.push(
      tableHtml(
        ["attack type", "traces"],
        result.dataset.attackTypes.map((a) => ({ cells: [a.type, { n: int(a.traces) }] })),
      ),
    );
  }
  parts.push(
    `<p class="note">${int(result.dataset.syscalls)} distinct system calls. Inputs: ${result.dataset.paths.map((x) => `<code>${escapeHtml(x)}</code>`).join(", ")}</p>`,
  );
  return vegaPage(`homeostat eval: ${p.name}`, parts.join("\n"), charts);
}
