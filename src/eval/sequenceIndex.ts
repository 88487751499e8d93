// The distinct call sequences of a data set, each with a dense id: an open-addressed table over typed arrays keyed
// by the two hash lanes and the length (sequenceHash.ts), and a reference to the first trace of each distinct
// sequence so that every hash match is confirmed by comparing the calls. Memory is the distinct calls, not the
// input: a trace identical to one already held is not kept. Past `maxHeldCalls` distinct calls, new sequences are
// indexed by hash and length alone; a later match with such a sequence is counted in `unconfirmed` instead of
// compared. The index keeps the arrays it is given (no copy): callers must not modify them afterwards.

import { hashCalls } from "./sequenceHash.js";

export type SequenceHashFunction = (calls: Uint16Array, out: Uint32Array) => void;

export interface SequenceIndexOptions {
  /** Most distinct calls held for confirming matches (default: no limit). */
  maxHeldCalls?: number;
  /** The hash (default hashCalls); tests pass weak ones to force collisions. */
  hash?: SequenceHashFunction;
}

const EMPTY = -1;

export class SequenceIndex {
  /** Matches of hash and length whose calls differed (resolved by the comparison). */
  collisions = 0;
  /** Matches taken on hash and length alone, because the earlier sequence was not held (over the budget). */
  unconfirmed = 0;
  private slots = new Int32Array(1024).fill(EMPTY);
  private laneA = new Uint32Array(256);
  private laneB = new Uint32Array(256);
  private lengths = new Float64Array(256);
  /** The calls of each sequence, or null when it was not held. */
  private readonly sequences: (Uint16Array | null)[] = [];
  private held = 0;
  private count = 0;
  private readonly lanes = new Uint32Array(2);
  private readonly maxHeld: number;
  private readonly hash: SequenceHashFunction;

  constructor(options: SequenceIndexOptions = {}) {
    this.maxHeld = options.maxHeldCalls ?? Number.POSITIVE_INFINITY;
    this.hash = options.hash ?? ((calls, out) => hashCalls(calls, out));
  }

  /** Distinct sequences indexed. */
  get size(): number {
    return this.count;
  }

  /** Distinct calls held for comparisons. */
  get heldCalls(): number {
    return this.held;
  }

  /** The id of `calls`: an earlier one when an identical sequence was added before, else a new id (= size - 1). */
  add(calls: Uint16Array): number {
    const found = this.probe(calls);
    if (found >= 0) return this.slots[found]!;
    return this.insert(calls, -1 - found);
  }

  /** The id of an identical sequence added before, or -1. */
  find(calls: Uint16Array): number {
    const found = this.probe(calls);
    return found >= 0 ? this.slots[found]! : -1;
  }

  /** The slot holding an identical sequence (>= 0), or -1 - the empty slot where it would go. */
  private probe(calls: Uint16Array): number {
    this.hash(calls, this.lanes);
    const a = this.lanes[0]!;
    const b = this.lanes[1]!;
    const n = calls.length;
    const mask = this.slots.length - 1;
    let s = (a ^ Math.imul(b, 0x9e3779b1) ^ n) & mask;
    for (;;) {
      const id = this.slots[s]!;
      if (id === EMPTY) return -1 - s;
      if (this.laneA[id] === a && this.laneB[id] === b && this.lengths[id] === n && this.sameCalls(id, calls)) {
        return s;
      }
      s = (s + 1) & mask;
    }
  }

  private sameCalls(id: number, calls: Uint16Array): boolean {
    const held = this.sequences[id]!;
    if (held === null) {
      this.unconfirmed++;
      return true;
    }
    for (let i = 0; i < calls.length; i++) {
      if (held[i] !== calls[i]) {
        this.collisions++;
        return false;
      }
    }
    return true;
  }

  private insert(calls: Uint16Array, slot: number): number {
    const id = this.count++;
    if (id === this.laneA.length) this.growRecords();
    this.laneA[id] = this.lanes[0]!;
    this.laneB[id] = this.lanes[1]!;
    this.lengths[id] = calls.length;
    this.sequences.push(this.held + calls.length <= this.maxHeld ? calls : null);
    if (this.sequences[id] !== null) this.held += calls.length;
    this.slots[slot] = id;
    if (this.count * 2 > this.slots.length) this.rehash();
    return id;
  }

  private growRecords(): void {
    const n = this.laneA.length * 2;
    const grow = <T extends Uint32Array | Float64Array>(a: T, make: (n: number) => T): T => {
      const b = make(n);
      b.set(a);
      return b;
    };
    this.laneA = grow(this.laneA, (k) => new Uint32Array(k));
    this.laneB = grow(this.laneB, (k) => new Uint32Array(k));
    this.lengths = grow(this.lengths, (k) => new Float64Array(k));
  }

  private rehash(): void {
    const slots = new Int32Array(this.slots.length * 2).fill(EMPTY);
    const mask = slots.length - 1;
    for (let id = 0; id < this.count; id++) {
      let s = (this.laneA[id]! ^ Math.imul(this.laneB[id]!, 0x9e3779b1) ^ this.lengths[id]!) & mask;
      while (slots[s] !== EMPTY) s = (s + 1) & mask;
      slots[s] = id;
    }
    this.slots = slots;
  }
}
