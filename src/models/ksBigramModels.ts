// The KS bigram classifier's models (ksBigram.ts): each raw segment histogram scaled so that its top cell is
// `scale`, clipped below `clip`, and kept as a CDF over one shared cell order, against which a sample's CDF is
// compared by the KS statistic. Why this scaling and this order: docs/ks-bigram.md, "Models" and "The test".

import type { Segments } from "./ksBigramCounts.js";
import type { CellOrder, KsBigramOptions } from "./ksBigramOptions.js";
import { cumulativeInOrder, ksStatistic } from "./ksTest.js";

export class KsModels {
  private constructor(
    /** Position j of the CDFs holds cell cellOrder[j]. */
    readonly cellOrder: Uint32Array,
    /** Scaled and clipped models, laid out as the raw segments. */
    readonly scaled: Float64Array,
    /** Each model's CDF in cellOrder, same layout. */
    readonly cdf: Float64Array,
  ) {}

  /** Builds the models of every segment with the given scale, clip and order. */
  static build(segments: Segments, opts: Pick<KsBigramOptions, "scale" | "clip" | "order">): KsModels {
    const { cells, raw } = segments;
    const m2 = 2 * segments.models;
    const cellOrder = cellOrderOf(segments, opts.order);
    const scaled = new Float64Array(m2 * cells);
    const cdf = new Float64Array(m2 * cells);
    const { scale, clip } = opts;
    const tmp = new Float64Array(cells);
    for (let s = 0; s < m2; s++) {
      const base = s * cells;
      let max = 0;
      for (let c = 0; c < cells; c++) if (raw[base + c]! > max) max = raw[base + c]!;
      const q = scale / max;
      for (let c = 0; c < cells; c++) {
        const x = raw[base + c]! * q;
        scaled[base + c] = x < clip ? 0 : x;
      }
      cumulativeInOrder(scaled.subarray(base, base + cells), cellOrder, tmp);
      cdf.set(tmp, base);
    }
    return new KsModels(cellOrder, scaled, cdf);
  }

  /**
   * Fills dist[0..2M) with the KS distance from a sample's bigram counts to every model; `sampleCdf` is scratch of
   * `cells` values. A sample without bigrams has no distribution: every distance is 1.
   */
  distances(counts: Float64Array, bigrams: number, sampleCdf: Float64Array, dist: Float64Array): void {
    if (bigrams === 0) {
      dist.fill(1);
      return;
    }
    const cells = sampleCdf.length;
    cumulativeInOrder(counts, this.cellOrder, sampleCdf);
    for (let s = 0; s < dist.length; s++) dist[s] = ksStatistic(sampleCdf, this.cdf, cells, s * cells);
  }

  memoryBytes(): number {
    return this.scaled.byteLength + this.cdf.byteLength + this.cellOrder.byteLength;
  }
}

/** The cells sorted by descending training frequency of one label or both, or in index order. */
function cellOrderOf(segments: Segments, order: CellOrder): Uint32Array {
  const { cells, models: m, raw, bigrams } = segments;
  const freq = [new Float64Array(cells), new Float64Array(cells)] as const;
  for (let label = 0; label < 2; label++) {
    const f = freq[label]!;
    let total = 0;
    for (let s = label * m; s < (label + 1) * m; s++) {
      const base = s * cells;
      for (let c = 0; c < cells; c++) f[c]! += raw[base + c]!;
      total += bigrams[s]!;
    }
    for (let c = 0; c < cells; c++) f[c]! /= total;
  }
  const idx = Array.from({ length: cells }, (_, i) => i);
  const [fb, fm] = freq;
  switch (order) {
    case "benign":
      idx.sort((a, b) => fb[b]! - fb[a]! || fm[b]! - fm[a]! || a - b);
      break;
    case "balanced":
      idx.sort((a, b) => fb[b]! + fm[b]! - (fb[a]! + fm[a]!) || a - b);
      break;
    case "index":
      break;
  }
  return Uint32Array.from(idx);
}

/**
 * Mean of the k = best.length smallest of dist[from, from+count), by insertion into the sorted buffer `best`.
 * Allocation-free.
 */
export function meanOfClosest(dist: Float64Array, from: number, count: number, best: Float64Array): number {
  const k = best.length;
  let filled = 0;
  for (let i = from; i < from + count; i++) {
    const d = dist[i]!;
    if (filled === k && d >= best[k - 1]!) continue;
    let j = filled < k ? filled++ : k - 1;
    while (j > 0 && best[j - 1]! > d) {
      best[j] = best[j - 1]!;
      j--;
    }
    best[j] = d;
  }
  let sum = 0;
  for (let i = 0; i < k; i++) sum += best[i]!;
  return sum / k;
}
