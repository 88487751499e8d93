// The database of distinct length-k windows of system calls that stide and t-stide share (Forrest, Hofmeyr,
// Somayaji & Longstaff 1996; Hofmeyr, Forrest & Somayaji 1998; Warrender, Forrest & Pearlmutter 1999), with an
// occurrence count per window, and the rolling per-stream window state that looks windows up call by call.
//
// A window is keyed by 64 bits held as two int32 halves, side by side in one array, in an open-addressing table
// (linear probing, load <= 1/2, multiplicative hashing):
// - packed mode, when k * bits(maxId + 1) <= 64: the key IS the window, each call stored as id + 1 in `bits` bits
//   (oldest call in the high bits), so equal keys mean equal windows and a lookup never needs the window itself.
//   No stored window has a zero field, and the newest call sits in the low half, so a zero low half marks an empty
//   slot. A call never seen in training enters the key as 0, so every window holding it misses, with no extra test.
// - hashed mode, otherwise (long windows, large vocabularies): the key is two independent rolling polynomial
//   hashes (low half forced odd, so never empty), and the exact window is kept in a pool and compared on a key
//   match, so a hash collision can never make an unseen window match (exactness does not rest on the hash).
// Both keys roll in O(1) per call. A per-stream WindowState holds the last k calls twice over in a 2k ring, so the
// current window is always the contiguous run buf[pos+1 .. pos+k]: verification and Hamming distance read it
// without copying. Nothing on the per-call path allocates.

import { HomeostatError } from "../errors.js";
import type { DetectorState } from "./detector.js";
import type { PayloadReader, PayloadWriter } from "./payload.js";

/** Smallest and largest window length. */
export const MIN_WINDOW = 2;
export const MAX_WINDOW = 256;

/** Knobs for tests only: force hashed mode and weaken the hash to provoke collisions. */
export interface WindowTableTuning {
  forceHashed?: boolean;
  /** ANDed into both 32-bit hash halves in hashed mode (e.g. 0x3 makes nearly every window collide). */
  hashMask?: number;
}

const BASE_LO = 0x01000193; // two odd multipliers for the two polynomial hashes
const BASE_HI = 0x5bd1e995;
const INITIAL_CAPACITY = 1024;
/** Whether this host lays out a 64-bit integer low 32-bit half first (how packed keys are sorted as BigUint64s). */
const LOW_HALF_FIRST = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Per-stream rolling state: the last k calls (twice over) and the rolling key of the window ending at the last call. */
export class WindowState implements DetectorState {
  readonly k: number;
  /** buf[j] === buf[j + k]; the current window (oldest first) is buf[pos + 1 .. pos + k]. */
  readonly buf: Uint16Array;
  pos: number;
  /** Calls seen since the stream's beginning. */
  seen = 0;
  hi = 0;
  lo = 0;
  /** The table epoch the rolling key was computed for; a mismatch makes the table recompute it from `buf`. */
  epoch = -1;

  constructor(k: number) {
    this.k = k;
    this.buf = new Uint16Array(2 * k);
    this.pos = k - 1;
  }

  reset(): void {
    this.pos = this.k - 1;
    this.seen = 0;
    this.hi = 0;
    this.lo = 0;
    this.epoch = -1;
  }

  /** Whether a whole window has been seen. */
  get complete(): boolean {
    return this.seen >= this.k;
  }
}

/** A trace being learnt call by call: its window state and the largest id it has shown so far. */
export class WindowLearning {
  readonly state: WindowState;
  maxId = -1;
  constructor(k: number) {
    this.state = new WindowState(k);
  }
}

/** The windows of a table in lexicographic order, flattened (window i is windows[i*k .. i*k+k)), with counts. */
export interface WindowList {
  readonly windows: Uint16Array;
  readonly counts: Uint32Array;
}

/** Where probing starts for key (hi, lo) in a table of 2^(32 - shift) slots: multiplicative hashing, top bits. */
function slotOf(hi: number, lo: number, shift: number): number {
  return Math.imul(lo ^ Math.imul(hi, 0x9e3779b1), 0x85ebca6b) >>> shift;
}

/** Whether window i of a flattened list comes after window i - 1 in lexicographic order. */
function windowAfter(windows: Uint16Array, i: number, k: number): boolean {
  let d = 0;
  for (let j = 0; j < k && d === 0; j++) d = windows[i * k + j]! - windows[(i - 1) * k + j]!;
  return d > 0;
}

