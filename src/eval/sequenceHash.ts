// The content hash of a call sequence, for finding identical traces (datasetCleaning.ts, trainingCopies.ts): two
// independent 32-bit lanes over the 16-bit vocabulary ids, FNV-1a and a Murmur3-style mix, each finished with the
// length. The pair, with the length beside it, is a 64-bit-ish key; sequenceIndex.ts still confirms every match by
// comparing the calls, so a collision costs a comparison, never a wrong answer. Hashing ids, not file bytes, makes
// the result blind to whitespace, line endings and number formatting.

/** The two lanes of `calls[start, end)` into out[0] (FNV-1a) and out[1] (Murmur3-style). Allocation-free. */
export function hashCalls(calls: Uint16Array, out: Uint32Array, start = 0, end = calls.length): void {
  let a = 0x811c9dc5;
  let b = 0x9747b28c;
  for (let i = start; i < end; i++) {
    const v = calls[i]!;
    a = Math.imul(a ^ v, 0x01000193);
    let k = Math.imul(v + 1, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    b ^= Math.imul(k, 0x1b873593);
    b = (b << 13) | (b >>> 19);
    b = (Math.imul(b, 5) + 0xe6546b64) | 0;
  }
  const n = end - start;
  out[0] = fmix32(a ^ n);
  out[1] = fmix32(b ^ n);
}

/** Murmur3's finaliser: every input bit affects every output bit. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
