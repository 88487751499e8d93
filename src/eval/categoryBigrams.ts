// Category-bigram frequencies of a data set, as the KS bigram study looks at them (Bushouse, "Characterization of
// System Calls", Sandia; src/models/ksBigram.ts): each trace's calls mapped to their category, its bigram histogram
// normalised to sum 1 (the sample distribution the KS models compare), then averaged per group (a label, an attack
// type). And which bigrams separate normal from attack traces: per bigram, the two-sample KS statistic between its
// per-trace frequencies in normal traces and in attack traces. Traces with fewer than two calls have no bigram and
// take no part. Per-trace frequencies are kept sparse (only the bigrams a trace has), so memory follows the data.

import { twoSampleKs } from "./twoSampleKs.js";

/** The mean normalised bigram frequencies of one group, row-major: cell prev * C + next. */
export interface BigramHeatmap {
  name: string;
  kind: "label" | "attackType" | "difference";
  /** Traces averaged (those with at least one bigram). */
  traces: number;
  cells: number[];
}

/** How well one bigram separates the labels. */
export interface BigramSeparation {
  prev: number;
  next: number;
  /** Two-sample KS statistic of the per-trace frequencies, normal against attack. */
  d: number;
  meanNormal: number;
  meanAttack: number;
}

export type KsSide = "normal" | "attack";

export class CategoryBigrams {
  readonly cells: number;
  private readonly scratch: Float64Array;
  private readonly touched: Uint32Array;
  private readonly sums = new Map<string, { kind: BigramHeatmap["kind"]; traces: number; sum: Float64Array }>();
  /** Sparse per-trace frequencies of the KS sides: cell, value and side of each (trace, bigram) present. */
  private cellOf = new Uint32Array(1024);
  private valueOf = new Float64Array(1024);
  private sideOf = new Uint8Array(1024);
  private pairs = 0;
  private readonly sideTraces = [0, 0];

  constructor(readonly symbols: number) {
    this.cells = symbols * symbols;
    this.scratch = new Float64Array(this.cells);
    this.touched = new Uint32Array(this.cells);
  }

  /** Adds one trace: `lut` maps its ids to categories; `groups` are the heatmaps it counts in. */
  add(calls: Uint16Array, lut: Uint8Array, groups: readonly [BigramHeatmap["kind"], string][], side?: KsSide): void {
    const n = calls.length;
    if (n < 2) return;
    const touched = this.countInto(calls, lut);
    const scale = 1 / (n - 1);
    for (const [kind, name] of groups) {
      const key = `${kind}:${name}`;
      let g = this.sums.get(key);
      if (g === undefined) this.sums.set(key, (g = { kind, traces: 0, sum: new Float64Array(this.cells) }));
      g.traces++;
      for (let i = 0; i < touched; i++) g.sum[this.touched[i]!]! += this.scratch[this.touched[i]!]! * scale;
    }
    if (side !== undefined) this.keepSparse(touched, scale, side === "normal" ? 0 : 1);
    for (let i = 0; i < touched; i++) this.scratch[this.touched[i]!] = 0;
  }

  /** Counts the bigrams into scratch; returns how many distinct cells were touched (listed in `touched`). */
  private countInto(calls: Uint16Array, lut: Uint8Array): number {
    const C = this.symbols;
    const scratch = this.scratch;
    let touched = 0;
    let prevRow = lut[calls[0]!]! * C;
    for (let i = 1; i < calls.length; i++) {
      const c = lut[calls[i]!]!;
      const cell = prevRow + c;
      if (scratch[cell] === 0) this.touched[touched++] = cell;
      scratch[cell]!++;
      prevRow = c * C;
    }
    return touched;
  }

  private keepSparse(touched: number, scale: number, side: number): void {
    this.sideTraces[side]!++;
    if (this.pairs + touched > this.cellOf.length) this.grow(this.pairs + touched);
    for (let i = 0; i < touched; i++) {
      const cell = this.touched[i]!;
      this.cellOf[this.pairs] = cell;
      this.valueOf[this.pairs] = this.scratch[cell]! * scale;
      this.sideOf[this.pairs++] = side;
    }
  }

  private grow(min: number): void {
    const n = Math.max(min, this.cellOf.length * 2);
    const cells = new Uint32Array(n);
    cells.set(this.cellOf);
    const values = new Float64Array(n);
    values.set(this.valueOf);
    const sides = new Uint8Array(n);
    sides.set(this.sideOf);
    [this.cellOf, this.valueOf, this.sideOf] = [cells, values, sides];
  }

  /** The mean frequencies of every group, in order of first appearance. */
  heatmaps(): BigramHeatmap[] {
    return [...this.sums].map(([key, g]) => ({
      name: key.slice(key.indexOf(":") + 1),
      kind: g.kind,
      traces: g.traces,
      cells: Array.from(g.sum, (s) => (g.traces > 0 ? s / g.traces : 0)),
    }));
  }

  /** Traces on each KS side. */
  get sides(): { normal: number; attack: number } {
    return { normal: this.sideTraces[0]!, attack: this.sideTraces[1]! };
  }

  /** Every bigram present in some trace of either side, by descending D (ties: by cell). */
  separation(): BigramSeparation[] {
    const [nNormal, nAttack] = this.sideTraces as [number, number];
    const buckets = this.bucketsByCellAndSide();
    const out: BigramSeparation[] = [];
    for (let cell = 0; cell < this.cells; cell++) {
      const a = buckets[2 * cell]!;
      const b = buckets[2 * cell + 1]!;
      if (a.length === 0 && b.length === 0) continue;
      a.sort();
      b.sort();
      out.push({
        prev: Math.floor(cell / this.symbols),
        next: cell % this.symbols,
        d: twoSampleKs(a, nNormal, b, nAttack),
        meanNormal: nNormal > 0 ? sum(a) / nNormal : Number.NaN,
        meanAttack: nAttack > 0 ? sum(b) / nAttack : Number.NaN,
      });
    }
    return out.sort((x, y) => y.d - x.d || x.prev - y.prev || x.next - y.next);
  }

  /** The kept values grouped by (cell, side) with a counting sort: bucket 2 * cell + side. */
  private bucketsByCellAndSide(): Float64Array[] {
    const counts = new Uint32Array(2 * this.cells);
    for (let i = 0; i < this.pairs; i++) counts[2 * this.cellOf[i]! + this.sideOf[i]!]!++;
    const buckets = Array.from(counts, (c) => new Float64Array(c));
    const fill = new Uint32Array(2 * this.cells);
    for (let i = 0; i < this.pairs; i++) {
      const k = 2 * this.cellOf[i]! + this.sideOf[i]!;
      buckets[k]![fill[k]!++] = this.valueOf[i]!;
    }
    return buckets;
  }
}

function sum(xs: Float64Array): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i]!;
  return s;
}

/** attack − normal, cell by cell. */
export function heatmapDifference(normal: BigramHeatmap, attack: BigramHeatmap): BigramHeatmap {
  return {
    name: `${attack.name} − ${normal.name}`,
    kind: "difference",
    traces: normal.traces + attack.traces,
    cells: attack.cells.map((a, i) => a - normal.cells[i]!),
  };
}