/** Bits per call in a packed key: calls are stored as id + 1, so 1 .. maxId + 1 must fit. */
function bitsFor(maxId: number): number {
  return Math.max(1, 32 - Math.clz32(maxId + 1));
}

function powMod32(base: number, exp: number): number {
  let r = 1;
  for (let i = 0; i < exp; i++) r = Math.imul(r, base);
  return r;
}

export class WindowTable {
  readonly k: number;
  /** Whether per-window counts are kept (t-stide); stide keeps only the set. */
  readonly counted: boolean;
  private readonly forceHashed: boolean;
  private readonly hashMask: number;
  private readonly powLo: number;
  private readonly powHi: number;

  /** Key mode and packing, set from maxId by `configure`. */
  private packed = true;
  private bits = 1;
  private loMask = 0;
  private hiMask = 0;
  /** Largest id in any stored window (-1 when empty). */
  private maxIdValue = -1;

  private sizeValue = 0;
  /** All windows inserted, with multiplicity (t-stide's denominator). */
  private totalValue = 0;
  /** Bumped whenever the table changes, so that states and caches know to recompute. */
  private epochValue = 0;

  /** Slot s holds its key's low half at keys[2s] and high half at keys[2s + 1] (one cache line per probe). */
  private keys = new Int32Array(2 * INITIAL_CAPACITY);
  private counts: Uint32Array | null;
  /** Hashed mode: slot -> index of the window in `pool`. */
  private entries: Int32Array | null = null;
  private pool: Uint16Array = new Uint16Array(0);
  private poolWindows = 0;
  private cmask = INITIAL_CAPACITY - 1;
  private shift = Math.clz32(INITIAL_CAPACITY) + 1;

  private listCache: WindowList | null = null;
  private listEpoch = -1;
  private scratch: WindowState;

  constructor(k: number, counted: boolean, tuning: WindowTableTuning = {}) {
    if (!Number.isInteger(k) || k < MIN_WINDOW || k > MAX_WINDOW) {
      throw new HomeostatError(
        "E_USAGE",
        `window length must be a whole number from ${MIN_WINDOW} to ${MAX_WINDOW}, not ${k}`,
      );
    }
    this.k = k;
    this.counted = counted;
    this.counts = counted ? new Uint32Array(INITIAL_CAPACITY) : null;
    this.forceHashed = tuning.forceHashed === true;
    this.hashMask = tuning.hashMask ?? -1;
    this.powLo = powMod32(BASE_LO, k);
    this.powHi = powMod32(BASE_HI, k);
    this.scratch = new WindowState(k);
    this.configure(-1);
  }

  /** Distinct windows stored. */
  get size(): number {
    return this.sizeValue;
  }

  /** Windows inserted with multiplicity (every complete window of every training trace). */
  get total(): number {
    return this.totalValue;
  }

  get maxId(): number {
    return this.maxIdValue;
  }

  get epoch(): number {
    return this.epochValue;
  }

  /** Whether keys are exact packed windows (true) or verified hashes (false). */
  get isPacked(): boolean {
    return this.packed;
  }

  newState(): WindowState {
    return new WindowState(this.k);
  }

  /** Adds every complete window of every trace. */
  addTraces(traces: readonly Uint16Array[]): void {
    const k = this.k;
    let maxId = this.maxIdValue;
    for (const t of traces) {
      if (t.length < k) continue;
      for (let i = 0; i < t.length; i++) if (t[i]! > maxId) maxId = t[i]!;
    }
    this.grow(maxId);
    const st = this.scratch;
    for (const t of traces) {
      if (t.length < k) continue;
      st.reset();
      st.epoch = this.epochValue;
      for (let i = 0; i < t.length; i++) {
        this.advance(st, t[i]!);
        if (st.seen >= k) this.insertCurrent(st, 1);
      }
      this.totalValue += t.length - k + 1;
    }
    this.trimPool();
    this.epochValue++;
  }

  /** A stream to learn call by call with `learnCall` (for traces too long to hold). */
  newLearning(): WindowLearning {
    return new WindowLearning(this.k);
  }

