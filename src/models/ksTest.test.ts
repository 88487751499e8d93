import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { cumulativeInOrder, identityOrder, kolmogorovQ, ksPValue, ksStatistic, ksStatisticOfCounts } from "./ksTest.js";

/** D by the definition, independently of the cumulative code: max over prefixes of |P(prefix) - Q(prefix)|. */
function naiveD(a: number[], b: number[], order: number[]): number {
  const ta = a.reduce((s, x) => s + x, 0);
  const tb = b.reduce((s, x) => s + x, 0);
  let d = 0;
  for (let j = 0; j < order.length; j++) {
    let pa = 0;
    let pb = 0;
    for (let i = 0; i <= j; i++) {
      pa += a[order[i]!]! / ta;
      pb += b[order[i]!]! / tb;
    }
    d = Math.max(d, Math.abs(pa - pb));
  }
  return d;
}

describe("KS statistic over ordered cells", () => {
  it("matches a hand-worked example", () => {
    // counts a = [2,1,1] -> pmf [.5,.25,.25] -> CDF [.5,.75,1]
    // counts b = [1,1,2] -> pmf [.25,.25,.5] -> CDF [.25,.5,1]
    // |differences| = [.25,.25,0] -> D = 0.25
    expect(ksStatisticOfCounts([2, 1, 1], [1, 1, 2])).toBeCloseTo(0.25, 12);
    const fa = new Float64Array(3);
    expect(cumulativeInOrder([2, 1, 1], identityOrder(3), fa)).toBe(4);
    expect(Array.from(fa)).toEqual([0.5, 0.75, 1]);
  });

  it("depends on the cell order (hand-worked)", () => {
    // a = [1,0,1,0] -> pmf [.5,0,.5,0]; b = [0,1,0,1] -> pmf [0,.5,0,.5]
    // order 0,1,2,3: CDF_a [.5,.5,1,1], CDF_b [0,.5,.5,1] -> diffs [.5,0,.5,0] -> D = .5
    // order 0,2,1,3: CDF_a [.5,1,1,1], CDF_b [0,0,.5,1] -> diffs [.5,1,.5,0] -> D = 1
    expect(ksStatisticOfCounts([1, 0, 1, 0], [0, 1, 0, 1])).toBeCloseTo(0.5, 12);
    expect(ksStatisticOfCounts([1, 0, 1, 0], [0, 1, 0, 1], [0, 2, 1, 3])).toBeCloseTo(1, 12);
  });

  it("is 1 for point masses at the two ends and 0 for proportional histograms", () => {
    expect(ksStatisticOfCounts([5, 0, 0, 0], [0, 0, 0, 7])).toBe(1);
    expect(ksStatisticOfCounts([3, 1, 2], [9, 3, 6])).toBeLessThan(1e-12);
  });

  it("reads one row of a packed array through the offset", () => {
    const a = new Float64Array([0.5, 0.75, 1]);
    const packed = new Float64Array([0, 0, 1, 0.25, 0.5, 1]);
    expect(ksStatistic(a, packed, 3, 0)).toBeCloseTo(0.75, 12);
    expect(ksStatistic(a, packed, 3, 3)).toBeCloseTo(0.25, 12);
  });

  it("equals the prefix definition, is symmetric, bounded by total variation", () => {
    const hist = (n: number) => fc.array(fc.integer({ min: 0, max: 20 }), { minLength: n, maxLength: n });
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: 12 })
          .chain((n) => fc.tuple(hist(n), hist(n), fc.shuffledSubarray([...Array(n).keys()], { minLength: n }))),
        ([a, b, order]) => {
          fc.pre(a.some((x) => x > 0) && b.some((x) => x > 0));
          const d = ksStatisticOfCounts(a, b, order);
          expect(d).toBeCloseTo(naiveD(a, b, order), 10);
          expect(ksStatisticOfCounts(b, a, order)).toBeCloseTo(d, 12);
          const ta = a.reduce((s, x) => s + x, 0);
          const tb = b.reduce((s, x) => s + x, 0);
          const tv = a.reduce((s, x, i) => s + Math.abs(x / ta - b[i]! / tb), 0) / 2;
          expect(d).toBeLessThanOrEqual(tv + 1e-12);
          expect(d).toBeGreaterThanOrEqual(0);
        },
      ),
      { seed: 7, numRuns: 300 },
    );
  });
});

describe("Kolmogorov distribution and p-values", () => {
  it("gives the classical critical values", () => {
    // Asymptotic one-sided tail: c(0.10) = 1.2238, c(0.05) = 1.3581, c(0.01) = 1.6276.
    expect(kolmogorovQ(1.2238)).toBeCloseTo(0.1, 3);
    expect(kolmogorovQ(1.3581)).toBeCloseTo(0.05, 3);
    expect(kolmogorovQ(1.6276)).toBeCloseTo(0.01, 3);
    expect(kolmogorovQ(0)).toBe(1);
    expect(kolmogorovQ(10)).toBeLessThan(1e-80);
  });

  it("is continuous across the switch between its two series and decreasing", () => {
    expect(Math.abs(kolmogorovQ(1.18 - 1e-9) - kolmogorovQ(1.18 + 1e-9))).toBeLessThan(1e-7);
    let prev = 1;
    for (let x = 0.05; x < 3; x += 0.01) {
      const q = kolmogorovQ(x);
      expect(q).toBeLessThanOrEqual(prev + 1e-12);
      prev = q;
    }
  });

  it("is calibrated on simulated continuous samples", () => {
    // Two-sample D computed by merging sorted samples, independently of ksTest.ts.
    let s = 12345;
    const rand = () => {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      return s / 4294967296;
    };
    const twoSampleD = (x: number[], y: number[]) => {
      x.sort((p, q) => p - q);
      y.sort((p, q) => p - q);
      let i = 0;
      let j = 0;
      let d = 0;
      while (i < x.length && j < y.length) {
        const v = Math.min(x[i]!, y[j]!);
        while (i < x.length && x[i]! <= v) i++;
        while (j < y.length && y[j]! <= v) j++;
        d = Math.max(d, Math.abs(i / x.length - j / y.length));
      }
      return d;
    };
    const n = 100;
    const reps = 1000;
    let rejectNull = 0;
    let rejectShift = 0;
    for (let r = 0; r < reps; r++) {
      const x = Array.from({ length: n }, rand);
      const y = Array.from({ length: n }, rand);
      if (ksPValue(twoSampleD(x, y), n, n) < 0.05) rejectNull++;
      const z = Array.from({ length: n }, () => rand() + 0.3);
      if (ksPValue(twoSampleD(x, z), n, n) < 0.05) rejectShift++;
    }
    expect(rejectNull / reps).toBeGreaterThan(0.025);
    expect(rejectNull / reps).toBeLessThan(0.07);
    expect(rejectShift / reps).toBeGreaterThan(0.9);
  });
});
