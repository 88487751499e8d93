// The console's Vega-Lite charts (rendered in the browser by console.js, as SVG): alerts per hour by rule, coloured
// by priority; one profile's anomaly alerts per hour; and the profile's learned bigrams (pH's lookahead pairs at lag
// 1) counted over the 31 syscall categories (syscalls/categories.ts), the same axes as the inspect report's
// category-bigram heatmaps (report/heatmapChart.ts).

import type { Chart } from "../report/vegaPage.js";
import { CATEGORIES, categoryIndex } from "../syscalls/categories.js";
import type { HourlyAlerts } from "./overviewQueries.js";

const SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json";

const PRIORITY_ORDER = ["Emergency", "Alert", "Critical", "Error", "Warning", "Notice", "Informational", "Debug"];
const PRIORITY_COLOURS = ["#67000d", "#a50f15", "#d7301f", "#fc8d59", "#fdcc8a", "#9ecae1", "#c6dbef", "#e0e0e0"];

/** Alerts per hour, one row of bars per rule, stacked by priority. */
export function alertsOverTimeChart(id: string, hourly: readonly HourlyAlerts[]): Chart {
  return {
    id,
    spec: {
      $schema: SCHEMA,
      title: { text: "Alerts per hour, by rule and priority", subtitle: "the last 7 days of alerts stored" },
      data: { values: hourly.map((h) => ({ time: h.hour * 3600 * 1000, rule: h.rule, priority: h.priority, n: h.n })) },
      mark: { type: "bar" },
      width: 900,
      height: 60,
      encoding: {
        x: { field: "time", type: "temporal", timeUnit: "yearmonthdatehours", title: "hour (UTC)" },
        y: { field: "n", type: "quantitative", aggregate: "sum", title: "alerts" },
        row: {
          field: "rule",
          type: "nominal",
          title: null,
          header: { labelAngle: 0, labelAlign: "left", labelLimit: 260 },
        },
        color: {
          field: "priority",
          type: "nominal",
          scale: { domain: PRIORITY_ORDER, range: PRIORITY_COLOURS },
          sort: PRIORITY_ORDER,
        },
      },
      resolve: { scale: { y: "independent" } },
      config: { timeFormatType: "utc" },
    },
  };
}

/** One profile's anomaly alerts per hour. */
export function anomaliesChart(id: string, perHour: readonly { hour: number; n: number }[]): Chart {
  return {
    id,
    spec: {
      $schema: SCHEMA,
      title: "Anomaly alerts per hour",
      data: { values: perHour.map((h) => ({ time: h.hour * 3600 * 1000, n: h.n })) },
      mark: { type: "bar", color: "#d7301f" },
      width: 700,
      height: 120,
      encoding: {
        x: { field: "time", type: "temporal", timeUnit: "yearmonthdatehours", title: "hour (UTC)" },
        y: { field: "n", type: "quantitative", title: "anomaly alerts" },
      },
    },
  };
}

/** Bigram counts over categories: cell prev * C + next, for pairs given as syscall names. */
export function categoryBigramCounts(pairs: readonly [string, string][]): number[] {
  const C = CATEGORIES.length;
  const cells = new Array<number>(C * C).fill(0);
  for (const [prev, next] of pairs) cells[categoryIndex(prev) * C + categoryIndex(next)]!++;
  return cells;
}

/** The heatmap of a profile's learned bigrams over syscall categories. */
export function bigramHeatmapChart(id: string, cells: readonly number[]): Chart {
  const C = CATEGORIES.length;
  const names = CATEGORIES.map((c) => c.name);
  const axis = { labelFontSize: 10, labelLimit: 170, titleFontSize: 11 };
  return {
    id,
    spec: {
      $schema: SCHEMA,
      title: { text: "Learned bigrams by syscall category", subtitle: "distinct pairs of consecutive calls learned" },
      data: {
        values: cells.map((v, cell) => ({ prev: names[Math.floor(cell / C)], next: names[cell % C], v })),
      },
      width: 12 * C,
      height: 12 * C,
      mark: { type: "rect", stroke: "#ffffff", strokeWidth: 0.3 },
      encoding: {
        x: { field: "next", type: "ordinal", sort: names, title: "call", axis: { ...axis, labelAngle: -60 } },
        y: { field: "prev", type: "ordinal", sort: names, title: "previous call", axis },
        color: {
          field: "v",
          type: "quantitative",
          title: "pairs",
          scale: { type: "sqrt", range: ["#ffffff", "#08306b"], interpolate: "rgb", domainMin: 0 },
        },
      },
    },
  };
}