  /**
   * Adds one call of a trace being learnt, and the window it completes: the same windows, counts and largest id as
   * addTraces on the whole trace (ids of a trace shorter than k never count), so the table ends up the same.
   */
  learnCall(learning: WindowLearning, id: number): void {
    const st = learning.state;
    if (id > learning.maxId) learning.maxId = id;
    // Grown before the call enters the key: packed keys hold ids above maxId as 0.
    if (st.seen + 1 >= this.k && learning.maxId > this.maxIdValue) this.grow(learning.maxId);
    if (st.epoch !== this.epochValue) this.resync(st);
    this.advance(st, id);
    if (st.seen < this.k) return;
    this.insertCurrent(st, 1);
    this.totalValue++;
  }

  /** Ends a batch of `learnCall`s (a trace learnt). */
  endLearning(): void {
    this.trimPool();
    this.epochValue++;
  }

  /** Adds another table's windows and counts (same k). */
  mergeFrom(other: WindowTable): void {
    const list = other.list();
    this.grow(other.maxIdValue);
    this.insertList(list);
    this.totalValue += other.totalValue;
    this.trimPool();
    this.epochValue++;
  }

  /** Advances a stream by one call; returns the slot of the window ending here, -1 when unseen, -2 when incomplete. */
  stepSlot(state: WindowState, id: number): number {
    if (state.epoch !== this.epochValue) this.resync(state);
    this.advance(state, id);
    if (state.seen < this.k) return -2;
    return this.findCurrent(state);
  }

  /**
   * Scores a trace as a fresh stream: out[i] = NaN before the first complete window, else 1 when the window ending at
   * i is not stored or its count is below minCount (t-stide's rare windows; 0 disables), else 0.
   */
  scoreTrace(trace: Uint16Array, out: Float64Array, minCount: number): void {
    const k = this.k;
    const n = trace.length;
    if (!this.packed) {
      this.scoreTraceHashed(trace, out, minCount);
      return;
    }
    // The packed fast path, inlined: the same arithmetic as advance() + findCurrent().
    const bits = this.bits;
    const back = 32 - bits;
    const loMask = this.loMask;
    const hiMask = this.hiMask;
    const maxId = this.maxIdValue;
    const keys = this.keys;
    const cmask = this.cmask;
    const shift = this.shift;
    const counts = this.counts;
    const checkCounts = minCount > 0 && counts !== null;
    let hi = 0;
    let lo = 0;
    const head = Math.min(n, k - 1);
    for (let i = 0; i < head; i++) {
      const id = trace[i]!;
      const v = id > maxId ? 0 : id + 1;
      hi = ((hi << bits) | (lo >>> back)) & hiMask;
      lo = ((lo << bits) | v) & loMask;
      out[i] = Number.NaN;
    }
    // Runs of one call (read, read, read...) repeat the same window: the previous answer is reused.
    let lastHi = 0;
    let lastLo = 0;
    let r = 1;
    for (let i = head; i < n; i++) {
      const id = trace[i]!;
      const v = id > maxId ? 0 : id + 1;
      hi = ((hi << bits) | (lo >>> back)) & hiMask;
      lo = ((lo << bits) | v) & loMask;
      if (lo === lastLo && hi === lastHi && i > head) {
        out[i] = r;
        continue;
      }
      lastHi = hi;
      lastLo = lo;
      let s = Math.imul(lo ^ Math.imul(hi, 0x9e3779b1), 0x85ebca6b) >>> shift;
      r = 1;
      for (;;) {
        const l = keys[2 * s]!;
        if (l === 0) break;
        if (l === lo && keys[2 * s + 1] === hi) {
          r = checkCounts && counts[s]! < minCount ? 1 : 0;
          break;
        }
        s = (s + 1) & cmask;
      }
      out[i] = r;
    }
  }

  /** scoreTrace in hashed mode: the same arithmetic as advance() + findCurrent(), verifying against the trace. */
  private scoreTraceHashed(trace: Uint16Array, out: Float64Array, minCount: number): void {
    const k = this.k;
    const n = trace.length;
    const keys = this.keys;
    const cmask = this.cmask;
    const shift = this.shift;
    const mask = this.hashMask;
    const powLo = this.powLo;
    const powHi = this.powHi;
    const pool = this.pool;
    const entries = this.entries!;
    const counts = this.counts;
    const checkCounts = minCount > 0 && counts !== null;
    let hi = 0;
    let lo = 0;
    for (let i = 0; i < n; i++) {
      const v = trace[i]! + 1;
      const gone = i >= k ? trace[i - k]! + 1 : 0;
      lo = (Math.imul(lo, BASE_LO) + v - Math.imul(gone, powLo)) | 0;
      hi = (Math.imul(hi, BASE_HI) + v - Math.imul(gone, powHi)) | 0;
      if (i < k - 1) {
        out[i] = Number.NaN;
        continue;
      }
      const pHi = hi & mask;
      const pLo = (lo & mask) | 1;
      const start = i - k + 1;
      let s = slotOf(pHi, pLo, shift);
      let r = 1;
      for (;;) {
        const l = keys[2 * s]!;
        if (l === 0) break;
        if (l === pLo && keys[2 * s + 1] === pHi) {
          const base = entries[s]! * k;
          let j = 0;
          while (j < k && pool[base + j] === trace[start + j]) j++;
          if (j === k) {
            r = checkCounts && counts[s]! < minCount ? 1 : 0;
            break;
          }
        }
        s = (s + 1) & cmask;
      }
      out[i] = r;
    }
  }

