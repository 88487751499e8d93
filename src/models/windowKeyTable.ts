// The keyed table under the window table of stide and t-stide (windowTable.ts): distinct windows with a count each.
// A window is keyed by 64 bits held as two int32 halves, side by side in one array (slot s: low half at keys[2s],
// high half at keys[2s + 1], one cache line per probe), in an open-addressing table (linear probing, load <= 1/2,
// multiplicative hashing). Two kinds of key, both rolling in O(1) per call:
// - packed, when k * bits(maxId + 1) <= 64: the key IS the window (packedWindowKey.ts);
// - hashed, otherwise: two rolling polynomial hashes, the window itself kept in a pool to verify a match
//   (hashedWindowKey.ts).
// The table's largest id sets its packing; a larger one repacks every stored window. Here are the keys' arithmetic
// (which the bulk loops of the two key files import) and the per-call step: a stream's rolling key advanced, its
// window found or inserted. Nothing on the per-call path allocates.

import type { WindowList } from "./windowList.js";
import { WindowState } from "./windowState.js";

/** Knobs for tests only: force hashed mode and weaken the hash to provoke collisions. */
export interface WindowTableTuning {
  forceHashed?: boolean;
  /** ANDed into both 32-bit hash halves in hashed mode (e.g. 0x3 makes nearly every window collide). */
  hashMask?: number;
}

const INITIAL_CAPACITY = 1024;
/** Two odd multipliers for the two polynomial hashes of hashed keys. */
export const BASE_LO = 0x01000193;
export const BASE_HI = 0x5bd1e995;

/** Where probing starts for key (hi, lo) in a table of 2^(32 - shift) slots: multiplicative hashing, top bits. */
export function slotOf(hi: number, lo: number, shift: number): number {
  return Math.imul(lo ^ Math.imul(hi, 0x9e3779b1), 0x85ebca6b) >>> shift;
}

/** The shift for slotOf in a table of `capacity` slots (a power of two). */
export function shiftFor(capacity: number): number {
  return Math.clz32(capacity) + 1;
}

/** Bits per call in a packed key: calls are stored as id + 1, so 1 .. maxId + 1 must fit. */
export function bitsFor(maxId: number): number {
  return Math.max(1, 32 - Math.clz32(maxId + 1));
}

/** The mask of a packed key's low half, for keys of t = k * bits bits. */
export function packedLoMask(t: number): number {
  return t >= 32 ? -1 : (1 << t) - 1;
}

/** The mask of a packed key's high half, for keys of t = k * bits bits. */
export function packedHiMask(t: number): number {
  return t <= 32 ? 0 : t - 32 >= 32 ? -1 : (1 << (t - 32)) - 1;
}

// Private aliases for the per-call step below: V8 keeps a module's exported and imported bindings in cells, read in
// optimised code through a chain of loads and a hole check on every use, where a private binding is one load.
const baseLo = BASE_LO;
const baseHi = BASE_HI;
const slotAt = slotOf;

/** base^exp modulo 2^32: the factor by which a call leaves a rolling hash k calls after it entered. */
function powMod32(base: number, exp: number): number {
  let r = 1;
  for (let i = 0; i < exp; i++) r = Math.imul(r, base);
  return r;
}

/** The keyed windows and the per-call step; WindowTable (windowTable.ts) is what stide and t-stide use. */
export abstract class WindowKeyTable {
  readonly k: number;
  /** Whether per-window counts are kept (t-stide); stide keeps only the set. */
  readonly counted: boolean;
  protected readonly forceHashed: boolean;
  protected readonly hashMask: number;
  protected readonly powLo: number;
  protected readonly powHi: number;

  /** Key mode and packing, set from maxId by `configure`. */
  protected packed = true;
  protected bits = 1;
  protected loMask = 0;
  protected hiMask = 0;
  /** Largest id in any stored window (-1 when empty). */
  protected maxIdValue = -1;

  protected sizeValue = 0;
  /** All windows inserted, with multiplicity (t-stide's denominator). */
  protected totalValue = 0;
  /** Bumped whenever the table changes, so that states and caches know to recompute. */
  protected epochValue = 0;

  /** Slot s holds its key's low half at keys[2s] and high half at keys[2s + 1] (one cache line per probe). */
  protected keys = new Int32Array(2 * INITIAL_CAPACITY);
  protected counts: Uint32Array | null;
  /** Hashed mode: slot -> index of the window in `pool`. */
  protected entries: Int32Array | null = null;
  protected pool: Uint16Array = new Uint16Array(0);
  protected poolWindows = 0;
  protected cmask = INITIAL_CAPACITY - 1;
  protected shift = shiftFor(INITIAL_CAPACITY);

