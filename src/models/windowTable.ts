// The database of distinct length-k windows of system calls that stide and t-stide share (Forrest, Hofmeyr,
// Somayaji & Longstaff 1996; Hofmeyr, Forrest & Somayaji 1998; Warrender, Forrest & Pearlmutter 1999), with an
// occurrence count per window, and the rolling per-stream window state that looks windows up call by call.
//
// What the detectors call: training (whole traces, or call by call for traces too long to hold), merging, scoring
// (per call and per trace), Hofmeyr's Hamming distance, and the table as a profile stores it. The keyed table under
// it, packed or hashed, is windowKeyTable.ts; the per-stream state is windowState.ts.

import { HomeostatError } from "../errors.js";
import type { PayloadReader, PayloadWriter } from "./payload.js";
import { hashedWindowList, scoreHashedTrace } from "./hashedWindowKey.js";
import {
  insertPackedWindows,
  insertSortedPackedWindows,
  packedWindowList,
  scorePackedTrace,
} from "./packedWindowKey.js";
import { bitsFor, WindowKeyTable, type WindowTableTuning } from "./windowKeyTable.js";
import { windowAfter, type WindowList } from "./windowList.js";
import { WindowLearning, WindowState } from "./windowState.js";

export type { WindowList } from "./windowList.js";
export type { WindowTableTuning } from "./windowKeyTable.js";
export { WindowLearning, WindowState } from "./windowState.js";

/** Smallest and largest window length. */
export const MIN_WINDOW = 2;
export const MAX_WINDOW = 256;

/** The window database of one stide or t-stide model. */
export class WindowTable extends WindowKeyTable {
  constructor(k: number, counted: boolean, tuning: WindowTableTuning = {}) {
    if (!Number.isInteger(k) || k < MIN_WINDOW || k > MAX_WINDOW) {
      throw new HomeostatError(
        "E_USAGE",
        `window length must be a whole number from ${MIN_WINDOW} to ${MAX_WINDOW}, not ${k}`,
      );
    }
    super(k, counted, tuning);
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
    if (this.packed) {
      scorePackedTrace(trace, out, minCount, this.k, this.bits, this.maxIdValue, this.keys, this.counts);
      return;
    }
    const { k, hashMask, powLo, powHi, keys, counts, pool, entries } = this;
    scoreHashedTrace(trace, out, minCount, k, hashMask, powLo, powHi, keys, counts, pool, entries!);
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
    return this.packed
      ? packedWindowList(this.keys, this.counts, this.sizeValue, this.k, this.bits)
      : hashedWindowList(this.keys, this.counts, this.sizeValue, this.k, this.pool, this.entries!);
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

  /** Adds a list's windows and counts (the table is already grown to the list's largest id). */
  private insertList(list: WindowList): void {
    const k = this.k;
    const n = list.counts.length;
    this.reserve(this.sizeValue + n);
    if (this.packed) {
      this.sizeValue += insertPackedWindows(list, k, this.bits, this.keys, this.counts);
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

  /** Inserts a stored list in packed mode, checking it as it goes (packedWindowKey.ts). */
  private insertSortedPacked(
    r: PayloadReader,
    windows: Uint16Array,
    counts: Uint32Array | null,
    maxId: number,
  ): { sum: number; seenMax: number } {
    const k = this.k;
    const checked = insertSortedPackedWindows(r, windows, counts, maxId, k, this.bits, this.keys, this.counts);
    this.sizeValue += windows.length / k; // every window, since none failed a check
    return checked;
  }

  /** Inserts a stored list in hashed mode, with the checks of insertSortedPackedWindows on the windows themselves. */
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
}
