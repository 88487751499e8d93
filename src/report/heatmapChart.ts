// A category-bigram heatmap: rows are the previous call's category, columns the next call's, one cell per bigram
// (31 x 31 for the syscall categories), coloured by the mean share of a trace's bigrams (on a square-root scale, so
// that the many small cells stay visible beside the few large ones), or, for a difference, by attack − normal on a
// diverging scale centred on zero. Category names label both axes.

import type { BigramHeatmap } from "../eval/categoryBigrams.js";
import type { Chart } from "./vegaPage.js";

const SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json";
/** Pixels per cell: 31 cells and the category names fit twice across the page. */
const CELL = 12;

function heatmapValues(map: BigramHeatmap, categories: readonly string[]): Record<string, unknown>[] {
  const C = categories.length;
  return map.cells.map((v, cell) => ({
    prev: categories[Math.floor(cell / C)],
    next: categories[cell % C],
    v,
  }));
}

function colourOf(map: BigramHeatmap): Record<string, unknown> {
  if (map.kind !== "difference") {
    return {
      field: "v",
      type: "quantitative",
      title: "mean share",
      scale: { type: "sqrt", range: ["#ffffff", "#08306b"], interpolate: "rgb", domainMin: 0 },
      legend: { format: ".1%", gradientLength: 200 },
    };
  }
  let extent = 0;
  for (const v of map.cells) extent = Math.max(extent, Math.abs(v));
  return {
    field: "v",
    type: "quantitative",
    title: "attack − normal",
    scale: { type: "symlog", constant: 1e-4, scheme: "redblue", reverse: true, domain: [-extent || -1, extent || 1] },
    legend: { format: "+.1%", gradientLength: 200 },
  };
}

/** The heatmap of one group as a chart with the given div id. */
export function heatmapChart(id: string, map: BigramHeatmap, categories: readonly string[]): Chart {
  const axis = { labelFontSize: 10, labelLimit: 170, titleFontSize: 11 };
  const subtitle =
    map.kind === "difference"
      ? "mean share of a trace's bigrams, attack traces minus normal traces (red: more in attacks)"
      : `${map.traces.toLocaleString("en-US")} traces; mean share of a trace's bigrams`;
  return {
    id,
    spec: {
      $schema: SCHEMA,
      title: { text: map.kind === "attackType" ? `attack type ${map.name}` : map.name, subtitle },
      data: { values: heatmapValues(map, categories) },
      width: CELL * categories.length,
      height: CELL * categories.length,
      mark: { type: "rect", stroke: "#ffffff", strokeWidth: 0.3 },
      encoding: {
        x: {
          field: "next",
          type: "ordinal",
          sort: categories,
          title: "next call's category",
          axis: { ...axis, labelAngle: -90 },
        },
        y: { field: "prev", type: "ordinal", sort: categories, title: "previous call's category", axis },
        color: colourOf(map),
        tooltip: [
          { field: "prev", title: "previous" },
          { field: "next", title: "next" },
          { field: "v", title: map.kind === "difference" ? "attack − normal" : "mean share", format: ".3%" },
        ],
      },
    },
  };
}
