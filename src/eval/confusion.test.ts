import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { HomeostatError } from "../errors.js";
import { confusionAt, confusionOfPredictions, confusionRates, detectionByGroup } from "./confusion.js";
import { toJsonSafe } from "./metricJson.js";

describe("confusion matrix at a threshold", () => {
  it("counts a hand-worked example with the strict rule", () => {
    // normal [0.1, 0.4, 0.4, 0.8], attack [0.4, 0.9, 0.9], threshold 0.4:
    //   normals > 0.4: 0.8 -> fp 1, tn 3; attacks > 0.4: 0.9, 0.9 -> tp 2, fn 1 (0.4 is not > 0.4).
    //   precision 2/3, recall 2/3, F1 = 4/(4 + 1 + 1) = 2/3, accuracy (2 + 3)/7 = 5/7, FAR 1/4.
    const c = confusionAt([0.1, 0.4, 0.4, 0.8], [0.4, 0.9, 0.9], 0.4);
    expect(c).toEqual({ tp: 2, fn: 1, fp: 1, tn: 3 });
    const r = confusionRates(c);
    expect(r.precision).toBeCloseTo(2 / 3, 15);
    expect(r.recall).toBeCloseTo(2 / 3, 15);
    expect(r.f1).toBeCloseTo(2 / 3, 15);
    expect(r.accuracy).toBeCloseTo(5 / 7, 15);
    expect(r.falseAlarmRate).toBe(0.25);
  });

  it("defines zero denominators as NaN and writes them to JSON as null", () => {
    // nothing flagged, attacks exist: precision undefined, recall 0, F1 0
    const quiet = confusionRates({ tp: 0, fn: 3, fp: 0, tn: 4 });
    expect(quiet.precision).toBeNaN();
    expect(quiet.recall).toBe(0);
    expect(quiet.f1).toBe(0);
    // no attacks and no alarms: recall and F1 undefined
    const noAttacks = confusionRates({ tp: 0, fn: 0, fp: 0, tn: 4 });
    expect(noAttacks.recall).toBeNaN();
    expect(noAttacks.f1).toBeNaN();
    expect(noAttacks.falseAlarmRate).toBe(0);
    const empty = confusionRates({ tp: 0, fn: 0, fp: 0, tn: 0 });
    expect(empty.accuracy).toBeNaN();
    expect(empty.falseAlarmRate).toBeNaN();
    const json = JSON.stringify(toJsonSafe(quiet));
    expect(json).not.toContain("NaN");
    expect(JSON.parse(json)).toEqual({
      precision: null,
      recall: 0,
      f1: 0,
      accuracy: 4 / 7,
      falseAlarmRate: 0,
    });
  });

  it("F1 is the harmonic mean of precision and recall wherever both are defined and positive", () => {
    const n = fc.integer({ min: 0, max: 50 });
    fc.assert(
      fc.property(n, n, n, n, (tp, fn, fp, tn) => {
        const r = confusionRates({ tp, fn, fp, tn });
        if (r.precision > 0 && r.recall > 0) {
          expect(r.f1).toBeCloseTo((2 * r.precision * r.recall) / (r.precision + r.recall), 12);
        }
        for (const v of Object.values(r)) if (!Number.isNaN(v)) expect(v >= 0 && v <= 1).toBe(true);
      }),
    );
  });

  it("counts predictions against labels and rejects non-binary values", () => {
    // truth 1 1 0 0 1, predicted 1 0 1 0 1 -> tp 2 (idx 0, 4), fn 1 (idx 1), fp 1 (idx 2), tn 1 (idx 3)
    expect(confusionOfPredictions([1, 1, 0, 0, 1], new Uint8Array([1, 0, 1, 0, 1]))).toEqual({
      tp: 2,
      fn: 1,
      fp: 1,
      tn: 1,
    });
    expect(() => confusionOfPredictions([1, 2], [0, 1])).toThrow(HomeostatError);
    expect(() => confusionOfPredictions([1], [0, 1])).toThrow(/differ in length/);
  });

  it("rejects NaN scores and a NaN threshold", () => {
    expect(() => confusionAt([Number.NaN], [1], 0)).toThrow(/normal score 0 is NaN/);
    expect(() => confusionAt([1], [1], Number.NaN)).toThrow(/threshold is NaN/);
  });
});

describe("detection per group", () => {
  it("counts detected / total per attack type, sorted by name", () => {
    // threshold 5: A scores 6, 1, 9 -> 2 of 3; B scores 5, 7 -> 1 of 2 (5 is not > 5); C score 0 -> 0 of 1
    const groups = ["B", "A", "A", "C", "B", "A"];
    const scores = [5, 6, 1, 0, 7, 9];
    expect(detectionByGroup(scores, groups, 5)).toEqual([
      { group: "A", detected: 2, total: 3, rate: 2 / 3 },
      { group: "B", detected: 1, total: 2, rate: 0.5 },
      { group: "C", detected: 0, total: 1, rate: 0 },
    ]);
    expect(() => detectionByGroup([1], ["A", "B"], 0)).toThrow(/differ in length/);
  });
});
