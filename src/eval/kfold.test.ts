import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { HomeostatError } from "../errors.js";
import { stratifiedKFold } from "./kfold.js";

function countLabel(labels: ArrayLike<number>, idx: Int32Array, label: number): number {
  let n = 0;
  for (const i of idx) if (labels[i] === label) n++;
  return n;
}

describe("stratified k-fold", () => {
  it("splits a hand-worked example with the label proportions of the whole", () => {
    // 10 normal (0) and 5 attack (1), k = 5: each fold gets 10/5 = 2 normal and 5/5 = 1 attack -> 3 traces.
    const labels = [...Array(10).fill(0), ...Array(5).fill(1)];
    const folds = stratifiedKFold(labels, 5, 42);
    expect(folds.length).toBe(5);
    for (const f of folds) {
      expect(f.test.length).toBe(3);
      expect(countLabel(labels, f.test, 0)).toBe(2);
      expect(countLabel(labels, f.test, 1)).toBe(1);
      expect(f.train.length).toBe(12);
    }
    // 7 normal and 3 attack, k = 3: normals 7/3 -> 2 or 3 per fold; attacks 3/3 -> exactly 1 per fold
    const uneven = [0, 1, 0, 0, 1, 0, 0, 0, 1, 0];
    const counts = stratifiedKFold(uneven, 3, 1).map((f) => [
      countLabel(uneven, f.test, 0),
      countLabel(uneven, f.test, 1),
    ]);
    expect(counts.map((c) => c[1])).toEqual([1, 1, 1]);
    expect(counts.map((c) => c[0]!).sort()).toEqual([2, 2, 3]);
  });

  it("is deterministic in the seed, and the seed matters", () => {
    const labels = Array.from({ length: 40 }, (_, i) => i % 3);
    const a = stratifiedKFold(labels, 4, 7);
    const b = stratifiedKFold(labels, 4, 7);
    expect(a.map((f) => Array.from(f.test))).toEqual(b.map((f) => Array.from(f.test)));
    const c = stratifiedKFold(labels, 4, 8);
    expect(c.map((f) => Array.from(f.test))).not.toEqual(a.map((f) => Array.from(f.test)));
  });

  it("rejects bad k, seeds and labels with E_USAGE", () => {
    for (const call of [
      () => stratifiedKFold([0, 1], 1, 0),
      () => stratifiedKFold([0, 1], 3, 0),
      () => stratifiedKFold([0, 1], 2, 0.5),
      () => stratifiedKFold([0, -1], 2, 0),
      () => stratifiedKFold([0, 0.5], 2, 0),
    ]) {
      expect(call).toThrow(HomeostatError);
    }
  });

  it("partitions the indices, with every label's share within one of n_c / k in every fold", () => {
    const input = fc
      .array(fc.integer({ min: 0, max: 3 }), { minLength: 2, maxLength: 120 })
      .chain((labels) => fc.tuple(fc.constant(labels), fc.integer({ min: 2, max: labels.length }), fc.integer()));
    fc.assert(
      fc.property(input, ([labels, k, seed]) => {
        const n = labels.length;
        const folds = stratifiedKFold(labels, k, seed);
        expect(folds.length).toBe(k);
        const seen = new Uint8Array(n);
        for (const f of folds) {
          expect(f.test.length + f.train.length).toBe(n);
          expect(Math.abs(f.test.length - n / k)).toBeLessThan(1);
          for (let i = 1; i < f.test.length; i++) expect(f.test[i]!).toBeGreaterThan(f.test[i - 1]!);
          for (let i = 1; i < f.train.length; i++) expect(f.train[i]!).toBeGreaterThan(f.train[i - 1]!);
          const inTest = new Set(f.test);
          for (const i of f.train) expect(inTest.has(i)).toBe(false);
          for (const i of f.test) seen[i]!++;
          for (const label of new Set(labels)) {
            const whole = labels.filter((l) => l === label).length;
            expect(Math.abs(countLabel(labels, f.test, label) - whole / k)).toBeLessThan(1);
          }
        }
        // every index is tested exactly once
        expect(Array.from(seen).every((s) => s === 1)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});
