// The n-gram probabilistic model of normal (Jalaly, "Anomalous System Call Detection via Static Analysis": the
// likelihood of observed call sequences as the baseline): P(call | previous n-1 calls) with interpolated
// Witten-Bell (PPM-C) smoothing, signal the surprisal -log2 P in bits. Why this smoothing, the open vocabulary and
// the frozen one-probe scoring table: docs/detectors.md, "The n-gram model".

import { HomeostatError } from "../errors.js";
import { PayloadReader, PayloadWriter } from "./payload.js";
import type {
  Detector,
  DetectorFactory,
  DetectorOptions,
  DetectorState,
  SignalInfo,
  TraceLearner,
} from "./detector.js";
import { integerRange, realRange, resolveOptions } from "./detectorOptions.js";
import { PairTable } from "./pairTable.js";
import { countingLearner } from "./traceLearner.js";

export interface NgramOptions {
  /** n-gram length: the context is the previous n - 1 calls. */
  readonly n: number;
  /** Surprisal in bits at or above which a call is anomalous. */
  readonly threshold: number;
}

export const MAX_NGRAM_ORDER = 16;

/**
 * The largest threshold in bits: far past any surprisal a double can express (-log2 of the smallest one is 1074),
 * so it means "never anomalous" without being a number that misbehaves.
 */
const MAX_THRESHOLD_BITS = 1_000_000;

const OPTION_HELP = {
  n: {
    default: 6,
    help: `n-gram length 1..${MAX_NGRAM_ORDER}: P(call | previous n-1 calls)`,
    range: integerRange(1, MAX_NGRAM_ORDER),
  },
  threshold: {
    default: 10,
    help: "surprisal in bits (-log2 P) at or above which a call is anomalous",
    range: realRange(0, MAX_THRESHOLD_BITS, { minExclusive: true }),
  },
} as const;

const FORMAT_VERSION = 1;

/** Fills defaults and validates. Throws HomeostatError E_USAGE. */
export function resolveNgramOptions(options: Partial<Record<string, number | string | boolean>> = {}): NgramOptions {
  const o = resolveOptions("ngram", OPTION_HELP, options);
  return { n: o.n as number, threshold: o.threshold as number };
}

/**
 * Per-stream state: the trie node of the longest suffix of the history that is a training context, and the last
 * n - 1 calls, from which the node is found again when the model has been retrained or merged since (a longer
 * suffix may have become a context).
 */
export class NgramState implements DetectorState {
  node = 0;
  /** The model generation `node` belongs to. */
  generation: number;
  /** Ring buffer of the last calls; `head` is where the next call goes, `filled` how many are valid. */
  readonly history: Float64Array;
  head = 0;
  filled = 0;

  constructor(contextLength: number, generation: number) {
    this.history = new Float64Array(Math.max(1, contextLength));
    this.generation = generation;
  }

  reset(): void {
    this.node = 0;
    this.head = 0;
    this.filled = 0;
  }
}

export class NgramDetector implements Detector<NgramState> {
  readonly kind = "ngram";
  readonly options: DetectorOptions;
  readonly signal: SignalInfo;
  readonly mergeable = true;
  private readonly n: number;
  private calls = 0;
  private traces = 0;

  // Context trie. Node 0 is the empty context; node i >= 1 is entry i - 1 of `children`, keyed by
  // (parent node, oldest call), where the parent is the context without its oldest call (the suffix link).
  private readonly children = new PairTable(1024);
  private nodeCount = 1;
  private parent = new Int32Array(1024);
  private depth = new Uint8Array(1024);
  private total = new Float64Array(1024); // c(h): occurrences of the context
  private distinct = new Int32Array(1024); // T(h): distinct followers

  // (context node, call) -> entry; count per entry.
  private readonly pairs = new PairTable(4096);
  private count = new Float64Array(4096);

  // Frozen scoring tables (rebuilt after training or merging).
  private dirty = true;
  /** Bumped by every change of the counts; states of an older generation re-find their context node. */
  private generation = 0;
  // Slot i of the frozen table is words 4i..4i+3 of one buffer: context node (-1 = empty), call, next context node,
  // surprisal in bits as float32. One slot is 16 bytes, so a probe touches one cache line, not four arrays.
  private fSlots = new Int32Array(0);
  private fBits = new Float32Array(0);
  private fMask = 0;
  private fShift = 0;
  private backoffBits = new Float64Array(0);
  private rootUnseenBits = 0;
  private nextNode = 0;

  constructor(options: NgramOptions) {
    this.n = options.n;
    this.options = { n: options.n, threshold: options.threshold };
    this.signal = { kind: "surprisal", anomalousAt: options.threshold };
  }

  get trainedCalls(): number {
    return this.calls;
  }

  get trainedTraces(): number {
    return this.traces;
  }