  /** The count of a slot returned by stepSlot (1 for an uncounted table). */
  countAt(slot: number): number {
    return this.counts === null ? 1 : this.counts[slot]!;
  }

  /** The count of a window given as ids (0 when absent). */
  countOf(window: ArrayLike<number>): number {
    if (window.length !== this.k) return 0;
    const st = this.scratch;
    st.reset();
    st.epoch = this.epochValue;
    for (let i = 0; i < window.length; i++) this.advance(st, window[i]!);
    const s = this.findCurrent(st);
    return s < 0 ? 0 : this.countAt(s);
  }

  /**
   * Hofmeyr's minimum Hamming distance between the state's current window and any stored window: the number of
   * positions at which they differ, minimised. 0 when the window is stored, k when nothing is, NaN when the window
   * is not yet complete. Exact: a linear scan of all windows, abandoning one as soon as it cannot beat the best.
   */
  minHammingDistance(state: WindowState): number {
    const k = this.k;
    if (state.seen < k) return Number.NaN;
    if (state.epoch !== this.epochValue) this.resync(state);
    if (this.findCurrent(state) >= 0) return 0;
    const { windows } = this.cachedList();
    const buf = state.buf;
    const off = state.pos + 1;
    let best = k;
    const n = windows.length;
    for (let e = 0; e < n && best > 1; e += k) {
      let d = 0;
      for (let j = 0; j < k; j++) {
        if (windows[e + j] !== buf[off + j] && ++d >= best) break;
      }
      if (d < best) best = d;
    }
    return best;
  }

  /** All windows in lexicographic order with their counts. */
  list(): WindowList {
    if (this.listCache !== null && this.listEpoch === this.epochValue) return this.listCache;
    return this.buildList();
  }

  /** The list, kept until the table changes (for repeated Hamming-distance scans). */
  private cachedList(): WindowList {
    if (this.listCache === null || this.listEpoch !== this.epochValue) {
      this.listCache = this.buildList();
      this.listEpoch = this.epochValue;
    }
    return this.listCache;
  }

  private buildList(): WindowList {
    return this.packed ? this.buildPackedList() : this.buildHashedList();
  }

