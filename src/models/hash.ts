// Non-cryptographic hashes of src/models: a checksum for stored model bytes and a content hash for deduplicating
// traces. The checksum is written into saved models, so it must never change.

/** 32-bit FNV-1a of bytes[start, end): the checksum of the KS bigram model format. */
export function fnv1a(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) {
    h ^= bytes[i]!;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * A 53-bit content hash of a trace (FNV-1a over 16-bit ids beside a murmur-style mix), wide enough that distinct
 * traces of a training set practically never share a bucket; callers still compare traces on a match.
 */
export function traceHash(t: Uint16Array): number {
  let h1 = 0x811c9dc5;
  let h2 = 0x9747b28c ^ t.length;
  for (let i = 0; i < t.length; i++) {
    const v = t[i]!;
    h1 = Math.imul(h1 ^ v, 0x01000193);
    h2 = Math.imul(h2 ^ v, 0x5bd1e995);
    h2 ^= h2 >>> 13;
  }
  return (h1 >>> 0) * 2_097_152 + (h2 & 0x1fffff);
}
