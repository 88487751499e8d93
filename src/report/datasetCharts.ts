// The charts of the inspect report besides the heatmaps: the bigrams that separate normal from attack traces most
// (ranked bars of the two-sample KS statistic, named by their categories), the distributions of trace length and of
// distinct calls per trace per label, and the most frequent calls per label.

import type { BigramSeparation } from "../eval/categoryBigrams.js";
import type { SharedHistogram, SyscallShare } from "../eval/labelDistributions.js";
import type { Chart } from "./vegaPage.js";

const SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json";
const LABEL_COLOUR: Record<string, string> = { normal: "#4c78a8", attack: "#e45756", unlabelled: "#9aa3ad" };
const OTHER_COLOURS = ["#54a24b", "#f58518", "#b279a2", "#72b7b2"];

/** One colour per label present: normal blue, attack red, unlabelled grey, others from a palette. */
function labelColours(labels: readonly string[]): { domain: string[]; range: string[] } {
  const rank = (l: string): number => (l === "normal" ? 0 : l === "attack" ? 1 : 2);
  const domain = [...new Set(labels)].sort((a, b) => rank(a) - rank(b));
  return { domain, range: domain.map((l, i) => LABEL_COLOUR[l] ?? OTHER_COLOURS[i % OTHER_COLOURS.length]!) };
}

/** The `top` bigrams by KS statistic, as horizontal bars coloured by the label that uses them more. */
export function separationChart(
  id: string,
  separation: readonly BigramSeparation[],
  categories: readonly string[],
  top: number,
): Chart {
  const values = separation.slice(0, top).map((s, rank) => ({
    bigram: `${categories[s.prev]} → ${categories[s.next]}`,
    rank,
    d: s.d,
    more: s.meanAttack > s.meanNormal ? "more in attack traces" : "more in normal traces",
    meanNormal: s.meanNormal,
    meanAttack: s.meanAttack,
  }));
  return {
    id,
    spec: {
      $schema: SCHEMA,
      title: {
        text: `The ${values.length} category bigrams that separate normal from attack traces most`,
        subtitle: "two-sample KS statistic of each bigram's per-trace share, normal traces against attack traces",
      },
      data: { values },
      width: 520,
      height: { step: 16 },
      mark: "bar",
      encoding: {
        y: {
          field: "bigram",
          type: "nominal",
          title: null,
          sort: { field: "rank", order: "ascending" },
          axis: { labelLimit: 420, labelFontSize: 11 },
        },
        x: { field: "d", type: "quantitative", title: "KS statistic D", scale: { domain: [0, 1] } },
        color: {
          field: "more",
          type: "nominal",
          title: null,
          scale: { domain: ["more in normal traces", "more in attack traces"], range: ["#4c78a8", "#e45756"] },
          legend: { orient: "bottom" },
        },
        tooltip: [
          { field: "bigram" },
          { field: "d", title: "D", format: ".3f" },
          { field: "meanNormal", title: "mean share, normal", format: ".3%" },
          { field: "meanAttack", title: "mean share, attack", format: ".3%" },
        ],
      },
    },
  };
}

/** Per label, the share of its traces in each bin (labels overlaid). */
export function histogramChart(id: string, h: SharedHistogram, title: string, xTitle: string): Chart {
  const values = h.labels.flatMap((l) =>
    l.counts.map((n, i) => ({
      label: l.label,
      lo: h.edges[i]!,
      hi: h.edges[i + 1]!,
      traces: n,
      share: l.traces > 0 ? n / l.traces : 0,
    })),
  );
  return {
    id,
    spec: {
      $schema: SCHEMA,
      title: { text: title, subtitle: "share of each label's traces per bin" },
      data: { values },
      width: 460,
      height: 200,
      mark: { type: "bar", opacity: 0.6 },
      encoding: {
        x: {
          field: "lo",
          type: "quantitative",
          title: xTitle,
          scale: { type: h.log ? "log" : "linear", domain: [h.edges[0], h.edges[h.edges.length - 1]], nice: false },
        },
        x2: { field: "hi" },
        y: { field: "share", type: "quantitative", title: "share of traces", stack: null, axis: { format: "%" } },
        y2: { datum: 0 },
        color: { field: "label", type: "nominal", title: "label", scale: labelColours(h.labels.map((l) => l.label)) },
        tooltip: [
          { field: "label" },
          { field: "lo", title: "from", format: ",.0f" },
          { field: "hi", title: "to", format: ",.0f" },
          { field: "traces" },
          { field: "share", format: ".1%" },
        ],
      },
    },
  };
}

/** The most frequent calls, one group of bars per call, one bar per label. */
export function syscallChart(id: string, shares: readonly SyscallShare[]): Chart {
  const best = new Map<string, number>();
  for (const s of shares) best.set(s.name, Math.max(best.get(s.name) ?? 0, s.share));
  const order = [...best.keys()].sort((a, b) => best.get(b)! - best.get(a)! || a.localeCompare(b));
  return {
    id,
    spec: {
      $schema: SCHEMA,
      title: { text: "The most frequent system calls per label", subtitle: "share of the label's calls" },
      data: { values: shares.map((s) => ({ ...s })) },
      width: 460,
      height: { step: 9, for: "offset" },
      mark: "bar",
      encoding: {
        y: { field: "name", type: "nominal", title: null, sort: order, axis: { labelLimit: 200 } },
        yOffset: { field: "label" },
        x: { field: "share", type: "quantitative", title: "share of calls", axis: { format: "%" } },
        color: { field: "label", type: "nominal", title: "label", scale: labelColours(shares.map((s) => s.label)) },
        tooltip: [{ field: "name" }, { field: "label" }, { field: "count" }, { field: "share", format: ".2%" }],
      },
    },
  };
}