  /** Distinct call ids seen in training (D); the alphabet has D + 1 symbols. */
  get alphabetSeen(): number {
    return this.distinct[0]!;
  }

  /** Training contexts (trie nodes, including the empty context). */
  get contexts(): number {
    return this.nodeCount;
  }

  train(traces: readonly Uint16Array[]): void {
    const maxContext = this.n - 1;
    for (const trace of traces) {
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
      this.calls += len;
    }
    this.traces += traces.length;
    this.changed();
  }

  learner(): TraceLearner {
    // The last n-1 calls, a ring whose next slot is `head`: the same contexts train reads from the trace.
    const history = new Uint16Array(Math.max(1, this.n - 1));
    let head = 0;
    return countingLearner(
      (w, t) => {
        this.countInContexts(w, t, history, head);
        history[head] = w;
        head = head + 1 === history.length ? 0 : head + 1;
      },
      (calls) => {
        this.calls += calls;
        this.traces++;
        this.changed();
      },
    );
  }

  /** Counts call `w`, the trace's `t`-th, after each context of the calls before it (newest before `head`). */
  private countInContexts(w: number, t: number, history: Uint16Array, head: number): void {
    const maxK = Math.min(t, this.n - 1);
    let node = 0;
    let at = head;
    for (let k = 0; ; k++) {
      this.addCount(node, w, 1);
      if (k === maxK) break;
      at = at === 0 ? history.length - 1 : at - 1;
      node = this.child(node, history[at]!);
    }
  }

  newState(): NgramState {
    return new NgramState(this.n - 1, this.generation);
  }

  step(state: NgramState, syscall: number): number {
    if (this.dirty) this.freeze();
    if (state.generation !== this.generation) this.resync(state);
    const bits = this.advance(state.node, syscall);
    state.node = this.nextNode;
    const h = state.history;
    h[state.head] = syscall;
    state.head = state.head + 1 === h.length ? 0 : state.head + 1;
    if (state.filled < h.length) state.filled++;
    return bits;
  }

  /** Finds a state's context node again from its recorded calls (after retraining or merging). */
  private resync(state: NgramState): void {
    const h = state.history;
    let node = 0;
    let at = state.head;
    const limit = Math.min(state.filled, this.n - 1);
    for (let i = 0; i < limit; i++) {
      at = at === 0 ? h.length - 1 : at - 1;
      const c = this.findChild(node, h[at]!);
      if (c < 0) break;
      node = c;
    }
    state.node = node;
    state.generation = this.generation;
  }

  private changed(): void {
    this.dirty = true;
    this.generation++;
  }

  scoreTrace(trace: Uint16Array, out: Float64Array): void {
    if (out.length < trace.length) {
      throw new HomeostatError("E_MODEL", `ngram: output holds ${out.length} values for a trace of ${trace.length}`);
    }
    if (this.dirty) this.freeze();
    let node = 0;
    for (let i = 0; i < trace.length; i++) {
      out[i] = this.advance(node, trace[i]!);
      node = this.nextNode;
    }
  }

  /**
   * P(call | context) under the model, where `context` lists the preceding calls oldest first (only the last n - 1
   * matter). Equals 2^-signal of a stream whose history ends with `context`.
   */
  probability(context: ArrayLike<number>, call: number): number {
    if (this.dirty) this.freeze();
    let node = 0;
    const stop = Math.max(0, context.length - (this.n - 1));
    for (let i = context.length - 1; i >= stop; i--) {
      const c = this.findChild(node, context[i]!);
      if (c < 0) break;
      node = c;
    }
    return 2 ** -this.advance(node, call);
  }

  merge(other: Detector): void {
    if (!(other instanceof NgramDetector) || other.kind !== this.kind) {
      throw new HomeostatError("E_MODEL", `ngram: cannot merge a "${other.kind}" detector into an ngram detector`);
    }
    if (other.n !== this.n || other.options.threshold !== this.options.threshold) {
      throw new HomeostatError(
        "E_MODEL",
        `ngram: cannot merge detectors with different options (n=${this.n}, threshold=${String(this.options.threshold)} ` +
          `vs n=${other.n}, threshold=${String(other.options.threshold)})`,
      );
    }
    if (other === this) {
      // Adding a table to itself doubles every count.
      for (let e = 0; e < this.pairs.size; e++) this.count[e]! *= 2;
      for (let h = 0; h < this.nodeCount; h++) this.total[h]! *= 2;
    } else {
      // Parents are created before children, so mapping nodes in id order always finds the parent mapped.
      const map = new Int32Array(other.nodeCount);
      for (let i = 1; i < other.nodeCount; i++) {
        map[i] = this.child(map[other.parent[i]!]!, other.children.b(i - 1));
      }
      for (let e = 0; e < other.pairs.size; e++) {
        this.addCount(map[other.pairs.a(e)]!, other.pairs.b(e), other.count[e]!);
      }
    }
    this.calls += other.calls;
    this.traces += other.traces;
    this.changed();
  }

