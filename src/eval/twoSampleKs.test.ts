import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { twoSampleKs } from "./twoSampleKs.js";

/** D by the definition: the largest |F_a(x) - F_b(x)| over every value of either sample. */
function bruteForce(a: number[], b: number[]): number {
  if (a.length === 0 || b.length === 0) return 0;
  let d = 0;
  for (const x of [...a, ...b]) {
    const fa = a.filter((v) => v <= x).length / a.length;
    const fb = b.filter((v) => v <= x).length / b.length;
    d = Math.max(d, Math.abs(fa - fb));
  }
  return d;
}

const sample = fc.array(
  fc.integer({ min: 0, max: 5 }).map((k) => k / 5),
  { maxLength: 30 },
);

describe("twoSampleKs", () => {
  it("equals the statistic by definition, zeros given as a count, ties together", () => {
    fc.assert(
      fc.property(sample, sample, (a, b) => {
        const positive = (xs: number[]) => Float64Array.from(xs.filter((x) => x > 0)).sort();
        expect(twoSampleKs(positive(a), a.length, positive(b), b.length)).toBeCloseTo(bruteForce(a, b), 12);
      }),
    );
  });

  it("is 1 for samples that never overlap and 0 for equal ones", () => {
    expect(twoSampleKs(Float64Array.of(0.5, 0.6), 2, new Float64Array(0), 3)).toBe(1);
    expect(twoSampleKs(Float64Array.of(0.5), 2, Float64Array.of(0.5, 0.5), 4)).toBe(0);
    expect(twoSampleKs(new Float64Array(0), 0, Float64Array.of(1), 1)).toBe(0);
  });
});
