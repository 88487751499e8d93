import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { callLevelMetrics, countRuns, type RecordingAlarms, recordingResult } from "./callLevel.js";
import { toJsonSafe } from "./metricJson.js";

const flags = (s: string) => Uint8Array.from(s, (c) => (c === "1" ? 1 : 0));

describe("consecutive false alarms", () => {
  it("counts runs of adjacent alarmed calls once each", () => {
    // 0 [1 1] 0 [1] 0 0 [1 1 1] -> 3 runs, 6 alarmed calls; a run reaching the end still counts
    expect(countRuns(flags("0110100111"))).toBe(3);
    expect(countRuns(flags("1111"))).toBe(1);
    expect(countRuns(flags("1010"))).toBe(2);
    expect(countRuns(flags("0000"))).toBe(0);
    expect(countRuns(flags(""))).toBe(0);
    // within [2, 7): "10100" -> 2 runs (the run "11" at 1-2 is cut at 2 and counts in the window)
    expect(countRuns(flags("0110100111"), 2, 7)).toBe(2);
  });

  it("counts false alarms in a normal recording", () => {
    const r = recordingResult({ alarms: flags("0110100111"), attack: false });
    expect([r.falseAlarmCalls, r.falseAlarmRuns, r.trueNegativeCalls, r.detected]).toEqual([6, 3, 4, false]);
    expect(r.attackStart).toBe(10);
    expect(r.delay).toBeUndefined();
  });

  it("cuts a false-alarm run at the attack start in an attack recording", () => {
    // flags 1 0 1 1 0 0 1 | 1 0 1, attack from call 7:
    //   before: alarmed 0, 2, 3, 6 -> 4 false-alarm calls in runs {0}, {2,3}, {6} (ended by the attack start
    //   although call 7 is alarmed too) -> 3 CFA; unalarmed 1, 4, 5 -> 3 true negatives
    //   attack phase: alarmed 7, 9 -> 2 TP; unalarmed 8 -> 1 FN; detected at 7, delay 0 calls
    const r = recordingResult({ alarms: flags("1011001101"), attack: true, attackStart: 7 });
    expect(r.falseAlarmCalls).toBe(4);
    expect(r.falseAlarmRuns).toBe(3);
    expect(r.trueNegativeCalls).toBe(3);
    expect(r.truePositiveCalls).toBe(2);
    expect(r.falseNegativeCalls).toBe(1);
    expect(r.detected).toBe(true);
    expect(r.delay).toEqual({ index: 7, calls: 0, seconds: Number.NaN });
  });

  it("treats an attack recording with no start as attack from its first call", () => {
    // ADFA-LD style attack trace: no false alarms possible; first alarm at 3 -> delay 3
    const r = recordingResult({ alarms: flags("0001"), attack: true });
    expect([r.attackStart, r.falseAlarmCalls, r.truePositiveCalls, r.falseNegativeCalls]).toEqual([0, 0, 1, 3]);
    expect(r.delay!.calls).toBe(3);
  });

  it("derives the attack start from an attack time and timestamps", () => {
    // timestamps 10, 11, 12, 13, 14; attack at 11.5 -> first attack call is index 2 (t = 12)
    // flags 0 1 0 0 1: call 1 is a false alarm; detection at 4 -> 2 calls, 14 - 11.5 = 2.5 s
    const r = recordingResult({
      alarms: flags("01001"),
      attack: true,
      attackTime: 11.5,
      timestamps: new Float64Array([10, 11, 12, 13, 14]),
    });
    expect([r.attackStart, r.falseAlarmCalls, r.falseAlarmRuns]).toEqual([2, 1, 1]);
    expect(r.delay).toEqual({ index: 4, calls: 2, seconds: 2.5 });
  });

  it("rejects inconsistent recordings", () => {
    expect(() => recordingResult({ alarms: flags("01"), attack: false, attackStart: 1 })).toThrow(/normal/);
    expect(() => recordingResult({ alarms: flags("01"), attack: true, attackStart: 3 })).toThrow(/attack start 3/);
    expect(() => recordingResult({ alarms: flags("01"), attack: true, attackTime: 1 })).toThrow(/timestamps/);
    expect(() =>
      recordingResult({ name: "r1", alarms: flags("01"), attack: true, timestamps: new Float64Array(3) }),
    ).toThrow(/recording "r1": 3 timestamps for 2 calls/);
  });
});

