// The suffix automaton (DAWG: Blumer et al. 1985, "The smallest automaton recognizing the subwords of a text") of a
// set of traces, for the sequence-covering detector (sequenceCover.ts, after Marteau 2019). It accepts exactly the
// factors of the traces inserted, and no string that spans two of them: every trace is read from the root (the
// generalised construction), with the check for an existing transition that keeps it free of redundant states.
// Online and linear: at most 2n - 1 states and 3n - 4 transitions for n calls inserted.
//
// Everything lives in typed arrays: per state its longest length and suffix link; transitions in one open-addressing
// hash of (state, symbol) -> target whose slots hold all three side by side (a lookup touches one cache line and
// allocates nothing), and each state's symbols chained in insertion order so that cloning can copy its transitions. States are never removed, so a state id stays valid across insertions
// (a later clone may only take over the shorter strings of its class: see `rehome`).

import { HomeostatError } from "../errors.js";

/** The root: the empty string. Transitions never lead back to it. */
export const ROOT = 0;
/** No state (no transition, or the root's missing suffix link). */
export const NO_STATE = -1;

/** A bound well inside typed arrays' lengths: past it the model is far beyond any trace set it is meant for. */
const MAX_ITEMS = 2 ** 30;
const GOLDEN = 0x9e3779b1;

export class SuffixAutomaton {
  /** Per state: the length of its longest string. */
  private len = new Int32Array(64);
  /** Per state: its suffix link (NO_STATE for the root). */
  private link = new Int32Array(64);
  /** Per state: its first transition entry (NO_STATE when none). */
  private head = new Int32Array(64);
  private stateCount = 0;
  /** Per transition entry, for enumerating a state's transitions: its symbol and the source's next entry. */
  private eSym = new Uint16Array(64);
  private eNext = new Int32Array(64);
  private edgeCount = 0;
  /** Open addressing, linear probing, 3 Int32 a slot: source state + 1 (0 = empty), symbol, target. Half full. */
  private table = new Int32Array(3 * 128);
  private slots = 128;
  /** 32 - log2(slots): the hash keeps the top bits of a multiplicative mix (Fibonacci hashing). */
  private shift = 32 - 7;
  /**
   * The layout scoring reads (`go`), rebuilt after insertions: each state's transitions side by side, sorted by
   * symbol, at offsets indexed by state. A walk along a trace mostly visits states created one after the other, so
   * its reads stay close together, where the hash scatters them over the whole table.
   */
  private csrStart = new Int32Array(2);
  private csrSym = new Uint16Array(0);
  private csrTo = new Int32Array(0);
  private csrStale = true;

  constructor() {
    this.newState(0, NO_STATE);
  }

  /** States, the root included. */
  get states(): number {
    return this.stateCount;
  }

  /** Transitions. */
  get transitions(): number {
    return this.edgeCount;
  }

  /** The length of the longest string of state `s`. */
  lengthOf(s: number): number {
    return this.len[s]!;
  }

  /** The suffix link of state `s` (NO_STATE for the root). */
  linkOf(s: number): number {
    return this.link[s]!;
  }

  private slot(s: number, c: number): number {
    return Math.imul((s << 16) ^ (s >>> 16) ^ c, GOLDEN) >>> this.shift;
  }

  /** The table index of the slot of transition (s, c), or of the empty slot where it would go. */
  private probe(s: number, c: number): number {
    const table = this.table;
    const mask = this.slots - 1;
    const key = s + 1;
    for (let h = this.slot(s, c); ; h = (h + 1) & mask) {
      const at = h * 3;
      const k = table[at]!;
      if (k === 0 || (k === key && table[at + 1] === c)) return at;
    }
  }

  /** The state reached from `s` by call `c`, or NO_STATE (also for s = NO_STATE). Allocation-free. */
  next(s: number, c: number): number {
    if (s < 0) return NO_STATE;
    const at = this.probe(s, c);
    return this.table[at] === 0 ? NO_STATE : this.table[at + 2]!;
  }

  /**
   * The same as `next`, read from the scoring layout: call `prepare()` after the last insertion first. Allocation-free.
   */
  go(s: number, c: number): number {
    if (s < 0) return NO_STATE;
    let lo = this.csrStart[s]!;
    let hi = this.csrStart[s + 1]!;
    const sym = this.csrSym;
    while (hi - lo > 8) {
      const mid = (lo + hi) >>> 1;
      if (sym[mid]! <= c) lo = mid;
      else hi = mid;
    }
    for (let e = lo; e < hi; e++) if (sym[e] === c) return this.csrTo[e]!;
    return NO_STATE;
  }

  /** Rebuilds the scoring layout when insertions changed the automaton; cheap otherwise. */
  prepare(): void {
    if (!this.csrStale) return;
    const n = this.stateCount;
    const start = new Int32Array(n + 1);
    for (let s = 0; s < n; s++) {
      let d = 0;
      for (let e = this.head[s]!; e >= 0; e = this.eNext[e]!) d++;
      start[s + 1] = start[s]! + d;
    }
    const sym = new Uint16Array(this.edgeCount);
    const to = new Int32Array(this.edgeCount);
    for (let s = 0; s < n; s++) {
      const lo = start[s]!;
      let hi = lo;
      for (let e = this.head[s]!; e >= 0; e = this.eNext[e]!) {
        // Insertion sort by symbol: states have few transitions, and the root's are sorted once.
        const c = this.eSym[e]!;
        let i = hi++;
        for (; i > lo && sym[i - 1]! > c; i--) sym[i] = sym[i - 1]!;
        sym[i] = c;
      }
      for (let i = lo; i < hi; i++) to[i] = this.next(s, sym[i]!);
    }
    this.csrStart = start;
    this.csrSym = sym;
    this.csrTo = to;
    this.csrStale = false;
  }