  serialize(): Uint8Array {
    const w = new PayloadWriter();
    w.u32(FORMAT_VERSION);
    w.u32(this.n);
    w.f64(this.calls);
    w.f64(this.traces);
    w.u32(this.nodeCount);
    w.u32(this.pairs.size);
    for (let i = 1; i < this.nodeCount; i++) {
      w.i32(this.parent[i]!);
      w.u16(this.children.b(i - 1));
    }
    for (let e = 0; e < this.pairs.size; e++) {
      w.i32(this.pairs.a(e));
      w.u16(this.pairs.b(e));
      w.f64(this.count[e]!);
    }
    return w.finish();
  }

  /** Restores the counts written by `serialize`. Throws E_PARSE on malformed bytes, E_VERSION on another version. */
  static fromBytes(options: NgramOptions, bytes: Uint8Array): NgramDetector {
    const r = new PayloadReader(bytes, "ngram");
    r.version(FORMAT_VERSION, 4);
    const n = r.u32();
    if (n !== options.n) throw r.fail(`stored order n=${n} differs from the options' n=${options.n}`);
    const d = new NgramDetector(options);
    const calls = r.f64();
    const traces = r.f64();
    if (!(Number.isFinite(calls) && calls >= 0 && Number.isFinite(traces) && traces >= 0))
      throw r.fail("bad call or trace totals");
    const nodes = r.u32();
    const entries = r.u32();
    if (nodes < 1 || (nodes - 1) * 6 + entries * 14 > r.remaining) throw r.fail("node or entry count exceeds the data");
    for (let i = 1; i < nodes; i++) {
      const p = r.i32();
      const sym = r.u16();
      if (p < 0 || p >= i) throw r.fail(`node ${i} has parent ${p}, not an earlier node`);
      if (d.depth[p]! + 1 > n - 1) throw r.fail(`node ${i} is deeper than the order allows`);
      if (d.findChild(p, sym) >= 0) throw r.fail(`node ${i} duplicates an earlier node`);
      d.child(p, sym);
    }
    for (let e = 0; e < entries; e++) {
      const node = r.i32();
      const sym = r.u16();
      const c = r.f64();
      if (node < 0 || node >= nodes) throw r.fail(`count entry ${e} names node ${node} of ${nodes}`);
      if (!(Number.isFinite(c) && c > 0)) throw r.fail(`count entry ${e} has count ${c}`);
      if (d.pairs.find(node, sym) >= 0) throw r.fail(`count entry ${e} duplicates an earlier entry`);
      d.addCount(node, sym, c);
    }
    r.end();
    for (let h = 0; h < d.nodeCount; h++) {
      if (!(d.total[h]! > 0) && (h > 0 || entries > 0)) throw r.fail(`context node ${h} has no counts`);
    }
    d.calls = calls;
    d.traces = traces;
    return d;
  }

  memoryBytes(): number {
    return (
      this.children.memoryBytes() +
      this.pairs.memoryBytes() +
      this.parent.byteLength +
      this.depth.byteLength +
      this.total.byteLength +
      this.distinct.byteLength +
      this.count.byteLength +
      this.fSlots.byteLength +
      this.backoffBits.byteLength
    );
  }

  // ---- training tables ----

  private findChild(node: number, sym: number): number {
    const e = this.children.find(node, sym);
    return e < 0 ? -1 : e + 1;
  }

