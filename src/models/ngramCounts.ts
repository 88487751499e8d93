// The training counts of the n-gram model (ngram.ts; Jalaly, "Anomalous System Call Detection via Static
// Analysis"): a trie of the contexts seen in training and the count of every (context, call) pair. Smoothing
// (ngramSmoothing.ts) and the frozen scoring table (ngramScoring.ts) are derived from these; they are what the
// payload stores (ngramCodec.ts). Counting a trace stays here, beside the table inserts its loops call.

import { PairTable } from "./pairTable.js";

/**
 * Context trie and counts. Node 0 is the empty context; node i >= 1 is entry i - 1 of `children`, keyed by
 * (parent node, oldest call), where the parent is the context without its oldest call (the suffix link).
 * The arrays are read by the smoothing, scoring and codec files but written only here.
 */
export class NgramCounts {
  readonly children = new PairTable(1024);
  nodeCount = 1;
  parent = new Int32Array(1024);
  depth = new Uint8Array(1024);
  total = new Float64Array(1024); // c(h): occurrences of the context
  distinct = new Int32Array(1024); // T(h): distinct followers

  // (context node, call) -> entry; count per entry.
  readonly pairs = new PairTable(4096);
  count = new Float64Array(4096);

  /** Counts every call of `trace` after each of its contexts of up to `maxContext` calls. */
  countTrace(trace: Uint16Array, maxContext: number): void {
    const len = trace.length;
    for (let t = 0; t < len; t++) {
      const w = trace[t]!;
      const maxK = Math.min(t, maxContext);
      let node = 0;
      for (let k = 0; ; k++) {
        this.addCount(node, w, 1);
        if (k === maxK) break;
        node = this.child(node, trace[t - k - 1]!);
      }
    }
  }

  /**
   * Counts call `w`, the trace's `t`-th, after each context of up to `maxContext` of the calls before it, read
   * from the ring `history` (newest before `head`): the same contexts `countTrace` reads from the trace.
   */
  countInContexts(w: number, t: number, history: Uint16Array, head: number, maxContext: number): void {
    const maxK = Math.min(t, maxContext);
    let node = 0;
    let at = head;
    for (let k = 0; ; k++) {
      this.addCount(node, w, 1);
      if (k === maxK) break;
      at = at === 0 ? history.length - 1 : at - 1;
      node = this.child(node, history[at]!);
    }
  }

  /** Adds another model's counts, as if its traces had been counted here too. */
  addAll(other: NgramCounts): void {
    // Parents are created before children, so mapping nodes in id order always finds the parent mapped.
    const map = new Int32Array(other.nodeCount);
    for (let i = 1; i < other.nodeCount; i++) {
      map[i] = this.child(map[other.parent[i]!]!, other.children.b(i - 1));
    }
    for (let e = 0; e < other.pairs.size; e++) {
      this.addCount(map[other.pairs.a(e)]!, other.pairs.b(e), other.count[e]!);
    }
  }

  /** Adding the counts to themselves doubles every count. */
  double(): void {
    for (let e = 0; e < this.pairs.size; e++) this.count[e]! *= 2;
    for (let h = 0; h < this.nodeCount; h++) this.total[h]! *= 2;
  }

  findChild(node: number, sym: number): number {
    const e = this.children.find(node, sym);
    return e < 0 ? -1 : e + 1;
  }

  /** The node of context `node` extended by an older call, created when new. */
  child(node: number, sym: number): number {
    const e = this.children.insert(node, sym);
    const id = e + 1;
    if (this.children.added) {
      if (id === this.parent.length) this.growNodes();
      this.parent[id] = node;
      this.depth[id] = this.depth[node]! + 1;
      this.nodeCount = id + 1;
    }
    return id;
  }

  addCount(node: number, sym: number, c: number): void {
    const e = this.pairs.insert(node, sym);
    if (this.pairs.added) {
      if (e >= this.count.length) {
        const next = new Float64Array(this.pairs.capacity);
        next.set(this.count);
        this.count = next;
      }
      this.distinct[node]!++;
    }
    this.count[e]! += c;
    this.total[node]! += c;
  }

  memoryBytes(): number {
    return (
      this.children.memoryBytes() +
      this.pairs.memoryBytes() +
      this.parent.byteLength +
      this.depth.byteLength +
      this.total.byteLength +
      this.distinct.byteLength +
      this.count.byteLength
    );
  }

  private growNodes(): void {
    const cap = this.parent.length * 2;
    const parent = new Int32Array(cap);
    parent.set(this.parent);
    this.parent = parent;
    const depth = new Uint8Array(cap);
    depth.set(this.depth);
    this.depth = depth;
    const total = new Float64Array(cap);
    total.set(this.total);
    this.total = total;
    const distinct = new Int32Array(cap);
    distinct.set(this.distinct);
    this.distinct = distinct;
  }
}