  /** Whether the whole trace is a factor of what was inserted (the empty trace is). */
  isFactor(trace: Uint16Array): boolean {
    let s = ROOT;
    for (let i = 0; i < trace.length && s >= 0; i++) s = this.next(s, trace[i]!);
    return s >= 0;
  }

  /** Inserts one trace, read from the root, so that no factor spans it and another trace. */
  addTrace(trace: Uint16Array): void {
    let last = ROOT;
    for (let i = 0; i < trace.length; i++) last = this.extend(last, trace[i]!);
  }

  /**
   * Appends call `c` to the string whose state is `last` (its longest string is the trace so far); returns the
   * state of the string extended. Several traces may be extended in turn, each from its own `last`: a state's
   * longest string stays in it when a clone splits its class, so each `last` stays valid.
   */
  extend(last: number, c: number): number {
    const existing = this.next(last, c);
    if (existing >= 0) {
      // The extended string already occurs (in another trace): reuse its state, or split off the part of its
      // class that is no longer than it, so that the state's longest string is the trace so far.
      return this.len[existing] === this.len[last]! + 1 ? existing : this.split(last, c, existing);
    }
    const cur = this.newState(this.len[last]! + 1, ROOT);
    let p = last;
    while (p >= 0 && this.next(p, c) < 0) {
      this.addEdge(p, c, cur);
      p = this.link[p]!;
    }
    if (p >= 0) {
      const q = this.next(p, c);
      this.link[cur] = this.len[q] === this.len[p]! + 1 ? q : this.split(p, c, q);
    }
    return cur;
  }

  /**
   * Splits state q, reached from p by c, into a clone holding q's strings no longer than len(p) + 1 and q holding
   * the rest; redirects to the clone the transitions by c into q from p and its suffix ancestors. Returns the clone.
   */
  private split(p: number, c: number, q: number): number {
    const clone = this.newState(this.len[p]! + 1, this.link[q]!);
    for (let e = this.head[q]!; e >= 0; e = this.eNext[e]!) {
      this.addEdge(clone, this.eSym[e]!, this.next(q, this.eSym[e]!));
    }
    this.link[q] = clone;
    for (let s = p; s >= 0; s = this.link[s]!) {
      const at = this.probe(s, c);
      if (this.table[at] === 0 || this.table[at + 2] !== q) break;
      this.table[at + 2] = clone;
      this.csrStale = true;
    }
    return clone;
  }

  private newState(length: number, suffixLink: number): number {
    const s = this.stateCount;
    if (s === this.len.length) {
      const size = grownSize(s, "states");
      this.len = grow(this.len, size);
      this.link = grow(this.link, size);
      this.head = grow(this.head, size);
    }
    this.len[s] = length;
    this.link[s] = suffixLink;
    this.head[s] = NO_STATE;
    this.stateCount++;
    return s;
  }

  private addEdge(s: number, c: number, to: number): void {
    const e = this.edgeCount;
    if (e === this.eSym.length) {
      const size = grownSize(e, "transitions");
      this.eSym = grow(this.eSym, size);
      this.eNext = grow(this.eNext, size);
    }
    this.csrStale = true;
    this.eSym[e] = c;
    this.eNext[e] = this.head[s]!;
    this.head[s] = e;
    this.edgeCount++;
    if (this.edgeCount * 2 > this.slots) this.rehash(this.slots * 2);
    this.place(s, c, to);
  }

  private place(s: number, c: number, to: number): void {
    const at = this.probe(s, c);
    this.table[at] = s + 1;
    this.table[at + 1] = c;
    this.table[at + 2] = to;
  }

  private rehash(slots: number): void {
    const old = this.table;
    this.table = new Int32Array(3 * slots);
    this.slots = slots;
    this.shift = 32 - Math.log2(slots);
    for (let at = 0; at < old.length; at += 3) if (old[at] !== 0) this.place(old[at]! - 1, old[at + 1]!, old[at + 2]!);
  }

  /** Bytes the automaton holds. */
  memoryBytes(): number {
    return (
      this.len.byteLength +
      this.link.byteLength +
      this.head.byteLength +
      this.eSym.byteLength +
      this.eNext.byteLength +
      this.table.byteLength +
      this.csrStart.byteLength +
      this.csrSym.byteLength +
      this.csrTo.byteLength
    );
  }
}

function grownSize(used: number, what: string): number {
  if (used >= MAX_ITEMS) {
    throw new HomeostatError("E_LIMIT", `suffix automaton over ${MAX_ITEMS} ${what}: too much training data`);
  }
  return Math.min(MAX_ITEMS, used * 2);
}

function grow<T extends Int32Array | Uint16Array>(a: T, size: number): T {
  const out = new (a.constructor as new (n: number) => T)(size);
  out.set(a);
  return out;
}
