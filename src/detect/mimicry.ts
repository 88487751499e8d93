// Mimicry analysis (Wagner & Soto 2002, "Mimicry attacks on host-based intrusion detection systems"): the shortest
// sequence of system calls that reaches an attacker's goal calls without one call the model finds anomalous, or a
// proof that none exists. It works for every model whose per-stream state is a function of the last m calls
// (stide, t-stide, lookahead pairs, the n-gram model, the static set and digraph): the search's states are those
// contexts, finitely many, so an exhausted search is a proof. The model is asked through its own `step`, replayed on
// a fresh state, so the analysis cannot drift from how homeostat scores. Mismatch models give the fewest calls; the
// n-gram model the most probable path (least total surprisal) that stays under its alarm threshold.

import { HomeostatError } from "../errors.js";
import type { Detector, DetectorState } from "../models/detector.js";
import { MinHeap } from "./minHeap.js";

/** What to reach and from where. Calls are model ids (the profile's vocabulary). */
export interface MimicryQuery {
  /** The calls the attacker needs, in this order (other calls may come between them). */
  goal: readonly number[];
  /** Calls the stream made before the attacker took over; none: a new stream. */
  start?: readonly number[];
  /** The ids the attacker may use: 0..alphabet-1 (the profile's vocabulary, plus any goal id beyond it). */
  alphabet: number;
  /** States explored before the search gives up without a proof (default 1,000,000). */
  maxStates?: number;
}

export interface MimicryResult {
  /** Whether a sequence was found. */
  found: boolean;
  /** The calls to make after `start`, goal calls included, when found. */
  sequence: number[];
  /** Total signal along the sequence: bits of surprisal for the n-gram model, 0 for mismatch models. */
  cost: number;
  /** States explored. */
  explored: number;
  /** True when the search ran to its end: `found` false then proves that no such sequence exists. */
  complete: boolean;
  /** The calls of context the model's state depends on (m). */
  context: number;
}

/** How many previous calls a model's per-stream state depends on; E_USAGE for a model not finite in them. */
export function mimicryContext(detector: Detector): number {
  const o = detector.options;
  switch (detector.kind) {
    case "stide":
    case "tstide":
      return (o.k as number) - 1;
    case "lookahead":
      return (o.L as number) - 1;
    case "ngram":
      return (o.n as number) - 1;
    case "static":
      // Even the set model's state holds one bit beyond no calls: whether the stream has made its first call
      // (which alone may be the exec that started the program).
      return 1;
    default:
      throw new HomeostatError(
        "E_USAGE",
        `mimicry analysis needs a model whose state is its last calls (stide, tstide, lookahead, ngram, static), not ${detector.kind}`,
      );
  }
}

/** Searches the shortest (or, for surprisal models, most probable) unseen path to the goal calls. */
export function findMimicry<S extends DetectorState>(detector: Detector<S>, query: MimicryQuery): MimicryResult {
  const m = mimicryContext(detector);
  if (query.goal.length === 0) throw new HomeostatError("E_USAGE", "mimicry needs at least one goal call");
  const search = new MimicrySearch(detector, m, query);
  return search.run();
}

/** Search states: a context (the last <= m calls) and how many goal calls are done; stored in typed arrays. */
class MimicrySearch<S extends DetectorState> {
  private readonly state: S;
  private readonly surprisal: boolean;
  private readonly maxStates: number;
  private readonly index = new Map<number | string, number>();
  private ctx = new Uint16Array(0);
  private ctxLen = new Uint8Array(0);
  private done = new Uint8Array(0);
  private parent = new Int32Array(0);
  private via = new Int32Array(0);
  private cost = new Float64Array(0);
  private steps = new Int32Array(0);
  private closed = new Uint8Array(0);
  private count = 0;
  private readonly heap = new MinHeap();
  private readonly next: Uint16Array;

  constructor(
    private readonly detector: Detector<S>,
    private readonly m: number,
    private readonly query: MimicryQuery,
  ) {
    this.state = detector.newState();
    this.surprisal = detector.signal.kind === "surprisal";
    this.maxStates = query.maxStates ?? 1_000_000;
    this.next = new Uint16Array(m + 1);
  }