  /**
   * Packed keys hold the oldest call in their high bits, so their unsigned order is the windows' order: they are
   * sorted as 64-bit integers by the engine's own typed-array sort (a profile is written once per process, where a
   * sort loop in JavaScript would run mostly unoptimised), then decoded.
   */
  private buildPackedList(): WindowList {
    const k = this.k;
    const n = this.sizeValue;
    const keys = this.keys;
    const sorted = new BigUint64Array(n);
    const halves = new Uint32Array(sorted.buffer);
    const lo0 = LOW_HALF_FIRST ? 0 : 1;
    const hi0 = 1 - lo0;
    let m = 0;
    for (let s = 0; s <= this.cmask; s++) {
      const lo = keys[2 * s]!;
      if (lo === 0) continue;
      halves[2 * m + lo0] = lo;
      halves[2 * m + hi0] = keys[2 * s + 1]!;
      m++;
    }
    sorted.sort();
    const windows = new Uint16Array(n * k);
    const counts = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      const hi = halves[2 * i + hi0]! | 0;
      const lo = halves[2 * i + lo0]! | 0;
      this.decodePacked(hi, lo, windows, i * k);
      counts[i] = this.counts === null ? 1 : this.counts[this.packedSlot(hi, lo)]!;
    }
    return { windows, counts };
  }

  /** The slot of a stored packed key. */
  private packedSlot(hi: number, lo: number): number {
    const keys = this.keys;
    let s = slotOf(hi, lo, this.shift);
    while (keys[2 * s] !== lo || keys[2 * s + 1] !== hi) s = (s + 1) & this.cmask;
    return s;
  }

  private buildHashedList(): WindowList {
    const k = this.k;
    const n = this.sizeValue;
    const slots = new Int32Array(n);
    let m = 0;
    for (let s = 0; s <= this.cmask; s++) if (this.keys[2 * s] !== 0) slots[m++] = s;
    const order = this.hashedOrder(slots);
    const windows = new Uint16Array(n * k);
    const counts = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      const s = slots[order[i]!]!;
      this.windowAt(s, windows, i * k);
      counts[i] = this.counts === null ? 1 : this.counts[s]!;
    }
    return { windows, counts };
  }

  /** Hashed keys say nothing of order: the windows themselves are compared. */
  private hashedOrder(slots: Int32Array): Uint32Array {
    const k = this.k;
    const unsorted = new Uint16Array(slots.length * k);
    for (let i = 0; i < slots.length; i++) this.windowAt(slots[i]!, unsorted, i * k);
    const order = Array.from(slots, (_, i) => i);
    order.sort((a, b) => {
      for (let j = 0; j < k; j++) {
        const d = unsorted[a * k + j]! - unsorted[b * k + j]!;
        if (d !== 0) return d;
      }
      return 0;
    });
    return Uint32Array.from(order);
  }

  /** Bytes held by the table's arrays (and the window list kept for Hamming distances, once built). */
  memoryBytes(): number {
    let b = this.keys.byteLength + this.pool.byteLength + this.scratch.buf.byteLength;
    if (this.counts !== null) b += this.counts.byteLength;
    if (this.entries !== null) b += this.entries.byteLength;
    if (this.listCache !== null && this.listEpoch === this.epochValue) {
      b += this.listCache.windows.byteLength + this.listCache.counts.byteLength;
    }
    return b;
  }

  /** Writes k, maxId, the sorted windows and (when counted) their counts. */
  write(w: PayloadWriter): void {
    const list = this.list();
    w.u16(this.k).i32(this.maxIdValue).u32(this.sizeValue).f64(this.totalValue);
    w.u16s(list.windows);
    if (this.counts !== null) w.u32s(list.counts);
  }

  /** Reads what `write` wrote into this (empty) table, checking it is a canonical, consistent window set. */
  read(r: PayloadReader): void {
    const k = r.u16();
    if (k !== this.k) throw r.fail(`window length ${k} differs from the options' k=${this.k}`);
    const maxId = r.i32();
    const n = r.u32();
    const total = r.count("window total");
    if (maxId < -1 || maxId > 0xffff) throw r.fail(`largest id ${maxId} is out of range`);
    if ((n === 0) !== (maxId === -1)) throw r.fail(`${n} windows but largest id ${maxId}`);
    const windows = r.u16s(n * k);
    const counts = this.counted ? r.u32s(n) : null;
    // Checked and inserted in one pass: a profile is read once per process, mostly by unoptimised code, so every
    // pass over its windows counts. A list that fails a check leaves this table half filled: it is then discarded.
    this.grow(maxId);
    this.reserve(n);
    const { sum, seenMax } = this.packed
      ? this.insertSortedPacked(r, windows, counts, maxId)
      : this.insertSortedHashed(r, windows, counts);
    if (seenMax !== maxId) throw r.fail(`largest id is ${seenMax}, header says ${maxId}`);
    if (this.counted ? sum !== total : total < n) throw r.fail(`window total ${total} does not match the counts`);
    this.totalValue = total;
    this.trimPool();
    this.epochValue++;
  }

  /**
   * Inserts a stored list in packed mode, checking each window's count and its order after the previous window. A
   * key's unsigned order is its window's order when no call of either window exceeds maxId (a larger one, which
   * fails the caller's check anyway, overflows its field): then keys are compared, else the windows themselves.
   * Distinct windows are distinct keys, so no slot is probed for an equal key.
   */
  private insertSortedPacked(
    r: PayloadReader,
    windows: Uint16Array,
    counts: Uint32Array | null,
    maxId: number,
  ): { sum: number; seenMax: number } {
    const k = this.k;
    const bits = this.bits;
    const back = 32 - bits;
    const hiMask = this.hiMask;
    const loMask = this.loMask;
    const keys = this.keys;
    const cmask = this.cmask;
    const n = windows.length / k;
    let sum = 0;
    let seenMax = -1;
    let prevHi = 0;
    let prevLo = 0;
    let prevFits = true;
    for (let i = 0; i < n; i++) {
      const count = counts === null ? 1 : counts[i]!;
      if (count === 0) throw r.fail(`window ${i} has count 0`);
      sum += count;
      let hi = 0;
      let lo = 0;
      let largest = -1;
      for (let j = i * k; j < i * k + k; j++) {
        const id = windows[j]!;
        if (id > largest) largest = id;
        hi = ((hi << bits) | (lo >>> back)) & hiMask;
        lo = ((lo << bits) | (id + 1)) & loMask;
      }
      if (largest > seenMax) seenMax = largest;
      const fits = largest <= maxId;
      if (i > 0) {
        const after =
          fits && prevFits
            ? hi >>> 0 > prevHi >>> 0 || (hi === prevHi && lo >>> 0 > prevLo >>> 0)
            : windowAfter(windows, i, k);
        if (!after) throw r.fail(`windows are not strictly sorted at ${i}`);
      }
      prevHi = hi;
      prevLo = lo;
      prevFits = fits;
      let s = slotOf(hi, lo, this.shift);
      while (keys[2 * s] !== 0) s = (s + 1) & cmask;
      keys[2 * s] = lo;
      keys[2 * s + 1] = hi;
      if (this.counts !== null) this.counts[s] = count;
      this.sizeValue++;
    }
    return { sum, seenMax };
  }

  /** Inserts a stored list in hashed mode, with the checks of insertSortedPacked on the windows themselves. */
  private insertSortedHashed(
    r: PayloadReader,
    windows: Uint16Array,
    counts: Uint32Array | null,
  ): { sum: number; seenMax: number } {
    const k = this.k;
    const n = windows.length / k;
    const st = this.scratch;
    let sum = 0;
    let seenMax = -1;
    for (let i = 0; i < n; i++) {
      const count = counts === null ? 1 : counts[i]!;
      if (count === 0) throw r.fail(`window ${i} has count 0`);
      sum += count;
      for (let j = 0; j < k; j++) if (windows[i * k + j]! > seenMax) seenMax = windows[i * k + j]!;
      if (i > 0 && !windowAfter(windows, i, k)) throw r.fail(`windows are not strictly sorted at ${i}`);
      st.reset();
      st.epoch = this.epochValue;
      for (let j = 0; j < k; j++) this.advance(st, windows[i * k + j]!);
      this.insertCurrent(st, count);
    }
    return { sum, seenMax };
  }

  // ---- internals ----

  /** Drops the window pool's growth slack once a batch of inserts is done (it can be half the pool). */
  private trimPool(): void {
    const used = this.poolWindows * this.k;
    if (this.pool.length > used) this.pool = this.pool.slice(0, used);
  }

  /** Raises maxId to at least `maxId`, rebuilding the table when the key packing must change. */
  private grow(maxId: number): void {
    if (maxId <= this.maxIdValue) return;
    const bits = bitsFor(maxId);
    const packed = !this.forceHashed && this.k * bits <= 64;
    const repack = this.sizeValue > 0 && (packed !== this.packed || (packed && bits !== this.bits));
    const old = repack ? this.list() : null;
    this.configure(maxId);
    if (old !== null) {
      const total = this.totalValue;
      this.clear();
      this.insertList(old);
      this.totalValue = total;
    }
    this.epochValue++;
  }

  private configure(maxId: number): void {
    this.maxIdValue = maxId;
    this.bits = bitsFor(maxId);
    this.packed = !this.forceHashed && this.k * this.bits <= 64;
    const t = this.k * this.bits;
    if (this.packed) {
      this.loMask = t >= 32 ? -1 : (1 << t) - 1;
      this.hiMask = t <= 32 ? 0 : t - 32 >= 32 ? -1 : (1 << (t - 32)) - 1;
    }
    if (!this.packed && this.entries === null) this.entries = new Int32Array(this.cmask + 1);
    if (this.packed) {
      this.entries = null;
      this.pool = new Uint16Array(0);
      this.poolWindows = 0;
    }
  }

  private clear(): void {
    this.keys = new Int32Array(2 * INITIAL_CAPACITY);
    this.cmask = INITIAL_CAPACITY - 1;
    this.shift = Math.clz32(INITIAL_CAPACITY) + 1;
    if (this.counts !== null) this.counts = new Uint32Array(INITIAL_CAPACITY);
    if (!this.packed) this.entries = new Int32Array(INITIAL_CAPACITY);
    this.pool = new Uint16Array(0);
    this.poolWindows = 0;
    this.sizeValue = 0;
    this.totalValue = 0;
  }

  private insertList(list: WindowList): void {
    const k = this.k;
    const n = list.counts.length;
    this.reserve(this.sizeValue + n);
    if (this.packed) {
      this.insertPackedList(list);
      return;
    }
    const st = this.scratch;
    for (let i = 0; i < n; i++) {
      st.reset();
      st.epoch = this.epochValue;
      for (let j = 0; j < k; j++) this.advance(st, list.windows[i * k + j]!);
      this.insertCurrent(st, list.counts[i]!);
    }
  }

  /** insertList in packed mode: each window's key is built straight from its calls (all at most maxId). */
  private insertPackedList(list: WindowList): void {
    const k = this.k;
    const { windows, counts } = list;
    const bits = this.bits;
    const back = 32 - bits;
    const hiMask = this.hiMask;
    const loMask = this.loMask;
    const keys = this.keys;
    const cmask = this.cmask;
    for (let i = 0; i < counts.length; i++) {
      let hi = 0;
      let lo = 0;
      for (let j = i * k; j < i * k + k; j++) {
        hi = ((hi << bits) | (lo >>> back)) & hiMask;
        lo = ((lo << bits) | (windows[j]! + 1)) & loMask;
      }
      let s = slotOf(hi, lo, this.shift);
      for (;;) {
        const l = keys[2 * s]!;
        if (l === 0) {
          keys[2 * s] = lo;
          keys[2 * s + 1] = hi;
          if (this.counts !== null) this.counts[s] = counts[i]!;
          this.sizeValue++;
          break;
        }
        if (l === lo && keys[2 * s + 1] === hi) {
          if (this.counts !== null) this.counts[s] = this.counts[s]! + counts[i]!;
          break;
        }
        s = (s + 1) & cmask;
      }
    }
  }

  /** Grows the slot array at once to hold `size` windows at load <= 1/2 (one rehash instead of one per doubling). */
  private reserve(size: number): void {
    let capacity = this.cmask + 1;
    while (size * 2 > capacity) capacity *= 2;
    if (capacity !== this.cmask + 1) this.rehash(capacity);
  }

  /** Shifts one call into a state (its ring and rolling key); the state's key is current for this epoch. */
  private advance(st: WindowState, id: number): void {
    const k = this.k;
    const n = st.seen;
    const p = st.pos + 1 === k ? 0 : st.pos + 1;
    const buf = st.buf;
    if (this.packed) {
      const bits = this.bits;
      const v = id > this.maxIdValue ? 0 : id + 1;
      st.hi = ((st.hi << bits) | (st.lo >>> (32 - bits))) & this.hiMask;
      st.lo = ((st.lo << bits) | v) & this.loMask;
    } else {
      const v = id + 1;
      const out = n >= k ? buf[p]! + 1 : 0;
      st.lo = (Math.imul(st.lo, BASE_LO) + v - Math.imul(out, this.powLo)) | 0;
      st.hi = (Math.imul(st.hi, BASE_HI) + v - Math.imul(out, this.powHi)) | 0;
    }
    buf[p] = id;
    buf[p + k] = id;
    st.pos = p;
    st.seen = n + 1;
  }

  /** Recomputes a state's rolling key from its ring, after the table's packing changed. */
  private resync(st: WindowState): void {
    const k = this.k;
    const m = Math.min(st.seen, k);
    const buf = st.buf;
    let hi = 0;
    let lo = 0;
    for (let i = st.pos + k - m + 1; i <= st.pos + k; i++) {
      const id = buf[i]!;
      if (this.packed) {
        const v = id > this.maxIdValue ? 0 : id + 1;
        hi = ((hi << this.bits) | (lo >>> (32 - this.bits))) & this.hiMask;
        lo = ((lo << this.bits) | v) & this.loMask;
      } else {
        lo = (Math.imul(lo, BASE_LO) + id + 1) | 0;
        hi = (Math.imul(hi, BASE_HI) + id + 1) | 0;
      }
    }
    st.hi = hi;
    st.lo = lo;
    st.epoch = this.epochValue;
  }

  /** The slot holding the state's current (complete) window, or -1. */
  private findCurrent(st: WindowState): number {
    let hi = st.hi;
    let lo = st.lo;
    const packed = this.packed;
    if (!packed) {
      hi &= this.hashMask;
      lo = (lo & this.hashMask) | 1; // never the empty key
    }
    const keys = this.keys;
    const cmask = this.cmask;
    let s = slotOf(hi, lo, this.shift);
    for (;;) {
      const l = keys[2 * s]!;
      if (l === 0) return -1;
      if (l === lo && keys[2 * s + 1] === hi && (packed || this.poolMatches(this.entries![s]!, st.buf, st.pos + 1)))
        return s;
      s = (s + 1) & cmask;
    }
  }

  private poolMatches(entry: number, src: Uint16Array, off: number): boolean {
    const k = this.k;
    const pool = this.pool;
    const base = entry * k;
    for (let j = 0; j < k; j++) if (pool[base + j] !== src[off + j]) return false;
    return true;
  }

  /** Adds `count` occurrences of the state's current window. */
  private insertCurrent(st: WindowState, count: number): void {
    const found = this.findCurrent(st);
    if (found >= 0) {
      if (this.counts !== null) this.counts[found] = this.counts[found]! + count;
      return;
    }
    if ((this.sizeValue + 1) * 2 > this.cmask + 1) this.rehash((this.cmask + 1) * 2);
    let hi = st.hi;
    let lo = st.lo;
    if (!this.packed) {
      hi &= this.hashMask;
      lo = (lo & this.hashMask) | 1;
    }
    const cmask = this.cmask;
    let s = slotOf(hi, lo, this.shift);
    while (this.keys[2 * s] !== 0) s = (s + 1) & cmask;
    this.keys[2 * s] = lo;
    this.keys[2 * s + 1] = hi;
    if (this.counts !== null) this.counts[s] = count;
    if (!this.packed) {
      const k = this.k;
      if ((this.poolWindows + 1) * k > this.pool.length) {
        const next = new Uint16Array(Math.max(64 * k, this.pool.length * 2));
        next.set(this.pool);
        this.pool = next;
      }
      this.pool.set(st.buf.subarray(st.pos + 1, st.pos + 1 + k), this.poolWindows * k);
      this.entries![s] = this.poolWindows++;
    }
    this.sizeValue++;
  }

  private rehash(capacity: number): void {
    const oldKeys = this.keys;
    const oldCounts = this.counts;
    const oldEntries = this.entries;
    this.keys = new Int32Array(2 * capacity);
    if (oldCounts !== null) this.counts = new Uint32Array(capacity);
    if (oldEntries !== null) this.entries = new Int32Array(capacity);
    const cmask = capacity - 1;
    this.cmask = cmask;
    this.shift = Math.clz32(capacity) + 1;
    for (let i = 0; 2 * i < oldKeys.length; i++) {
      const l = oldKeys[2 * i]!;
      const h = oldKeys[2 * i + 1]!;
      if (l === 0) continue;
      let s = slotOf(h, l, this.shift);
      while (this.keys[2 * s] !== 0) s = (s + 1) & cmask;
      this.keys[2 * s] = l;
      this.keys[2 * s + 1] = h;
      if (oldCounts !== null) this.counts![s] = oldCounts[i]!;
      if (oldEntries !== null) this.entries![s] = oldEntries[i]!;
    }
  }

  /** Writes the window in slot s into out[at .. at + k). */
  private windowAt(s: number, out: Uint16Array, at: number): void {
    const k = this.k;
    if (!this.packed) {
      const e = this.entries![s]!;
      out.set(this.pool.subarray(e * k, e * k + k), at);
      return;
    }
    this.decodePacked(this.keys[2 * s + 1]!, this.keys[2 * s]!, out, at);
  }

  /** Writes the window of packed key (hi, lo) into out[at .. at + k). */
  private decodePacked(hi: number, lo: number, out: Uint16Array, at: number): void {
    const k = this.k;
    const bits = this.bits;
    const fieldMask = (1 << bits) - 1;
    for (let j = 0; j < k; j++) {
      const pos = bits * (k - 1 - j);
      let v: number;
      if (pos >= 32) v = hi >>> (pos - 32);
      else {
        v = lo >>> pos;
        if (pos + bits > 32) v |= hi << (32 - pos);
      }
      out[at + j] = (v & fieldMask) - 1;
    }
  }
}
