// Per-label distributions of a data set, for the inspect report: trace lengths, distinct calls per trace, and the
// share of each system call in the label's calls. Histograms share their bins across labels so that the labels can
// be drawn over each other; lengths span orders of magnitude and get logarithmic bins.

import type { Vocabulary } from "../syscalls/vocabulary.js";

export interface LabelHistogram {
  label: string;
  traces: number;
  counts: number[];
}

/** Bins shared by every label: bin i is [edges[i], edges[i + 1]), the last one closed. */
export interface SharedHistogram {
  edges: number[];
  /** Logarithmic bins (lengths) or linear ones. */
  log: boolean;
  labels: LabelHistogram[];
}

export interface SyscallShare {
  label: string;
  name: string;
  count: number;
  /** count / the label's calls. */
  share: number;
}

interface LabelData {
  lengths: number[];
  distinct: number[];
  counts: Float64Array;
  calls: number;
}

export class LabelDistributions {
  private readonly labels = new Map<string, LabelData>();

  /** Adds one trace of `label`: its calls (ids) and how many distinct calls it has. */
  add(label: string, calls: Uint16Array, distinct: number): void {
    let d = this.labels.get(label);
    if (d === undefined)
      this.labels.set(label, (d = { lengths: [], distinct: [], counts: new Float64Array(64), calls: 0 }));
    d.lengths.push(calls.length);
    d.distinct.push(distinct);
    d.calls += calls.length;
    let counts = d.counts;
    for (let i = 0; i < calls.length; i++) {
      const id = calls[i]!;
      if (id >= counts.length) {
        const bigger = new Float64Array(Math.max(id + 1, counts.length * 2));
        bigger.set(counts);
        d.counts = counts = bigger;
      }
      counts[id]!++;
    }
  }

  lengthHistogram(bins = 30): SharedHistogram {
    return sharedHistogram(this.labels, (d) => d.lengths, bins, true);
  }

  distinctHistogram(bins = 30): SharedHistogram {
    return sharedHistogram(this.labels, (d) => d.distinct, bins, false);
  }

  /** The union of each label's `top` most frequent calls, with every label's share of each. */
  topSyscalls(vocab: Vocabulary, top: number): SyscallShare[] {
    const chosen = new Set<number>();
    for (const d of this.labels.values()) {
      const ids = Array.from(d.counts.keys()).filter((id) => d.counts[id]! > 0);
      ids.sort((a, b) => d.counts[b]! - d.counts[a]! || a - b);
      for (const id of ids.slice(0, top)) chosen.add(id);
    }
    const out: SyscallShare[] = [];
    for (const [label, d] of this.labels) {
      for (const id of chosen) {
        const count = id < d.counts.length ? d.counts[id]! : 0;
        out.push({ label, name: vocab.token(id), count, share: d.calls > 0 ? count / d.calls : 0 });
      }
    }
    return out;
  }
}

function sharedHistogram(
  labels: ReadonlyMap<string, LabelData>,
  values: (d: LabelData) => number[],
  bins: number,
  log: boolean,
): SharedHistogram {
  const t = (x: number): number => (log ? Math.log10(Math.max(1, x)) : x);
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const d of labels.values()) {
    for (const v of values(d)) {
      lo = Math.min(lo, t(v));
      hi = Math.max(hi, t(v));
    }
  }
  if (!Number.isFinite(lo)) [lo, hi] = [0, 1];
  if (hi === lo) hi = lo + 1;
  const width = (hi - lo) / bins;
  const edges = Array.from({ length: bins + 1 }, (_, i) => (log ? 10 ** (lo + i * width) : lo + i * width));
  const histograms = [...labels].map(([label, d]) => {
    const counts = new Array<number>(bins).fill(0);
    for (const v of values(d)) counts[Math.min(bins - 1, Math.floor((t(v) - lo) / width))]! += 1;
    return { label, traces: values(d).length, counts };
  });
  return { edges, log, labels: histograms };
}