describe("call-level metrics over recordings", () => {
  // R1 normal   0110100111                 -> FA calls 6, CFA 3, TN 4
  // R2 attack   1011001|101 (start 7)      -> FA 4, CFA 3, TN 3, TP 2, FN 1, detected, delay 0 calls
  // R3 attack   000|011 (start 3), timestamps 0 1 2 3 4 5, attack time 2.5
  //                                        -> FA 0, TN 3, TP 2, FN 1, detected at 4: 1 call, 4 - 2.5 = 1.5 s
  // R4 attack   10|00 (start 2)            -> FA 1, CFA 1, TN 1, FN 2, not detected
  // R5 normal   0000                       -> TN 4
  // Totals: recordings 5, attack 3, detected 2 -> DR 2/3; FA calls 6 + 4 + 0 + 1 = 11; TN 4 + 3 + 3 + 1 + 4 = 15;
  //   TP 4; FN 4; calls 10 + 10 + 6 + 4 + 4 = 34; CFA normal 3, attack 3 + 1 = 4, total 7;
  //   precisionCfa = 2 / (2 + 7) = 2/9; precisionCalls = 2 / (2 + 11) = 2/13;
  //   f1Cfa = 2 (2/9)(2/3) / (2/9 + 2/3) = (8/27) / (8/9) = 1/3; FA call rate = 11 / 26;
  //   delays in calls: R2 0, R3 1 -> mean 0.5; in seconds: R3 only (R2 has no timestamps) -> 1.5.
  const recordings: RecordingAlarms[] = [
    { name: "R1", alarms: flags("0110100111"), attack: false },
    { name: "R2", alarms: flags("1011001101"), attack: true, attackStart: 7 },
    {
      name: "R3",
      alarms: flags("000011"),
      attack: true,
      attackTime: 2.5,
      timestamps: new Float64Array([0, 1, 2, 3, 4, 5]),
    },
    { name: "R4", alarms: flags("1000"), attack: true, attackStart: 2 },
    { name: "R5", alarms: flags("0000"), attack: false },
  ];

  it("adds up the hand-worked totals", () => {
    const m = callLevelMetrics(recordings);
    expect([m.recordings, m.attackRecordings, m.detectedAttacks]).toEqual([5, 3, 2]);
    expect(m.detectionRate).toBeCloseTo(2 / 3, 15);
    expect([m.calls, m.falseAlarmCalls, m.trueNegativeCalls, m.truePositiveCalls, m.falseNegativeCalls]).toEqual([
      34, 11, 15, 4, 4,
    ]);
    expect([m.cfaNormal, m.cfaAttack, m.cfa]).toEqual([3, 4, 7]);
    expect(m.precisionCfa).toBeCloseTo(2 / 9, 15);
    expect(m.precisionCalls).toBeCloseTo(2 / 13, 15);
    expect(m.f1Cfa).toBeCloseTo(1 / 3, 15);
    expect(m.falseAlarmCallRate).toBeCloseTo(11 / 26, 15);
    expect(m.delayCalls).toEqual({ count: 2, mean: 0.5, median: 0.5, min: 0, max: 1 });
    expect(m.delaySeconds.count).toBe(1);
    expect(m.delaySeconds.mean).toBeCloseTo(1.5, 12);
    expect(m.perRecording.map((r) => r.name)).toEqual(["R1", "R2", "R3", "R4", "R5"]);
    expect(m.perRecording.map((r) => r.detected)).toEqual([false, true, true, false, false]);
  });

  it("gives NaN (null in JSON) where LID-DS would divide by zero", () => {
    const m = callLevelMetrics([{ alarms: flags("000"), attack: false }]);
    expect(m.detectionRate).toBeNaN();
    expect(m.precisionCfa).toBeNaN();
    expect(m.f1Cfa).toBeNaN();
    const json = JSON.stringify(toJsonSafe(m));
    expect(json).not.toContain("NaN");
    expect(JSON.parse(json).detectionRate).toBeNull();
  });

  /**
   * A per-call streaming count written the way LID-DS's PerformanceMeasurement walks calls (a run is open while
   * alarms continue before the attack; it closes at an unalarmed call, at an attack-phase call, at a new
   * recording) plus a final close at the end, which is the one documented difference.
   */
  function streamingReference(recs: RecordingAlarms[]) {
    let fp = 0;
    let cfaNormal = 0;
    let cfaAttack = 0;
    let detected = 0;
    let open: "normal" | "attack" | null = null;
    const close = () => {
      if (open === "normal") cfaNormal++;
      else if (open === "attack") cfaAttack++;
      open = null;
    };
    for (const rec of recs) {
      close();
      let hit = false;
      const start = rec.attack ? (rec.attackStart ?? 0) : Number.POSITIVE_INFINITY;
      rec.alarms.forEach((a, i) => {
        if (i >= start) {
          close();
          if (a && !hit) {
            hit = true;
            detected++;
          }
        } else if (a) {
          fp++;
          open = rec.attack ? "attack" : "normal";
        } else close();
      });
    }
    close();
    return { fp, cfaNormal, cfaAttack, detected };
  }

  it("agrees with a per-call streaming count on random recordings", () => {
    const rec = fc
      .record({
        alarms: fc.uint8Array({ min: 0, max: 1, maxLength: 30 }),
        attack: fc.boolean(),
        startFrac: fc.double({ min: 0, max: 1, noNaN: true }),
      })
      .map(({ alarms, attack, startFrac }): RecordingAlarms => {
        const r: RecordingAlarms = { alarms, attack };
        if (attack) r.attackStart = Math.floor(startFrac * alarms.length);
        return r;
      });
    fc.assert(
      fc.property(fc.array(rec, { maxLength: 8 }), (recs) => {
        const m = callLevelMetrics(recs);
        const ref = streamingReference(recs);
        expect([m.falseAlarmCalls, m.cfaNormal, m.cfaAttack, m.detectedAttacks]).toEqual([
          ref.fp,
          ref.cfaNormal,
          ref.cfaAttack,
          ref.detected,
        ]);
        expect(m.truePositiveCalls + m.falseNegativeCalls + m.falseAlarmCalls + m.trueNegativeCalls).toBe(m.calls);
        // every run holds at least one false-alarm call
        expect(m.cfa).toBeLessThanOrEqual(m.falseAlarmCalls);
      }),
    );
  });
});