  run(): MimicryResult {
    const given = this.query.start ?? [];
    const start = given.slice(given.length - Math.min(this.m, given.length));
    this.visit(Uint16Array.from(start), 0, -1, -1, 0, 0);
    let explored = 0;
    for (;;) {
      const node = this.heap.pop();
      if (node < 0) return this.result(false, -1, explored, true);
      if (this.closed[node] === 1) continue;
      this.closed[node] = 1;
      explored++;
      if (this.done[node] === this.query.goal.length) return this.result(true, node, explored, true);
      if (explored > this.maxStates) return this.result(false, -1, explored, false);
      this.expand(node);
    }
  }

  /** Every call that the model accepts after this node's context leads to a successor. */
  private expand(node: number): void {
    const m = this.m;
    const len = this.ctxLen[node]!;
    const next = this.next;
    // The successor context: the last m calls of this context and the new one (none when m is 0).
    const keep = Math.max(0, Math.min(len, m - 1));
    for (let i = 0; i < keep; i++) next[i] = this.ctx[node * m + (len - keep) + i]!;
    const goal = this.query.goal;
    const done = this.done[node]!;
    for (let c = 0; c < this.query.alphabet; c++) {
      const signal = this.signalAfter(node, c);
      if (signal >= this.detector.signal.anomalousAt) continue;
      const add = this.surprisal && Number.isFinite(signal) ? signal : 0;
      next[keep] = c;
      const d = done < goal.length && goal[done] === c ? done + 1 : done;
      this.visit(next.subarray(0, Math.min(m, keep + 1)), d, node, c, this.cost[node]! + add, this.steps[node]! + 1);
    }
  }

  /** The model's signal for call c after the node's context, on a fresh state (NaN: not scored). */
  private signalAfter(node: number, c: number): number {
    const s = this.state;
    s.reset();
    const base = node * this.m;
    const len = this.ctxLen[node]!;
    for (let i = 0; i < len; i++) this.detector.step(s, this.ctx[base + i]!);
    return this.detector.step(s, c);
  }

  private visit(context: Uint16Array, done: number, parent: number, via: number, cost: number, steps: number): void {
    const key = this.keyOf(context, done);
    let node = this.index.get(key);
    if (node === undefined) {
      node = this.add(context, done);
      this.index.set(key, node);
    } else if (this.closed[node] === 1 || !better(cost, steps, this.cost[node]!, this.steps[node]!)) return;
    this.parent[node] = parent;
    this.via[node] = via;
    this.cost[node] = cost;
    this.steps[node] = steps;
    this.heap.push(node, this.surprisal ? cost : steps, steps);
  }

  /** A number when the context and goal count fit a double exactly, else a string. */
  private keyOf(context: Uint16Array, done: number): number | string {
    const base = this.query.alphabet + 1;
    const goals = this.query.goal.length + 1;
    if (Math.pow(base, this.m) * (this.m + 1) * goals < Number.MAX_SAFE_INTEGER) {
      let k = 0;
      for (let i = 0; i < context.length; i++) k = k * base + context[i]! + 1;
      return (k * (this.m + 1) + context.length) * goals + done;
    }
    return `${context.join(",")}/${done}`;
  }

  private add(context: Uint16Array, done: number): number {
    const n = this.count++;
    if (n === this.parent.length) this.grow(Math.max(1024, n * 2));
    this.ctx.set(context, n * this.m);
    this.ctxLen[n] = context.length;
    this.done[n] = done;
    this.closed[n] = 0;
    return n;
  }

  private grow(size: number): void {
    const m = this.m;
    this.ctx = resized(this.ctx, size * m);
    this.ctxLen = resized(this.ctxLen, size);
    this.done = resized(this.done, size);
    this.parent = resized(this.parent, size);
    this.via = resized(this.via, size);
    this.cost = resized(this.cost, size);
    this.steps = resized(this.steps, size);
    this.closed = resized(this.closed, size);
  }

  private result(found: boolean, node: number, explored: number, complete: boolean): MimicryResult {
    const sequence: number[] = [];
    for (let n = node; n >= 0 && this.parent[n]! >= 0; n = this.parent[n]!) sequence.push(this.via[n]!);
    sequence.reverse();
    return { found, sequence, cost: found ? this.cost[node]! : 0, explored, complete, context: this.m };
  }
}

/** Lower cost first, then fewer calls. */
function better(cost: number, steps: number, oldCost: number, oldSteps: number): boolean {
  return cost < oldCost || (cost === oldCost && steps < oldSteps);
}

function resized<T extends Uint8Array | Uint16Array | Int32Array | Float64Array>(a: T, size: number): T {
  const b = new (a.constructor as new (n: number) => T)(size);
  b.set(a);
  return b;
}