  /** The window list kept for Hamming distances (windowTable.ts), and the epoch it was built at. */
  protected listCache: WindowList | null = null;
  protected listEpoch = -1;
  protected scratch: WindowState;

  /** `k` must already be checked (WindowTable's constructor does). */
  protected constructor(k: number, counted: boolean, tuning: WindowTableTuning) {
    this.k = k;
    this.counted = counted;
    this.counts = counted ? new Uint32Array(INITIAL_CAPACITY) : null;
    this.forceHashed = tuning.forceHashed === true;
    this.hashMask = tuning.hashMask ?? -1;
    this.powLo = powMod32(baseLo, k);
    this.powHi = powMod32(baseHi, k);
    this.scratch = new WindowState(k);
    this.configure(-1);
  }

  /** Drops the window pool's growth slack once a batch of inserts is done (it can be half the pool). */
  protected trimPool(): void {
    const used = this.poolWindows * this.k;
    if (this.pool.length > used) this.pool = this.pool.slice(0, used);
  }

  protected configure(maxId: number): void {
    this.maxIdValue = maxId;
    this.bits = bitsFor(maxId);
    this.packed = !this.forceHashed && this.k * this.bits <= 64;
    const t = this.k * this.bits;
    if (this.packed) {
      this.loMask = packedLoMask(t);
      this.hiMask = packedHiMask(t);
    }
    if (!this.packed && this.entries === null) this.entries = new Int32Array(this.cmask + 1);
    if (this.packed) {
      this.entries = null;
      this.pool = new Uint16Array(0);
      this.poolWindows = 0;
    }
  }

  protected clear(): void {
    this.keys = new Int32Array(2 * INITIAL_CAPACITY);
    this.cmask = INITIAL_CAPACITY - 1;
    this.shift = shiftFor(INITIAL_CAPACITY);
    if (this.counts !== null) this.counts = new Uint32Array(INITIAL_CAPACITY);
    if (!this.packed) this.entries = new Int32Array(INITIAL_CAPACITY);
    this.pool = new Uint16Array(0);
    this.poolWindows = 0;
    this.sizeValue = 0;
    this.totalValue = 0;
  }

  /** Grows the slot array at once to hold `size` windows at load <= 1/2 (one rehash instead of one per doubling). */
  protected reserve(size: number): void {
    let capacity = this.cmask + 1;
    while (size * 2 > capacity) capacity *= 2;
    if (capacity !== this.cmask + 1) this.rehash(capacity);
  }

  /** Shifts one call into a state (its ring and rolling key); the state's key is current for this epoch. */
  protected advance(st: WindowState, id: number): void {
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
      st.lo = (Math.imul(st.lo, baseLo) + v - Math.imul(out, this.powLo)) | 0;
      st.hi = (Math.imul(st.hi, baseHi) + v - Math.imul(out, this.powHi)) | 0;
    }
    buf[p] = id;
    buf[p + k] = id;
    st.pos = p;
    st.seen = n + 1;
  }

  /** Recomputes a state's rolling key from its ring, after the table's packing changed. */
  protected resync(st: WindowState): void {
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
        lo = (Math.imul(lo, baseLo) + id + 1) | 0;
        hi = (Math.imul(hi, baseHi) + id + 1) | 0;
      }
    }
    st.hi = hi;
    st.lo = lo;
    st.epoch = this.epochValue;
  }

  /** The slot holding the state's current (complete) window, or -1. */
  protected findCurrent(st: WindowState): number {
    let hi = st.hi;
    let lo = st.lo;
    const packed = this.packed;
    if (!packed) {
      hi &= this.hashMask;
      lo = (lo & this.hashMask) | 1; // never the empty key
    }
    const keys = this.keys;
    const cmask = this.cmask;
    let s = slotAt(hi, lo, this.shift);
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
  protected insertCurrent(st: WindowState, count: number): void {
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
    let s = slotAt(hi, lo, this.shift);
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
    this.shift = shiftFor(capacity);
    for (let i = 0; 2 * i < oldKeys.length; i++) {
      const l = oldKeys[2 * i]!;
      const h = oldKeys[2 * i + 1]!;
      if (l === 0) continue;
      let s = slotAt(h, l, this.shift);
      while (this.keys[2 * s] !== 0) s = (s + 1) & cmask;
      this.keys[2 * s] = l;
      this.keys[2 * s + 1] = h;
      if (oldCounts !== null) this.counts![s] = oldCounts[i]!;
      if (oldEntries !== null) this.entries![s] = oldEntries[i]!;
    }
  }
}
