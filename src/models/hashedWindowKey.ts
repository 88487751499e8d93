// Hashed window keys, the window table's mode when a packed key would not fit in 64 bits (long windows, large
// vocabularies): the key is two independent rolling polynomial hashes of the window (low half forced odd, so never
// the empty key, windowKeyTable.ts), and the exact window is kept in a pool and compared on a key match, so a hash
// collision can never make an unseen window match: exactness does not rest on the hash. The hashes roll in O(1)
// per call, adding the newest call and taking out the one that left the window.
//
// Here are hashed mode's loops over whole traces and tables (scoring, listing), each inlined with the same
// arithmetic as the table's per-call step (windowKeyTable.ts, which also holds the hashing constants), for speed.

import { BASE_HI, BASE_LO, shiftFor, slotOf } from "./windowKeyTable.js";
import type { WindowList } from "./windowList.js";

// Private aliases for the scoring loop, as in windowKeyTable.ts: V8 reads an imported binding through the module's
// cells on every use in optimised code, a private one in one load.
const baseLo = BASE_LO;
const baseHi = BASE_HI;
const slotAt = slotOf;

/**
 * WindowTable.scoreTrace in hashed mode, over the table's key array, counts (when counted), window pool and
 * slot-to-pool entries: the same arithmetic as the table's advance() + findCurrent(), verifying against the trace.
 */
export function scoreHashedTrace(
  trace: Uint16Array,
  out: Float64Array,
  minCount: number,
  k: number,
  mask: number,
  powLo: number,
  powHi: number,
  keys: Int32Array,
  counts: Uint32Array | null,
  pool: Uint16Array,
  entries: Int32Array,
): void {
  const n = trace.length;
  const cmask = (keys.length >> 1) - 1;
  const shift = shiftFor(keys.length >> 1);
  const checkCounts = minCount > 0 && counts !== null;
  let hi = 0;
  let lo = 0;
  for (let i = 0; i < n; i++) {
    const v = trace[i]! + 1;
    const gone = i >= k ? trace[i - k]! + 1 : 0;
    lo = (Math.imul(lo, baseLo) + v - Math.imul(gone, powLo)) | 0;
    hi = (Math.imul(hi, baseHi) + v - Math.imul(gone, powHi)) | 0;
    if (i < k - 1) {
      out[i] = Number.NaN;
      continue;
    }
    const pHi = hi & mask;
    const pLo = (lo & mask) | 1;
    const start = i - k + 1;
    let s = slotAt(pHi, pLo, shift);
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

/** The windows of a hashed key array in lexicographic order, with their counts (1 each when uncounted). */
export function hashedWindowList(
  keys: Int32Array,
  counts: Uint32Array | null,
  size: number,
  k: number,
  pool: Uint16Array,
  entries: Int32Array,
): WindowList {
  const n = size;
  const cmask = (keys.length >> 1) - 1;
  const slots = new Int32Array(n);
  let m = 0;
  for (let s = 0; s <= cmask; s++) if (keys[2 * s] !== 0) slots[m++] = s;
  const unsorted = new Uint16Array(n * k);
  for (let i = 0; i < n; i++) poolWindow(pool, entries[slots[i]!]!, k, unsorted, i * k);
  const order = hashedOrder(unsorted, slots, k);
  const windows = new Uint16Array(n * k);
  const listCounts = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const s = slots[order[i]!]!;
    poolWindow(pool, entries[s]!, k, windows, i * k);
    listCounts[i] = counts === null ? 1 : counts[s]!;
  }
  return { windows, counts: listCounts };
}

/** Hashed keys say nothing of order: the windows themselves (window i of `unsorted` is slot i's) are compared. */
function hashedOrder(unsorted: Uint16Array, slots: Int32Array, k: number): Uint32Array {
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

/** Writes window `entry` of the pool into out[at .. at + k). */
function poolWindow(pool: Uint16Array, entry: number, k: number, out: Uint16Array, at: number): void {
  out.set(pool.subarray(entry * k, entry * k + k), at);
}
