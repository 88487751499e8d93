// The frozen scoring table of the n-gram model (ngram.ts; Jalaly, "Anomalous System Call Detection via Static
// Analysis"): the smoothed surprisals (ngramSmoothing.ts) laid out so that scoring a call is one probe in the
// common case, rebuilt from the counts (ngramCounts.ts) after training or merging. Why a frozen one-probe table:
// docs/detectors.md, "The n-gram model". `advance` and the per-trace loop are the scoring hot loop: keep them here.

import type { NgramCounts } from "./ngramCounts.js";
import { backoffWeights, smoothedProbabilities } from "./ngramSmoothing.js";

/** (context, call) -> (next context, surprisal in bits), with each context's backoff cost. Never modified. */
export class NgramScoringTable {
  /** The context node after the last `advance`: a field, so that the hot loop allocates no pair. */
  nextNode = 0;
  // Slot i of the table is words 4i..4i+3 of one buffer: context node (-1 = empty), call, next context node,
  // surprisal in bits as float32. One slot is 16 bytes, so a probe touches one cache line, not four arrays.
  private readonly bits: Float32Array;

  private constructor(
    private readonly slots: Int32Array,
    private readonly mask: number,
    private readonly shift: number,
    private readonly backoffBits: Float64Array,
    private readonly rootUnseenBits: number,
    /** The counts' suffix links when the table was built; a change of the counts means a new table. */
    private readonly parent: Int32Array,
  ) {
    this.bits = new Float32Array(slots.buffer);
  }

  /** The table before the first build: holds nothing, and is never probed (the model builds before scoring). */
  static empty(): NgramScoringTable {
    return new NgramScoringTable(new Int32Array(0), 0, 0, new Float64Array(0), 0, new Int32Array(0));
  }

  /** Builds the table of an n-gram model of order `n` from its counts. */
  static build(counts: NgramCounts, n: number): NgramScoringTable {
    const entries = counts.pairs.size;
    const uniform = 1 / (counts.distinct[0]! + 1);
    const gamma = backoffWeights(counts);
    const backoffBits = new Float64Array(gamma.length);
    for (let h = 0; h < gamma.length; h++) backoffBits[h] = -Math.log2(gamma[h]!);
    const prob = smoothedProbabilities(counts, gamma, uniform);
    let cap = 2;
    while (cap < entries * 2) cap *= 2;
    const slots = new Int32Array(cap * 4);
    const mask = cap - 1;
    const shift = 32 - Math.log2(cap);
    fillSlots(counts, prob, n, slots, mask, shift);
    // An untrained model has no distribution at all: every call gets NaN ("no signal").
    const rootUnseenBits = entries === 0 ? Number.NaN : -Math.log2(gamma[0]! * uniform);
    return new NgramScoringTable(slots, mask, shift, backoffBits, rootUnseenBits, counts.parent);
  }

  /** Scores a trace from the empty context into `out` (at least as long as the trace). */
  scoreTrace(trace: Uint16Array, out: Float64Array): void {
    let node = 0;
    for (let i = 0; i < trace.length; i++) {
      out[i] = this.advance(node, trace[i]!);
      node = this.nextNode;
    }
  }

  /** Surprisal of `w` after context node `node`; leaves the next context node in `nextNode`. */
  advance(node: number, w: number): number {
    const slots = this.slots;
    const mask = this.mask;
    const shift = this.shift;
    let acc = 0;
    for (;;) {
      let s = Math.imul(node ^ Math.imul(w, 0x85ebca6b), 0x9e3779b1) >>> shift;
      for (;;) {
        const at = s << 2;
        const k = slots[at]!;
        if (k === node && slots[at + 1] === w) {
          this.nextNode = slots[at + 2]!;
          return acc + this.bits[at + 3]!;
        }
        if (k === -1) break;
        s = (s + 1) & mask;
      }
      if (node === 0) {
        this.nextNode = 0;
        return acc + this.rootUnseenBits;
      }
      acc += this.backoffBits[node]!;
      node = this.parent[node]!;
    }
  }

  memoryBytes(): number {
    return this.slots.byteLength + this.backoffBits.byteLength;
  }
}

/** Fills the open-addressing table `slots` (capacity mask + 1) with every counted (context, call) entry. */
function fillSlots(
  counts: NgramCounts,
  prob: Float64Array,
  n: number,
  slots: Int32Array,
  mask: number,
  shift: number,
): void {
  const bits = new Float32Array(slots.buffer);
  for (let s = 0; s <= mask; s++) slots[s * 4] = -1;
  const syms = new Int32Array(n);
  for (let e = 0; e < counts.pairs.size; e++) {
    const h = counts.pairs.a(e);
    const w = counts.pairs.b(e);
    let s = Math.imul(h ^ Math.imul(w, 0x85ebca6b), 0x9e3779b1) >>> shift;
    while (slots[s * 4] !== -1) s = (s + 1) & mask;
    slots[s * 4] = h;
    slots[s * 4 + 1] = w;
    slots[s * 4 + 2] = nextContext(counts, h, w, syms);
    bits[s * 4 + 3] = -Math.log2(prob[e]!);
  }
}

/**
 * The context after call w in context h: the longest suffix of (h, w) that is a node, walking from the root
 * through w, then h's calls from the most recent backwards (`syms` is scratch space of n slots).
 */
function nextContext(counts: NgramCounts, h: number, w: number, syms: Int32Array): number {
  let next = counts.findChild(0, w);
  if (next < 0) return 0;
  let k = 0;
  for (let y = h; y !== 0; y = counts.parent[y]!) syms[k++] = counts.children.b(y - 1);
  for (let i = k - 1; i >= 0; i--) {
    const c = counts.findChild(next, syms[i]!);
    if (c < 0) break;
    next = c;
  }
  return next;
}
