// Interpolated Witten-Bell (PPM-C) smoothing of the n-gram counts (ngramCounts.ts), for the n-gram model of
// Jalaly, "Anomalous System Call Detection via Static Analysis": every context mixes its own relative frequencies
// with its suffix's smoothed distribution, down to the uniform one over the open vocabulary. Why this smoothing:
// docs/detectors.md, "The n-gram model".

import type { NgramCounts } from "./ngramCounts.js";

/** Witten-Bell's weight of each context's lower order: distinct / (total + distinct). */
export function backoffWeights(counts: NgramCounts): Float64Array {
  const nodes = counts.nodeCount;
  const gamma = new Float64Array(nodes);
  for (let h = 0; h < nodes; h++) {
    const t = counts.distinct[h]!;
    gamma[h] = t / (counts.total[h]! + t);
  }
  return gamma;
}

/** The smoothed P(w | h) of every (context h, call w) entry, by entry. */
export function smoothedProbabilities(counts: NgramCounts, gamma: Float64Array, uniform: number): Float64Array {
  const order = entriesInNodeOrder(counts);
  const prob = new Float64Array(order.length);
  for (let i = 0; i < order.length; i++) {
    const e = order[i]!;
    const h = counts.pairs.a(e);
    const lower = h === 0 ? uniform : suffixProbability(counts, h, counts.pairs.b(e), prob, gamma, uniform);
    const t = counts.distinct[h]!;
    prob[e] = (counts.count[e]! + t * lower) / (counts.total[h]! + t);
  }
  return prob;
}

/**
 * Entries in node order: a context's suffix (its parent) has a smaller id, so its probabilities are ready when
 * the context's are computed.
 */
function entriesInNodeOrder(counts: NgramCounts): Int32Array {
  const nodes = counts.nodeCount;
  const entries = counts.pairs.size;
  const start = new Int32Array(nodes + 1);
  for (let e = 0; e < entries; e++) start[counts.pairs.a(e) + 1]!++;
  for (let h = 0; h < nodes; h++) start[h + 1]! += start[h]!;
  const order = new Int32Array(entries);
  const fill = start.slice(0, nodes);
  for (let e = 0; e < entries; e++) order[fill[counts.pairs.a(e)]!++] = e;
  return order;
}

/** P(w | suffix of context h) through the suffix chain, from the probabilities already computed. */
function suffixProbability(
  counts: NgramCounts,
  h: number,
  w: number,
  prob: Float64Array,
  gamma: Float64Array,
  uniform: number,
): number {
  let s = counts.parent[h]!;
  let mult = 1;
  for (;;) {
    const f = counts.pairs.find(s, w);
    if (f >= 0) return mult * prob[f]!;
    mult *= gamma[s]!;
    if (s === 0) return mult * uniform;
    s = counts.parent[s]!;
  }
}