  /** The node of context `node` extended by an older call, created when new. */
  private child(node: number, sym: number): number {
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

  private addCount(node: number, sym: number, c: number): void {
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

  // ---- scoring ----

  /** Builds the frozen probability table from the counts. */
  private freeze(): void {
    const entries = this.pairs.size;
    const uniform = 1 / (this.distinct[0]! + 1);
    const gamma = this.backoffWeights();
    const backoffBits = new Float64Array(gamma.length);
    for (let h = 0; h < gamma.length; h++) backoffBits[h] = -Math.log2(gamma[h]!);
    this.buildScoringTable(this.probabilities(gamma, uniform));
    this.backoffBits = backoffBits;
    // An untrained model has no distribution at all: every call gets NaN ("no signal").
    this.rootUnseenBits = entries === 0 ? Number.NaN : -Math.log2(gamma[0]! * uniform);
    this.dirty = false;
  }

  /** Witten-Bell's weight of each context's lower order: distinct / (total + distinct). */
  private backoffWeights(): Float64Array {
    const nodes = this.nodeCount;
    const gamma = new Float64Array(nodes);
    for (let h = 0; h < nodes; h++) {
      const t = this.distinct[h]!;
      gamma[h] = t / (this.total[h]! + t);
    }
    return gamma;
  }

  /** The smoothed P(w | h) of every (context h, call w) entry, by entry. */
  private probabilities(gamma: Float64Array, uniform: number): Float64Array {
    const order = this.entriesInNodeOrder();
    const prob = new Float64Array(order.length);
    for (let i = 0; i < order.length; i++) {
      const e = order[i]!;
      const h = this.pairs.a(e);
      const lower = h === 0 ? uniform : this.suffixProbability(h, this.pairs.b(e), prob, gamma, uniform);
      const t = this.distinct[h]!;
      prob[e] = (this.count[e]! + t * lower) / (this.total[h]! + t);
    }
    return prob;
  }

  /**
   * Entries in node order: a context's suffix (its parent) has a smaller id, so its probabilities are ready when
   * the context's are computed.
   */
  private entriesInNodeOrder(): Int32Array {
    const nodes = this.nodeCount;
    const entries = this.pairs.size;
    const start = new Int32Array(nodes + 1);
    for (let e = 0; e < entries; e++) start[this.pairs.a(e) + 1]!++;
    for (let h = 0; h < nodes; h++) start[h + 1]! += start[h]!;
    const order = new Int32Array(entries);
    const fill = start.slice(0, nodes);
    for (let e = 0; e < entries; e++) order[fill[this.pairs.a(e)]!++] = e;
    return order;
  }

  /** P(w | suffix of context h) through the suffix chain, from the probabilities already computed. */
  private suffixProbability(h: number, w: number, prob: Float64Array, gamma: Float64Array, uniform: number): number {
    let s = this.parent[h]!;
    let mult = 1;
    for (;;) {
      const f = this.pairs.find(s, w);
      if (f >= 0) return mult * prob[f]!;
      mult *= gamma[s]!;
      if (s === 0) return mult * uniform;
      s = this.parent[s]!;
    }
  }

  /** The open-addressing table advance() reads: (context, call) -> (next context, surprisal in bits). */
  private buildScoringTable(prob: Float64Array): void {
    const entries = this.pairs.size;
    let cap = 2;
    while (cap < entries * 2) cap *= 2;
    const fSlots = new Int32Array(cap * 4);
    const fBits = new Float32Array(fSlots.buffer);
    for (let s = 0; s < cap; s++) fSlots[s * 4] = -1;
    const mask = cap - 1;
    const shift = 32 - Math.log2(cap);
    const syms = new Int32Array(this.n);
    for (let e = 0; e < entries; e++) {
      const h = this.pairs.a(e);
      const w = this.pairs.b(e);
      let s = Math.imul(h ^ Math.imul(w, 0x85ebca6b), 0x9e3779b1) >>> shift;
      while (fSlots[s * 4] !== -1) s = (s + 1) & mask;
      fSlots[s * 4] = h;
      fSlots[s * 4 + 1] = w;
      fSlots[s * 4 + 2] = this.nextContext(h, w, syms);
      fBits[s * 4 + 3] = -Math.log2(prob[e]!);
    }
    this.fSlots = fSlots;
    this.fBits = fBits;
    this.fMask = mask;
    this.fShift = shift;
  }

  /**
   * The context after call w in context h: the longest suffix of (h, w) that is a node, walking from the root
   * through w, then h's calls from the most recent backwards (`syms` is scratch space of n slots).
   */
  private nextContext(h: number, w: number, syms: Int32Array): number {
    let next = this.findChild(0, w);
    if (next < 0) return 0;
    let k = 0;
    for (let y = h; y !== 0; y = this.parent[y]!) syms[k++] = this.children.b(y - 1);
    for (let i = k - 1; i >= 0; i--) {
      const c = this.findChild(next, syms[i]!);
      if (c < 0) break;
      next = c;
    }
    return next;
  }

  /** Surprisal of `w` after context node `node`; leaves the next context node in `nextNode`. */
  private advance(node: number, w: number): number {
    const slots = this.fSlots;
    const mask = this.fMask;
    const shift = this.fShift;
    let acc = 0;
    for (;;) {
      let s = Math.imul(node ^ Math.imul(w, 0x85ebca6b), 0x9e3779b1) >>> shift;
      for (;;) {
        const at = s << 2;
        const k = slots[at]!;
        if (k === node && slots[at + 1] === w) {
          this.nextNode = slots[at + 2]!;
          return acc + this.fBits[at + 3]!;
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
}

export const ngramFactory: DetectorFactory<NgramDetector> = {
  kind: "ngram",
  description:
    "n-gram model of call sequences with interpolated Witten-Bell (PPM-C) smoothing; signal: surprisal -log2 P(call | previous n-1 calls) in bits",
  optionHelp: OPTION_HELP,
  create(options) {
    return new NgramDetector(resolveNgramOptions(options));
  },
  deserialize(options, bytes) {
    return NgramDetector.fromBytes(resolveNgramOptions(options), bytes);
  },
};
