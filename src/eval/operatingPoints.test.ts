import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { calibrateThreshold } from "../detect/threshold.js";
import { confusionAt } from "./confusion.js";
import { detectionAtFalseAlarm, falseAlarmAtDetection, standardOperatingPoints } from "./operatingPoints.js";
import { rocCounts } from "./roc.js";

// Hand-worked example: 20 normal traces scored 1, 2, ..., 20; 6 attack traces scored 20, 19.5, 18.5, 18.5, 17, 5.
// Alarm when score > threshold.
// - DR at FAR 1%:  at most floor(0.01 * 20) = 0 normals flagged -> threshold >= 20; the lowest curve threshold is
//                  20 itself; attacks above 20: none (the attack at 20 ties the top normal) -> TPR 0.
// - DR at FAR 5%:  at most floor(0.05 * 20) = 1 normal -> lowest threshold with one normal above is 19 (only 20 is
//                  above; at 18.5 both 19 and 20 are); attacks above 19: 20, 19.5 -> TPR 2/6.
// - DR at FAR 10%: at most 2 normals -> threshold 18 (19, 20 above; at 17 also 18 is); attacks above 18: 20, 19.5,
//                  18.5, 18.5 -> TPR 4/6.
// - FAR at DR 90%: at least ceil(0.9 * 6) = ceil(5.4) = 6 attacks -> every attack, so threshold < 5; the highest
//                  curve threshold below 5 is 4; normals above 4: 5..20 = 16 -> FPR 16/20 = 0.8.
const normal = Array.from({ length: 20 }, (_, i) => i + 1);
const attack = [20, 19.5, 18.5, 18.5, 17, 5];

describe("operating points, hand-worked", () => {
  it("gives DR at FAR 1%, 5%, 10% and FAR at DR 90%", () => {
    const ops = standardOperatingPoints(normal, attack);
    const dr = ops.detectionAtFalseAlarm.map((p) => [p.target, p.threshold, p.fp, p.tp]);
    expect(dr).toEqual([
      [0.01, 20, 0, 0],
      [0.05, 19, 1, 2],
      [0.1, 18, 2, 4],
    ]);
    expect(ops.detectionAtFalseAlarm[2]!.tpr).toBeCloseTo(4 / 6, 15);
    const far = ops.falseAlarmAtDetection90;
    expect([far.target, far.threshold, far.fp, far.tp]).toEqual([0.9, 4, 16, 6]);
    expect(far.fpr).toBe(0.8);
    expect(far.tpr).toBe(1);
  });

  it("handles the extremes: FAR 0, FAR 1, DR 0, DR 1", () => {
    const counts = rocCounts(normal, attack);
    expect(detectionAtFalseAlarm(counts, 0).threshold).toBe(20);
    // FAR 1 allows every normal: the lowest threshold, -Infinity, flags everything
    const all = detectionAtFalseAlarm(counts, 1);
    expect([all.threshold, all.fpr, all.tpr]).toEqual([Number.NEGATIVE_INFINITY, 1, 1]);
    // DR 0 is met by flagging nothing
    const none = falseAlarmAtDetection(counts, 0);
    expect([none.threshold, none.fp, none.tp]).toEqual([20, 0, 0]);
    expect(falseAlarmAtDetection(counts, 1).threshold).toBe(4);
    expect(() => detectionAtFalseAlarm(counts, 1.5)).toThrow(/false-alarm rate/);
    expect(() => falseAlarmAtDetection(counts, Number.NaN)).toThrow(/detection rate/);
  });

  it("snaps rates that floating point puts a hair off an integer count", () => {
    // 0.7 * 10 = 7.000000000000001: DR 70% of 10 attacks needs 7, not 8.
    const counts = rocCounts([0], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(falseAlarmAtDetection(counts, 0.7).tp).toBe(7);
    // 0.29 * 100 = 28.999999999999996: FAR 29% of 100 normals allows 29.
    const hundred = Array.from({ length: 100 }, (_, i) => i);
    expect(detectionAtFalseAlarm(rocCounts(hundred, [1000]), 0.29).fp).toBe(29);
  });
});

const scores = fc.array(
  fc.oneof(
    { weight: 8, arbitrary: fc.integer({ min: 0, max: 8 }) },
    { weight: 1, arbitrary: fc.constant(Number.POSITIVE_INFINITY) },
  ),
  { minLength: 1, maxLength: 40 },
);
const rate = fc.double({ min: 0, max: 1, noNaN: true });

/** Every threshold that can change the confusion matrix: the scores, and -Infinity. */
function candidates(neg: number[], pos: number[]): number[] {
  return [...new Set([...neg, ...pos, Number.NEGATIVE_INFINITY])];
}

describe("operating points, properties", () => {
  it("agree with the confusion matrix at the returned threshold", () => {
    fc.assert(
      fc.property(scores, scores, rate, (neg, pos, r) => {
        const counts = rocCounts(neg, pos);
        for (const p of [detectionAtFalseAlarm(counts, r), falseAlarmAtDetection(counts, r)]) {
          const c = confusionAt(neg, pos, p.threshold);
          expect([c.fp, c.tp]).toEqual([p.fp, p.tp]);
          expect(p.fpr).toBe(c.fp / neg.length);
          expect(p.tpr).toBe(c.tp / pos.length);
        }
      }),
    );
  });

  it("DR at FAR is the best TPR over all thresholds with FPR <= target (brute force)", () => {
    fc.assert(
      fc.property(scores, scores, rate, (neg, pos, far) => {
        let best = -1;
        for (const t of candidates(neg, pos)) {
          const c = confusionAt(neg, pos, t);
          if (c.fp <= Math.floor(far * neg.length + 1e-9)) best = Math.max(best, c.tp);
        }
        const p = detectionAtFalseAlarm(rocCounts(neg, pos), far);
        expect(p.tp).toBe(best);
        expect(p.fpr).toBeLessThanOrEqual(far + 1e-9);
      }),
    );
  });

  it("FAR at DR is the smallest FPR over all thresholds with TPR >= target (brute force)", () => {
    fc.assert(
      fc.property(scores, scores, rate, (neg, pos, dr) => {
        let best = Number.POSITIVE_INFINITY;
        for (const t of candidates(neg, pos)) {
          const c = confusionAt(neg, pos, t);
          if (c.tp >= Math.ceil(dr * pos.length - 1e-9)) best = Math.min(best, c.fp);
        }
        const p = falseAlarmAtDetection(rocCounts(neg, pos), dr);
        expect(p.fp).toBe(best);
        expect(p.tpr).toBeGreaterThanOrEqual(dr - 1e-9);
      }),
    );
  });

  it("DR at FAR uses the threshold that src/detect calibrates on the normal scores alone", () => {
    fc.assert(
      fc.property(scores, scores, fc.double({ min: 0, max: 0.999, noNaN: true }), (neg, pos, far) => {
        const p = detectionAtFalseAlarm(rocCounts(neg, pos), far);
        expect(p.threshold).toBe(calibrateThreshold(neg, { method: "far", far }).threshold);
      }),
    );
  });
});
