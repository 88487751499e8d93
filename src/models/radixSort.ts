// An LSD radix sort of 64-bit unsigned keys held as two 32-bit halves: it orders a window table's packed keys
// (whose numeric order is the windows' lexicographic order) without a comparison callback per pair. A numeric
// kernel on typed arrays, linear in the number of keys.

/**
 * The permutation that sorts keys (hi[i], lo[i]) ascending, both halves read as unsigned 32-bit numbers; equal keys
 * keep their input order. `hi` and `lo` are not changed.
 */
export function radixOrder64(hi: Int32Array | Uint32Array, lo: Int32Array | Uint32Array): Uint32Array {
  const n = lo.length;
  let order = new Uint32Array(n);
  let next = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const counts = new Uint32Array(65_536);
  // Four passes of 16 bits, least significant first: lo's low half, lo's high half, then hi's.
  for (let pass = 0; pass < 4; pass++) {
    const half = pass < 2 ? lo : hi;
    const shift = (pass & 1) * 16;
    counts.fill(0);
    let same = true;
    const first = n > 0 ? (half[order[0]!]! >>> shift) & 0xffff : 0;
    for (let i = 0; i < n; i++) {
      const d = (half[i]! >>> shift) & 0xffff;
      counts[d]!++;
      if (d !== first) same = false;
    }
    if (same) continue; // every key has this digit: the pass would not move anything
    let sum = 0;
    for (let d = 0; d < 65_536; d++) {
      const c = counts[d]!;
      counts[d] = sum;
      sum += c;
    }
    for (let i = 0; i < n; i++) {
      const idx = order[i]!;
      const d = (half[idx]! >>> shift) & 0xffff;
      next[counts[d]!++] = idx;
    }
    const t = order;
    order = next;
    next = t;
  }
  return order;
}
