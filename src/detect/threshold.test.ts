import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { calibrateThreshold, isAlarm } from "./threshold.js";

describe("calibrateThreshold", () => {
  it("max: the largest normal score, no false alarm on the calibration set", () => {
    const t = calibrateThreshold([0.1, 0.5, 0.3], { method: "max" });
    expect(t).toEqual({ threshold: 0.5, method: "max", normalTraces: 3, falseAlarmsOnCalibration: 0 });
    expect(isAlarm(0.5, t.threshold)).toBe(false);
    expect(isAlarm(0.5000001, t.threshold)).toBe(true);
  });

  it("far: an order statistic with ties never exceeding their own threshold (worked by hand)", () => {
    // Ten scores: seven 0s, one 1, two 2s (given unsorted). m = floor(far * 10) traces may exceed.
    const scores = [2, 0, 0, 1, 0, 0, 2, 0, 0, 0];
    const at = (far: number) => calibrateThreshold(scores, { method: "far", far });
    // far 0.1: m = 1, threshold = sorted[8] = 2; the two 2s tie with it, so nothing exceeds.
    expect(at(0.1)).toMatchObject({ threshold: 2, far: 0.1, falseAlarmsOnCalibration: 0 });
    // far 0.2: m = 2, threshold = sorted[7] = 1; the two 2s exceed.
    expect(at(0.2)).toMatchObject({ threshold: 1, falseAlarmsOnCalibration: 2 });
    // far 0.25: m = floor(2.5) = 2, the same.
    expect(at(0.25)).toMatchObject({ threshold: 1, falseAlarmsOnCalibration: 2 });
    // far 0.3: m = 3, threshold = sorted[6] = 0; 1, 2, 2 exceed.
    expect(at(0.3)).toMatchObject({ threshold: 0, falseAlarmsOnCalibration: 3 });
    // far 0.5: m = 5, threshold = sorted[4] = 0: still three, since the 0s tie.
    expect(at(0.5)).toMatchObject({ threshold: 0, falseAlarmsOnCalibration: 3 });
    // far 0 is the max threshold.
    expect(at(0).threshold).toBe(2);
  });

  it("counts f * n as the integer it stands for despite rounding (0.29 * 100)", () => {
    const scores = Array.from({ length: 100 }, (_, i) => i);
    // m = 29: threshold = sorted[70] = 70; scores 71..99 (29 of them) exceed.
    expect(calibrateThreshold(scores, { method: "far", far: 0.29 })).toMatchObject({
      threshold: 70,
      falseAlarmsOnCalibration: 29,
    });
  });

  it("keeps at most floor(far * n) false alarms, and no lower normal score would (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 6 }), { minLength: 1, maxLength: 50 }),
        fc.double({ min: 0, max: 0.99, noNaN: true }),
        (scores, far) => {
          const t = calibrateThreshold(scores, { method: "far", far });
          const exceed = (th: number) => scores.filter((s) => isAlarm(s, th)).length;
          const m = Math.floor(far * scores.length + 1e-9);
          expect(t.falseAlarmsOnCalibration).toBe(exceed(t.threshold));
          expect(t.falseAlarmsOnCalibration).toBeLessThanOrEqual(m);
          expect(scores).toContain(t.threshold);
          for (const lower of scores.filter((s) => s < t.threshold)) expect(exceed(lower)).toBeGreaterThan(m);
        },
      ),
    );
  });

  it("accepts a Float64Array and infinite scores", () => {
    const t = calibrateThreshold(Float64Array.from([1, Number.POSITIVE_INFINITY]), { method: "max" });
    expect(t.threshold).toBe(Number.POSITIVE_INFINITY);
    expect(t.falseAlarmsOnCalibration).toBe(0);
  });

  it("refuses no scores, NaN scores and rates outside [0, 1)", () => {
    expect(() => calibrateThreshold([], { method: "max" })).toThrow(/without normal traces/);
    expect(() => calibrateThreshold([1, Number.NaN], { method: "max" })).toThrow(/NaN/);
    expect(() => calibrateThreshold([1], { method: "far", far: 1 })).toThrow(/\[0, 1\)/);
    expect(() => calibrateThreshold([1], { method: "far", far: -0.1 })).toThrow(/\[0, 1\)/);
    expect(() => calibrateThreshold([1], { method: "far" })).toThrow(/\[0, 1\)/);
  });
});
