// The `homeostat inspect --report` page: what a data set holds before any detector sees it, as the Sandia KS study
// looked at it. Top down: the data, the category-bigram heatmaps per label and attack type and their difference,
// the bigrams that separate the labels most (two-sample KS statistic), trace length, distinct calls and the most
// frequent calls per label, and the cleaning facts. Everything comes from the DatasetProfile as given.

import type { DatasetProfile } from "../eval/datasetProfile.js";
import { cleaningHtml } from "./cleaningTables.js";
import { histogramChart, separationChart, syscallChart } from "./datasetCharts.js";
import { heatmapChart } from "./heatmapChart.js";
import { int, tableHtml } from "./htmlTable.js";
import { type Chart, escapeHtml, vegaPage } from "./vegaPage.js";

/** Bigrams in the ranked chart. */
const RANKED = 30;

const STYLE = `
main { max-width: 1320px; }
.side { display: flex; flex-wrap: wrap; gap: 0 28px; align-items: flex-start; }
details summary { cursor: pointer; color: #36567d; }
details code { display: inline-block; margin: 1px 2px; }
td:last-child { max-width: 44em; }
`;

function headerHtml(p: DatasetProfile): string {
  const labels = p.lengths.labels.map((l) => ({ cells: [l.label, { n: int(l.traces) }] }));
  return [
    "<header><h1>homeostat inspect: the data set</h1>",
    `<p class="lead">${int(p.traces)} traces, ${int(p.syscalls)} system calls, from ` +
      `${p.inputs.map((x) => `<code>${escapeHtml(x)}</code>`).join(" ")}</p>`,
    labels.length > 0 ? tableHtml(["label", "#traces"], labels) : "",
    "</header>",
  ].join("\n");
}

function heatmapsHtml(p: DatasetProfile, charts: Chart[]): string {
  if (p.heatmaps.length === 0) return '<h2>Category bigrams</h2><p class="note">No trace has two calls.</p>';
  const divs = p.heatmaps.map((map, i) => {
    const id = `chart-heatmap-${i}`;
    charts.push(heatmapChart(id, map, p.categories));
    return `<div class="chart heatmap" id="${id}" data-group="${escapeHtml(map.name)}" data-kind="${map.kind}"></div>`;
  });
  return [
    "<h2>Category bigrams</h2>",
    '<p class="note">Each call is mapped to its category (docs/syscall-categories.md); each trace\'s bigram counts are ' +
      "divided by its number of bigrams, as the KS models see a trace, and averaged over the traces of the group. Rows: " +
      "the previous call's category; columns: the next call's.</p>",
    `<div class="side">${divs.join("\n")}</div>`,
  ].join("\n");
}

function separationHtml(p: DatasetProfile, charts: Chart[]): string {
  if (p.separation.length === 0) {
    return '<h2>Bigrams that separate the labels</h2><p class="note">Needs normal and attack traces.</p>';
  }
  charts.push(separationChart("chart-separation", p.separation, p.categories, RANKED));
  return [
    "<h2>Bigrams that separate the labels</h2>",
    `<p class="note">For each bigram, the two-sample Kolmogorov-Smirnov statistic between its per-trace share in ` +
      `${int(p.sides.normal)} normal and ${int(p.sides.attack)} attack traces (traces with at least one bigram): 1 means ` +
      "the two labels never overlap, 0 that they look alike.</p>",
    '<div class="chart" id="chart-separation"></div>',
  ].join("\n");
}

function distributionsHtml(p: DatasetProfile, charts: Chart[]): string {
  charts.push(histogramChart("chart-lengths", p.lengths, "Trace length per label", "calls per trace (log scale)"));
  charts.push(histogramChart("chart-distinct", p.distinct, "Distinct calls per trace per label", "distinct calls"));
  charts.push(syscallChart("chart-syscalls", p.topSyscalls));
  return [
    "<h2>Per label</h2>",
    '<div class="side"><div class="chart" id="chart-lengths"></div><div class="chart" id="chart-distinct"></div></div>',
    '<div class="chart" id="chart-syscalls"></div>',
  ].join("\n");
}

/** The inspect report: a complete HTML document that needs no network to be viewed. */
export function renderDatasetReport(profile: DatasetProfile): string {
  const charts: Chart[] = [];
  const body = [
    headerHtml(profile),
    heatmapsHtml(profile, charts),
    separationHtml(profile, charts),
    distributionsHtml(profile, charts),
    cleaningHtml(profile.cleaning, profile.inputs),
  ].join("\n");
  return vegaPage("homeostat inspect", body, charts, { style: STYLE });
}
