// The stored form of the n-gram model (ngram.ts; Jalaly, "Anomalous System Call Detection via Static Analysis"),
// format version 1: the order, the training totals, the context trie and the (context, call) counts
// (ngramCounts.ts). Only counts are stored; the smoothed scoring table is rebuilt on load, so it never disagrees
// with them. Saved models must keep loading: change the layout only with a new version.

import { NgramCounts } from "./ngramCounts.js";
import { PayloadReader, PayloadWriter } from "./payload.js";

const FORMAT_VERSION = 1;

/** Everything a stored n-gram model holds. */
export interface NgramRecord {
  readonly n: number;
  readonly calls: number;
  readonly traces: number;
  readonly counts: NgramCounts;
}

export function encodeNgram(record: NgramRecord): Uint8Array {
  const { counts } = record;
  const w = new PayloadWriter();
  w.u32(FORMAT_VERSION);
  w.u32(record.n);
  w.f64(record.calls);
  w.f64(record.traces);
  w.u32(counts.nodeCount);
  w.u32(counts.pairs.size);
  for (let i = 1; i < counts.nodeCount; i++) {
    w.i32(counts.parent[i]!);
    w.u16(counts.children.b(i - 1));
  }
  for (let e = 0; e < counts.pairs.size; e++) {
    w.i32(counts.pairs.a(e));
    w.u16(counts.pairs.b(e));
    w.f64(counts.count[e]!);
  }
  return w.finish();
}

/**
 * Reads what `encodeNgram` wrote for a model of order `n`. Throws E_PARSE on malformed bytes (or another order),
 * E_VERSION on another version.
 */
export function decodeNgram(n: number, bytes: Uint8Array): NgramRecord {
  const r = new PayloadReader(bytes, "ngram");
  r.version(FORMAT_VERSION, 4);
  const stored = r.u32();
  if (stored !== n) throw r.fail(`stored order n=${stored} differs from the options' n=${n}`);
  const counts = new NgramCounts();
  const calls = r.f64();
  const traces = r.f64();
  if (!(Number.isFinite(calls) && calls >= 0 && Number.isFinite(traces) && traces >= 0))
    throw r.fail("bad call or trace totals");
  const nodes = r.u32();
  const entries = r.u32();
  if (nodes < 1 || (nodes - 1) * 6 + entries * 14 > r.remaining) throw r.fail("node or entry count exceeds the data");
  readNodes(r, counts, nodes, n);
  readEntries(r, counts, nodes, entries);
  r.end();
  for (let h = 0; h < counts.nodeCount; h++) {
    if (!(counts.total[h]! > 0) && (h > 0 || entries > 0)) throw r.fail(`context node ${h} has no counts`);
  }
  return { n, calls, traces, counts };
}

/** Reads the context trie: each node after the root as (parent, oldest call), parents first. */
function readNodes(r: PayloadReader, counts: NgramCounts, nodes: number, n: number): void {
  for (let i = 1; i < nodes; i++) {
    const p = r.i32();
    const sym = r.u16();
    if (p < 0 || p >= i) throw r.fail(`node ${i} has parent ${p}, not an earlier node`);
    if (counts.depth[p]! + 1 > n - 1) throw r.fail(`node ${i} is deeper than the order allows`);
    if (counts.findChild(p, sym) >= 0) throw r.fail(`node ${i} duplicates an earlier node`);
    counts.child(p, sym);
  }
}

/** Reads the (context, call) counts. */
function readEntries(r: PayloadReader, counts: NgramCounts, nodes: number, entries: number): void {
  for (let e = 0; e < entries; e++) {
    const node = r.i32();
    const sym = r.u16();
    const c = r.f64();
    if (node < 0 || node >= nodes) throw r.fail(`count entry ${e} names node ${node} of ${nodes}`);
    if (!(Number.isFinite(c) && c > 0)) throw r.fail(`count entry ${e} has count ${c}`);
    if (counts.pairs.find(node, sym) >= 0) throw r.fail(`count entry ${e} duplicates an earlier entry`);
    counts.addCount(node, sym, c);
  }
}
