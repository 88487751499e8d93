import { describe, expect, it } from "vitest";
import { attackStartIndex, detectionDelay, firstAlarmAtOrAfter, summarizeDelays } from "./detectionDelay.js";

describe("detection delay", () => {
  // flags [0, 0, 0, 0, 1, 1], attack starting at call 2, timestamps [0, 0.5, 1.0, 1.25, 2.0, 2.5]:
  //   first alarm at or after 2 is call 4 -> 2 calls; seconds from the attack start call: 2.0 - 1.0 = 1.0;
  //   from an attack time of 0.9 s instead: 2.0 - 0.9 = 1.1.
  const alarms = new Uint8Array([0, 0, 0, 0, 1, 1]);
  const timestamps = new Float64Array([0, 0.5, 1.0, 1.25, 2.0, 2.5]);

  it("counts calls without timestamps", () => {
    expect(detectionDelay(alarms, 2)).toEqual({ index: 4, calls: 2, seconds: Number.NaN });
  });

  it("counts seconds from the attack start call, or from the attack time when given", () => {
    expect(detectionDelay(alarms, 2, { timestamps })).toEqual({ index: 4, calls: 2, seconds: 1 });
    const d = detectionDelay(alarms, 2, { timestamps, attackTime: 0.9 });
    expect(d.calls).toBe(2);
    expect(d.seconds).toBeCloseTo(1.1, 12);
  });

  it("counts from the trace start when there is no attack start", () => {
    // no start: the first alarm, call 4, is 4 calls from the trace start; 2.0 - 0 = 2 s
    expect(detectionDelay(alarms, 0, { timestamps })).toEqual({ index: 4, calls: 4, seconds: 2 });
    expect(detectionDelay(alarms)).toEqual({ index: 4, calls: 4, seconds: Number.NaN });
  });

  it("is 0 when the first attack call is alarmed, and NaN when nothing is alarmed from the start on", () => {
    expect(detectionDelay(alarms, 4).calls).toBe(0);
    // an alarm before the start does not detect the attack
    const early = new Uint8Array([1, 0, 0]);
    expect(detectionDelay(early, 1)).toEqual({ index: -1, calls: Number.NaN, seconds: Number.NaN });
    expect(firstAlarmAtOrAfter(early, 0)).toBe(0);
    expect(firstAlarmAtOrAfter(early, 1)).toBe(-1);
  });

  it("rejects a start outside the trace and mismatched timestamps", () => {
    expect(() => detectionDelay(alarms, 7)).toThrow(/attack start 7/);
    expect(() => detectionDelay(alarms, 1.5)).toThrow(/attack start/);
    expect(() => detectionDelay(alarms, 0, { timestamps: new Float64Array(2) })).toThrow(/differ in length/);
  });

  it("finds the attack start index from an attack time (first call at or after it)", () => {
    expect(attackStartIndex(timestamps, 0.9)).toBe(2);
    expect(attackStartIndex(timestamps, 1.0)).toBe(2);
    expect(attackStartIndex(timestamps, -5)).toBe(0);
    expect(attackStartIndex(timestamps, 3)).toBe(6);
    expect(() => attackStartIndex(timestamps, Number.NaN)).toThrow(/NaN/);
  });
});

describe("delay summary", () => {
  it("skips undetected (NaN) delays", () => {
    // kept 4, 0, 2, 10 -> sorted 0 2 4 10: mean 4, median (2 + 4)/2 = 3
    expect(summarizeDelays([4, Number.NaN, 0, 2, 10])).toEqual({
      count: 4,
      mean: 4,
      median: 3,
      min: 0,
      max: 10,
    });
    expect(summarizeDelays([5, 1, 3]).median).toBe(3);
    expect(summarizeDelays([Number.NaN]).count).toBe(0);
    expect(summarizeDelays([]).mean).toBeNaN();
  });
});
