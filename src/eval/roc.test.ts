import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { HomeostatError } from "../errors.js";
import { confusionAt } from "./confusion.js";
import { auc, roc, rocCounts } from "./roc.js";

/** Mann-Whitney U / (nPos nNeg) by its definition over all pairs, a tie counting 1/2: independent of roc.ts. */
function mannWhitney(neg: number[], pos: number[]): number {
  let u = 0;
  for (const p of pos) {
    for (const q of neg) {
      if (p > q) u += 1;
      else if (p === q) u += 0.5;
    }
  }
  return u / (neg.length * pos.length);
}

/** Scores with many ties: small integers, sometimes +Infinity. */
const tiedScore = fc.oneof(
  { weight: 9, arbitrary: fc.integer({ min: 0, max: 5 }) },
  { weight: 1, arbitrary: fc.constant(Number.POSITIVE_INFINITY) },
);
const tiedScores = fc.array(tiedScore, { minLength: 1, maxLength: 40 });

describe("ROC curve, hand-worked with ties", () => {
  // normal [0.1, 0.4, 0.4, 0.8], attack [0.4, 0.9, 0.9]; alarm when score > threshold.
  // Distinct scores, descending: 0.9, 0.8, 0.4, 0.1; thresholds are those and -Infinity.
  //   t = 0.9:  nothing above                              fp 0, tp 0 -> (0,    0)
  //   t = 0.8:  attacks 0.9, 0.9 above                     fp 0, tp 2 -> (0,    2/3)
  //   t = 0.4:  + normal 0.8                               fp 1, tp 2 -> (1/4,  2/3)
  //   t = 0.1:  + the tie group at 0.4 (2 normal, 1 att.)  fp 3, tp 3 -> (3/4,  1)   one diagonal segment
  //   t = -Inf: + normal 0.1                               fp 4, tp 3 -> (1,    1)
  // Trapezoids: 0 + (1/4)(2/3) + (1/2)(2/3 + 1)/2 + (1/4)(1) = 2/12 + 5/12 + 3/12 = 10/12 = 5/6.
  // Mann-Whitney: attack 0.4 beats 0.1 (1), ties two 0.4s (1/2 + 1/2), loses to 0.8 (0) -> 2;
  //   each attack 0.9 beats all four -> 4 + 4; U = 10 over 3 * 4 = 12 pairs -> 5/6.
  const normal = [0.1, 0.4, 0.4, 0.8];
  const attack = [0.4, 0.9, 0.9];

  it("gives the points and AUC worked by hand", () => {
    const curve = roc(normal, attack);
    expect(curve.points.map((p) => p.threshold)).toEqual([0.9, 0.8, 0.4, 0.1, Number.NEGATIVE_INFINITY]);
    expect(curve.points.map((p) => [p.fp, p.tp])).toEqual([
      [0, 0],
      [0, 2],
      [1, 2],
      [3, 3],
      [4, 3],
    ]);
    expect(curve.points.map((p) => p.fpr)).toEqual([0, 0, 0.25, 0.75, 1]);
    expect(curve.points[1]!.tpr).toBeCloseTo(2 / 3, 15);
    expect(curve.auc).toBeCloseTo(5 / 6, 15);
    expect(curve.fullPointCount).toBe(5);
    expect(curve.downsampled).toBe(false);
    expect(auc(normal, attack)).toBeCloseTo(5 / 6, 15);
  });

  it("does not depend on the order of the input", () => {
    const a = roc([0.4, 0.8, 0.1, 0.4], [0.9, 0.4, 0.9]);
    expect(a.auc).toBeCloseTo(5 / 6, 15);
    expect(a.points.length).toBe(5);
  });

  it("perfect separation, total inversion and all ties give 1, 0 and 1/2", () => {
    // every attack above every normal: U = all pairs
    expect(auc([1, 2], [3, 4])).toBe(1);
    // every attack below every normal
    expect(auc([3, 4], [1, 2])).toBe(0);
    // one tie group: a single diagonal segment from (0,0) to (1,1)
    const tie = roc([7, 7, 7], [7, 7]);
    expect(tie.auc).toBe(0.5);
    expect(tie.points.map((p) => [p.fpr, p.tpr])).toEqual([
      [0, 0],
      [1, 1],
    ]);
  });

  it("accepts +Infinity as a maximal score", () => {
    // normal [1, Inf], attack [Inf, Inf, 2]: thresholds Inf, 2, 1, -Inf
    //   t = Inf: (0,0); t = 2: tie group at Inf -> fp 1, tp 2; t = 1: + attack 2 -> tp 3; t = -Inf: + normal 1.
    //   AUC: (1/2)(0 + 2/3)/2 + (1/2)(1) = 1/6 + 1/2 = 2/3.
    //   Mann-Whitney: Inf vs 1 -> 1, Inf vs Inf -> 1/2 (twice), 2 vs 1 -> 1, 2 vs Inf -> 0: U = 4 / 6 = 2/3.
    const inf = Number.POSITIVE_INFINITY;
    const curve = roc([1, inf], [inf, inf, 2]);
    expect(curve.points.map((p) => p.threshold)).toEqual([inf, 2, 1, Number.NEGATIVE_INFINITY]);
    expect(curve.auc).toBeCloseTo(2 / 3, 15);
  });

  it("treats -0 and 0 as one score and never reports a -0 threshold", () => {
    const curve = roc([-0, 1], [0, 2]);
    expect(curve.points.map((p) => [p.fp, p.tp])).toEqual([
      [0, 0],
      [0, 1],
      [1, 1],
      [2, 2],
    ]);
    expect(Object.is(curve.points[3]!.threshold, Number.NEGATIVE_INFINITY)).toBe(true);
    expect(Object.is(curve.points[2]!.threshold, 0)).toBe(true);
  });

  it("rejects NaN, -Infinity and empty classes with E_USAGE", () => {
    const bad: [number[], number[]][] = [
      [[0.1, Number.NaN], [0.2]],
      [[0.1], [Number.NaN]],
      [[Number.NEGATIVE_INFINITY], [1]],
      [[], [1]],
      [[1], []],
    ];
    for (const [neg, pos] of bad) {
      let err: unknown;
      try {
        roc(neg, pos);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(HomeostatError);
      expect((err as HomeostatError).code).toBe("E_USAGE");
    }
    expect(() => roc([1], [2], { maxPoints: 1 })).toThrow(/maxPoints/);
  });
});

describe("ROC curve properties", () => {
  it("AUC equals Mann-Whitney U / (nPos nNeg) with ties counting 1/2", () => {
    fc.assert(
      fc.property(tiedScores, tiedScores, (neg, pos) => {
        expect(auc(neg, pos)).toBeCloseTo(mannWhitney(neg, pos), 12);
      }),
      { numRuns: 500 },
    );
  });

  it("AUC lies in [0, 1] and swapping the labels gives 1 - AUC", () => {
    fc.assert(
      fc.property(tiedScores, tiedScores, (neg, pos) => {
        const a = auc(neg, pos);
        expect(a).toBeGreaterThanOrEqual(0);
        expect(a).toBeLessThanOrEqual(1);
        expect(auc(pos, neg)).toBeCloseTo(1 - a, 12);
      }),
    );
  });

  it("AUC is invariant under strictly increasing transforms of the scores", () => {
    // Integer scores keep these transforms strictly increasing in floating point (no two ints collapse).
    const transforms: ((x: number) => number)[] = [(x) => 3 * x - 7, (x) => Math.exp(x), (x) => x ** 3, Math.atan];
    const ints = fc.array(fc.integer({ min: -6, max: 6 }), { minLength: 1, maxLength: 30 });
    fc.assert(
      fc.property(ints, ints, fc.integer({ min: 0, max: transforms.length - 1 }), (neg, pos, t) => {
        const f = transforms[t]!;
        expect(auc(neg.map(f), pos.map(f))).toBe(auc(neg, pos));
      }),
    );
  });

  it("the curve runs from (0,0) to (1,1), monotone, one point per distinct score plus one", () => {
    fc.assert(
      fc.property(tiedScores, tiedScores, (neg, pos) => {
        const { points } = roc(neg, pos);
        expect(points.length).toBe(new Set([...neg, ...pos]).size + 1);
        expect([points[0]!.fpr, points[0]!.tpr]).toEqual([0, 0]);
        expect([points.at(-1)!.fpr, points.at(-1)!.tpr]).toEqual([1, 1]);
        for (let k = 1; k < points.length; k++) {
          const a = points[k - 1]!;
          const b = points[k]!;
          expect(b.threshold).toBeLessThan(a.threshold);
          expect(b.fpr).toBeGreaterThanOrEqual(a.fpr);
          expect(b.tpr).toBeGreaterThanOrEqual(a.tpr);
          // each step flags at least one trace
          expect(b.fp + b.tp).toBeGreaterThan(a.fp + a.tp);
        }
      }),
    );
  });

  it("every point is the confusion matrix at its threshold", () => {
    fc.assert(
      fc.property(tiedScores, tiedScores, (neg, pos) => {
        for (const p of roc(neg, pos).points) {
          const c = confusionAt(neg, pos, p.threshold);
          expect([c.fp, c.tp]).toEqual([p.fp, p.tp]);
        }
      }),
    );
  });

  it("downsampling keeps the endpoints, a subsequence of the curve, at most maxPoints, and the exact AUC", () => {
    const reals = fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 400 });
    fc.assert(
      fc.property(reals, reals, fc.integer({ min: 2, max: 60 }), (neg, pos, maxPoints) => {
        const full = roc(neg, pos);
        const small = roc(neg, pos, { maxPoints });
        expect(small.auc).toBe(full.auc);
        expect(small.fullPointCount).toBe(full.points.length);
        expect(small.points.length).toBeLessThanOrEqual(maxPoints);
        expect(small.downsampled).toBe(full.points.length > maxPoints);
        expect(small.points[0]).toEqual(full.points[0]);
        expect(small.points.at(-1)).toEqual(full.points.at(-1));
        // a subsequence, in order
        let k = 0;
        for (const p of small.points) {
          while (k < full.points.length && full.points[k]!.threshold !== p.threshold) k++;
          expect(full.points[k]).toEqual(p);
        }
      }),
      { numRuns: 200 },
    );
  });

  it("downsampling a large curve keeps it usable for plotting", () => {
    // 20000 distinct scores -> 20001 points; a 100-point curve spreads its points along the whole path.
    const neg = Array.from({ length: 10000 }, (_, i) => i * 2);
    const pos = Array.from({ length: 10000 }, (_, i) => i * 2 + 1);
    const small = roc(neg, pos, { maxPoints: 100 });
    expect(small.fullPointCount).toBe(20001);
    expect(small.points.length).toBeGreaterThan(50);
    expect(small.points.length).toBeLessThanOrEqual(100);
    // positive i*2+1 beats normals 0..i*2 (i+1 of them): U = sum (i+1) = n(n+1)/2, AUC = (n+1)/(2n)
    expect(small.auc).toBeCloseTo(10001 / 20000, 12);
    const counts = rocCounts(neg, pos);
    expect(counts.thresholds.length).toBe(20001);
  });
});
