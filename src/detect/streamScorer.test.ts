import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Detector } from "../models/detector.js";
import { Vocabulary } from "../syscalls/vocabulary.js";
import { type Alarm, alarmWindowTokens, describeAlarm } from "./alarm.js";
import { StreamScorer } from "./streamScorer.js";
import { BigramDetector, ScriptedDetector, UnigramSurprisal } from "./testing/toyDetectors.js";
import { scoreOf, scoreTrace } from "./traceScore.js";

const ids = (xs: number[]) => Uint16Array.from(xs);

/** Streams of calls over a small alphabet, plus an interleaving order (which stream moves next). */
const streamsArb = fc
  .array(fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 60 }), { minLength: 1, maxLength: 4 })
  .chain((streams) => {
    const total = streams.reduce((a, s) => a + s.length, 0);
    return fc.tuple(fc.constant(streams), fc.array(fc.nat(), { minLength: total, maxLength: total }));
  });

/** Pushes every stream's calls in an interleaved order; returns the per-stream signals as pushed. */
function interleave(scorer: StreamScorer, streams: number[][], order: number[]): number[][] {
  const at = streams.map(() => 0);
  const signals: number[][] = streams.map(() => []);
  for (const pick of order) {
    // The pick-th stream among those that still have calls.
    const live = streams.flatMap((s, i) => (at[i]! < s.length ? [i] : []));
    const i = live[pick % live.length]!;
    signals[i]!.push(scorer.push(100 + i, streams[i]![at[i]!]!));
    at[i]!++;
  }
  return signals;
}

