import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { radixOrder64 } from "./radixSort.js";

/** The order a comparison sort gives (unsigned hi, then unsigned lo, stable). */
function expectedOrder(hi: number[], lo: number[]): number[] {
  const idx = hi.map((_, i) => i);
  const key = (i: number): bigint => (BigInt(hi[i]! >>> 0) << 32n) | BigInt(lo[i]! >>> 0);
  return idx.sort((a, b) => {
    const d = key(a) - key(b);
    return d < 0n ? -1 : d > 0n ? 1 : a - b;
  });
}

describe("radixOrder64", () => {
  it("orders unsigned 64-bit keys as a stable comparison sort does", () => {
    const int32 = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
    // Few distinct values make equal keys and equal digits common (the skipped passes and stability).
    const small = fc.constantFrom(0, 1, -1, 0x10000, 0x7fffffff, -(2 ** 31));
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.oneof(int32, small), fc.oneof(int32, small)), { maxLength: 300 }), (pairs) => {
        const hi = pairs.map((p) => p[0]);
        const lo = pairs.map((p) => p[1]);
        const order = radixOrder64(Int32Array.from(hi), Int32Array.from(lo));
        expect([...order]).toEqual(expectedOrder(hi, lo));
      }),
    );
  });

  it("handles no keys", () => {
    expect(radixOrder64(new Int32Array(0), new Int32Array(0)).length).toBe(0);
  });
});
