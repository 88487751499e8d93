// The `homeostat eval --report` page: one self-contained HTML file that answers "how well does each model detect
// attacks on this data, and at what false-alarm cost?" at a glance. Top down: the protocol and its honesty rules,
// the data, a summary table (AUC, detection at fixed false-alarm rates as in Forrest/Warrender-style comparisons,
// the calibrated operating point, cost), ROC curves of all models on one chart (Fawcett 2006) with a zoom on the
// low false-alarm rates an operator can live with, normal vs attack score distributions, per-attack detection,
// confusion matrices, detection delay, the LID-DS call-level figures (Grimmer et al. 2019) and the supervised
// k-fold table when present (folds grouped by attack session, random leaky folds beside), and cost. A protocol
// that is not the data set's strict split (the LID-DS split of ADFA-LD, dedupe) says so in the title and a warning
// box. Every figure comes from the EvalResult as given; nothing is recomputed here except shares of histogram counts
// for plotting. The charts are in evalCharts.ts, the tables in evalTables.ts; this file lays out the page.

import type { EvalResult } from "../eval/evalResult.js";
import { protocolCaveats, protocolLabel, protocolTitle, strictnessLabel } from "../eval/protocolLabel.js";
import { attackChart, distributionChart, rocChart, timingChart } from "./evalCharts.js";
import {
  callLevelHtml,
  confusionHtml,
  costHtml,
  delayHtml,
  kfoldHtml,
  perAttackHtml,
  summaryHtml,
} from "./evalTables.js";
import { DASH, int, pct, secs, tableHtml } from "./htmlTable.js";
import { type Chart, escapeHtml, vegaPage } from "./vegaPage.js";

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