describe("StreamScorer", () => {
  it("gives every stream the summary batch scoring gives its trace (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 2, maxLength: 40 }),
        streamsArb,
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 6 }),
        (training, [streams, order], frame, window) => {
          const detectors: Detector[] = [new BigramDetector(), new UnigramSurprisal(1)];
          for (const det of detectors) {
            det.train([ids(training)]);
            const options = { frame, window, hamming: true };
            const scorer = new StreamScorer(det, options);
            interleave(scorer, streams, order);
            streams.forEach((s, i) => {
              const batch = scoreTrace(det, ids(s), options);
              const live = s.length === 0 ? undefined : scorer.end(100 + i);
              if (live === undefined) expect(batch.calls).toBe(0);
              else expect(live).toEqual(batch);
            });
            expect(scorer.size).toBe(0);
          }
        },
      ),
    );
  });

  it("keeps streams apart: a pair never spans two streams", () => {
    const det = new BigramDetector();
    det.train([ids([1, 2, 3])]); // pairs 12, 23
    const scorer = new StreamScorer(det);
    // Interleaved A: 1 2 3, B: 2 3 1. Seen together as one sequence, 1 2 2 3 3 1 would hold unseen pairs.
    const got = [
      scorer.push(1, 1),
      scorer.push(2, 2),
      scorer.push(1, 2),
      scorer.push(2, 3),
      scorer.push(1, 3),
      scorer.push(2, 1),
    ];
    expect(got).toEqual([Number.NaN, Number.NaN, 0, 0, 0, 1]);
    expect(scorer.summary(1)?.anomalies).toBe(0);
    expect(scorer.summary(2)?.anomalies).toBe(1);
    expect(scorer.summary(2)?.firstAnomalyAt).toBe(2);
    expect(scorer.streams()).toEqual([1, 2]);
  });

  it("raises one LFC alarm per excursion, with position, LFC and the last calls (worked by hand)", () => {
    // Anomaly bits 0,0,0,1,0,1,1,0,0,1 with F = 3 give LFCs 0,0,0,1,1,2,2,2,1,1. Threshold 1: the LFC first
    // exceeds it at call 5 (one alarm for calls 5-7), falls back to 1 at call 8 (re-armed), never exceeds again.
    const signals = [Number.NaN, Number.NaN, 0, 1, 0, 1, 1, 0, 0, 1];
    const alarms: Alarm[] = [];
    const scorer = new StreamScorer(new ScriptedDetector(signals), {
      frame: 3,
      context: 4,
      alarm: { measure: "lfc", threshold: 1 },
      onAlarm: (a) => alarms.push(a),
    });
    const returned: (Alarm | null)[] = [];
    for (let i = 0; i < signals.length; i++) {
      scorer.push(7, 10 + i);
      returned.push(scorer.lastAlarm);
    }
    expect(alarms).toHaveLength(1);
    const a = alarms[0]!;
    expect(a).toMatchObject({
      stream: 7,
      position: 5,
      syscall: 15,
      signal: 1,
      lfc: 2,
      measure: "lfc",
      value: 2,
    });
    expect(Array.from(a.window)).toEqual([12, 13, 14, 15]);
    expect(returned.map((r) => r !== null)).toEqual([
      false,
      false,
      false,
      false,
      false,
      true,
      false,
      false,
      false,
      false,
    ]);
    expect(scorer.alarmCount(7)).toBe(1);

    // Threshold 0: alarms at 3 (LFC 1), and after no fall back to 0, none again: the LFC stays >= 1 from call 3.
    const again: number[] = [];
    const s0 = new StreamScorer(new ScriptedDetector(signals), {
      frame: 3,
      alarm: { measure: "lfc", threshold: 0 },
      onAlarm: (x) => again.push(x.position),
    });
    for (let i = 0; i < signals.length; i++) s0.push(1, i);
    expect(again).toEqual([3]);
  });

  it("re-arms a stream once the measure falls back to the threshold", () => {
    // Signals 1, 1, 0, 1, 1 against threshold 0: rises at calls 0 and 3 only.
    const positions: number[] = [];
    const scorer = new StreamScorer(new ScriptedDetector([1, 1, 0, 1, 1]), {
      alarm: { measure: "signal", threshold: 0 },
      onAlarm: (a) => positions.push(a.position),
    });
    for (let i = 0; i < 5; i++) scorer.push(2, i);
    expect(positions).toEqual([0, 3]);
    expect(scorer.alarmCount(2)).toBe(2);
  });

  it("keeps fewer calls in an alarm's window when the stream is shorter than the context", () => {
    const scorer = new StreamScorer(new ScriptedDetector([1]), {
      alarm: { measure: "signal", threshold: 0.5 },
    });
    scorer.push(3, 42);
    expect(Array.from(scorer.lastAlarm!.window)).toEqual([42]);
  });

  it("an alarm's window is a copy, untouched by later calls", () => {
    const scorer = new StreamScorer(new ScriptedDetector([0, 1, 0, 0, 0]), {
      context: 2,
      alarm: { measure: "signal", threshold: 0 },
    });
    scorer.push(1, 5);
    scorer.push(1, 6);
    const a = scorer.lastAlarm!;
    scorer.push(1, 7);
    scorer.push(1, 8);
    expect(Array.from(a.window)).toEqual([5, 6]);
  });

  it("score alarms fire exactly on streams whose batch score exceeds the threshold (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 2, maxLength: 30 }),
        streamsArb,
        fc.integer({ min: 0, max: 4 }),
        (training, [streams, order], threshold) => {
          const det = new BigramDetector();
          det.train([ids(training)]);
          const fired = new Set<number>();
          const scorer = new StreamScorer(det, {
            frame: 4,
            alarm: { measure: "score", scoreName: "maxLfc", threshold },
            onAlarm: (a) => {
              expect(fired.has(a.stream)).toBe(false); // maxLfc never falls: at most one alarm per stream
              fired.add(a.stream);
            },
          });
          interleave(scorer, streams, order);
          streams.forEach((s, i) => {
            const batch = scoreOf(scoreTrace(det, ids(s), { frame: 4 }), "maxLfc");
            expect(fired.has(100 + i)).toBe(batch > threshold);
          });
        },
      ),
    );
  });

  it("windowMean alarms wait for a full window", () => {
    const det = new ScriptedDetector([9, 9, 0, 0, 0, 0], { kind: "surprisal", anomalousAt: 5 });
    const positions: number[] = [];
    const scorer = new StreamScorer(det, {
      window: 3,
      alarm: { measure: "windowMean", threshold: 5 },
      onAlarm: (a) => positions.push(a.position),
    });
    for (let i = 0; i < 6; i++) scorer.push(1, i);
    // Means of three: (9,9,0) = 6 at call 2, then 3 and 0.
    expect(positions).toEqual([2]);
  });

  it("an empty or signal-less stream scores 0 and raises no alarm", () => {
    const det = new BigramDetector();
    det.train([ids([1, 2])]);
    const scorer = new StreamScorer(det, { alarm: { measure: "score", threshold: 0 } });
    expect(scorer.summary(9)).toBeUndefined();
    expect(scorer.end(9)).toBeUndefined();
    scorer.push(9, 4); // first call: no pair yet
    expect(scorer.lastAlarm).toBeNull();
    expect(scoreOf(scorer.end(9)!, "rate")).toBe(0);
  });

  it("reset starts a stream over", () => {
    const det = new BigramDetector();
    det.train([ids([1, 2])]);
    const scorer = new StreamScorer(det, { alarm: { measure: "signal", threshold: 0 } });
    scorer.push(1, 1);
    scorer.push(1, 5); // unseen pair: alarm
    scorer.reset(1);
    expect(scorer.summary(1)?.calls).toBe(0);
    expect(scorer.alarmCount(1)).toBe(0);
    expect(scorer.push(1, 2)).toBeNaN(); // no pair across the reset
  });

  it("rejects a hamming score alarm without hamming scoring", () => {
    expect(
      () =>
        new StreamScorer(new BigramDetector(), {
          alarm: { measure: "score", scoreName: "hamming", threshold: 0 },
        }),
    ).toThrow(/hamming/);
    expect(() => new StreamScorer(new BigramDetector(), { context: 0 })).toThrow(/context/);
    expect(() => new StreamScorer(new BigramDetector(), { frame: 0 })).toThrow(/frame/);
  });

  it("shows an alarm's window as syscall names", () => {
    const vocab = new Vocabulary(["read", "write", "execve"]);
    const det = new BigramDetector();
    det.train([ids([0, 1, 0, 1])]);
    const scorer = new StreamScorer(det, { alarm: { measure: "lfc", threshold: 0 } });
    for (const c of [0, 1, 0, 2]) scorer.push(4, c);
    const a = scorer.lastAlarm!;
    expect(alarmWindowTokens(a, vocab)).toEqual(["read", "write", "read", "execve"]);
    expect(describeAlarm(a, vocab)).toBe("stream 4 call 3: lfc 1 > 0 (lfc 1): read write read execve");
    expect(alarmWindowTokens({ ...a, window: ids([0, 9]) }, vocab)).toEqual(["read", "?9"]);
  });
});
