// Packed window keys, the window table's mode when k * bits(maxId + 1) <= 64: the key IS the window, each call
// stored as id + 1 in `bits` bits (oldest call in the high bits), so equal keys mean equal windows and a lookup
// never needs the window itself. No stored window has a zero field, and the newest call sits in the low half, so a
// zero low half marks an empty slot. A call never seen in training enters the key as 0, so every window holding it
// misses, with no extra test.
//
// Here are packed mode's loops over whole traces and lists (scoring, listing, inserting), each inlined with the
// same arithmetic as the table's per-call step (windowKeyTable.ts, which also holds the packing), for speed.

import type { PayloadReader } from "./payload.js";
import { packedHiMask, packedLoMask, shiftFor, slotOf } from "./windowKeyTable.js";
import { windowAfter, type WindowList } from "./windowList.js";

// A private alias for the loops over windows, as in windowKeyTable.ts: V8 reads an imported binding through the
// module's cells on every use, a private one in one load.
const slotAt = slotOf;

/** Whether this host lays out a 64-bit integer low 32-bit half first (how packed keys are sorted as BigUint64s). */
const LOW_HALF_FIRST = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * WindowTable.scoreTrace in packed mode, over the table's key array `keys` (and its counts, when counted): the same
 * arithmetic as the table's advance() + findCurrent(), inlined.
 */
export function scorePackedTrace(
  trace: Uint16Array,
  out: Float64Array,
  minCount: number,
  k: number,
  bits: number,
  maxId: number,
  keys: Int32Array,
  counts: Uint32Array | null,
): void {
  const n = trace.length;
  const back = 32 - bits;
  const loMask = packedLoMask(k * bits);
  const hiMask = packedHiMask(k * bits);
  const cmask = (keys.length >> 1) - 1;
  const shift = shiftFor(keys.length >> 1);
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

/** Writes the window of packed key (hi, lo) into out[at .. at + k). */
function decodePackedWindow(hi: number, lo: number, k: number, bits: number, out: Uint16Array, at: number): void {
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

/**
 * The `size` windows of a packed key array, in order, with their counts (1 each when uncounted). Packed keys hold
 * the oldest call in their high bits, so their unsigned order is the windows' order: they are sorted as 64-bit
 * integers by the engine's own typed-array sort (a profile is written once per process, where a sort loop in
 * JavaScript would run mostly unoptimised), then decoded.
 */
export function packedWindowList(
  keys: Int32Array,
  counts: Uint32Array | null,
  size: number,
  k: number,
  bits: number,
): WindowList {
  const n = size;
  const cmask = (keys.length >> 1) - 1;
  const shift = shiftFor(keys.length >> 1);
  const sorted = new BigUint64Array(n);
  const halves = new Uint32Array(sorted.buffer);
  const lo0 = LOW_HALF_FIRST ? 0 : 1;
  const hi0 = 1 - lo0;
  let m = 0;
  for (let s = 0; s <= cmask; s++) {
    const lo = keys[2 * s]!;
    if (lo === 0) continue;
    halves[2 * m + lo0] = lo;
    halves[2 * m + hi0] = keys[2 * s + 1]!;
    m++;
  }
  sorted.sort();
  const windows = new Uint16Array(n * k);
  const listCounts = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const hi = halves[2 * i + hi0]! | 0;
    const lo = halves[2 * i + lo0]! | 0;
    decodePackedWindow(hi, lo, k, bits, windows, i * k);
    listCounts[i] = counts === null ? 1 : counts[packedSlot(keys, hi, lo, shift, cmask)]!;
  }
  return { windows, counts: listCounts };
}

/** The slot of a stored packed key. */
function packedSlot(keys: Int32Array, hi: number, lo: number, shift: number, cmask: number): number {
  let s = slotAt(hi, lo, shift);
  while (keys[2 * s] !== lo || keys[2 * s + 1] !== hi) s = (s + 1) & cmask;
  return s;
}

/**
 * Inserts a window list into a packed key array with room for it (and its counts into `counts`, when counted), each
 * window's key built straight from its calls (all at most the table's maxId); returns how many windows were new.
 */
export function insertPackedWindows(
  list: WindowList,
  k: number,
  bits: number,
  keys: Int32Array,
  counts: Uint32Array | null,
): number {
  const { windows, counts: listCounts } = list;
  const back = 32 - bits;
  const hiMask = packedHiMask(k * bits);
  const loMask = packedLoMask(k * bits);
  const cmask = (keys.length >> 1) - 1;
  const shift = shiftFor(keys.length >> 1);
  let inserted = 0;
  for (let i = 0; i < listCounts.length; i++) {
    let hi = 0;
    let lo = 0;
    for (let j = i * k; j < i * k + k; j++) {
      hi = ((hi << bits) | (lo >>> back)) & hiMask;
      lo = ((lo << bits) | (windows[j]! + 1)) & loMask;
    }
    let s = slotAt(hi, lo, shift);
    for (;;) {
      const l = keys[2 * s]!;
      if (l === 0) {
        keys[2 * s] = lo;
        keys[2 * s + 1] = hi;
        if (counts !== null) counts[s] = listCounts[i]!;
        inserted++;
        break;
      }
      if (l === lo && keys[2 * s + 1] === hi) {
        if (counts !== null) counts[s] = counts[s]! + listCounts[i]!;
        break;
      }
      s = (s + 1) & cmask;
    }
  }
  return inserted;
}

/**
 * Inserts a stored list (as WindowTable.read reads it) into an empty packed key array with room for it, checking
 * each window's count and its order after the previous window. A key's unsigned order is its window's order when no
 * call of either window exceeds maxId (a larger one, which fails the caller's check anyway, overflows its field):
 * then keys are compared, else the windows themselves. Distinct windows are distinct keys, so no slot is probed for
 * an equal key. Every window is inserted unless a check throws.
 */
export function insertSortedPackedWindows(
  r: PayloadReader,
  windows: Uint16Array,
  listCounts: Uint32Array | null,
  maxId: number,
  k: number,
  bits: number,
  keys: Int32Array,
  counts: Uint32Array | null,
): { sum: number; seenMax: number } {
  const back = 32 - bits;
  const hiMask = packedHiMask(k * bits);
  const loMask = packedLoMask(k * bits);
  const cmask = (keys.length >> 1) - 1;
  const shift = shiftFor(keys.length >> 1);
  const n = windows.length / k;
  let sum = 0;
  let seenMax = -1;
  let prevHi = 0;
  let prevLo = 0;
  let prevFits = true;
  for (let i = 0; i < n; i++) {
    const count = listCounts === null ? 1 : listCounts[i]!;
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
    let s = slotAt(hi, lo, shift);
    while (keys[2 * s] !== 0) s = (s + 1) & cmask;
    keys[2 * s] = lo;
    keys[2 * s + 1] = hi;
    if (counts !== null) counts[s] = count;
  }
  return { sum, seenMax };
}
