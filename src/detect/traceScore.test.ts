import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BigramDetector, ScriptedDetector, UnigramSurprisal } from "./testing/toyDetectors.js";
import {
  defaultScoreName,
  scoreOf,
  scoreTrace,
  scoreTraces,
  supportsHamming,
  TRACE_SCORE_NAMES,
  TraceAccumulator,
  type TraceSummary,
} from "./traceScore.js";

const ids = (xs: number[]) => Uint16Array.from(xs);

/** A slow, obviously correct summary to compare the one-pass accumulator with. */
function naiveSummary(signals: number[], anomalousAt: number, frame: number, window: number) {
  const anomalous = signals.map((s) => s >= anomalousAt);
  const lfcs = signals.map((_, i) => anomalous.slice(Math.max(0, i - frame + 1), i + 1).filter((a) => a).length);
  const scored = signals.filter((s) => !Number.isNaN(s));
  const positions = anomalous.flatMap((a, i) => (a ? [i] : []));
  const sum = scored.reduce((a, b) => a + b, 0);
  let maxWindowMean = scored.length === 0 ? 0 : sum / scored.length;
  if (scored.length >= window) {
    maxWindowMean = Number.NEGATIVE_INFINITY;
    for (let i = window; i <= scored.length; i++) {
      const m = scored.slice(i - window, i).reduce((a, b) => a + b, 0) / window;
      maxWindowMean = Math.max(maxWindowMean, m);
    }
  }
  return {
    calls: signals.length,
    windows: scored.length,
    anomalies: positions.length,
    mismatchRate: scored.length === 0 ? 0 : positions.length / scored.length,
    maxLfc: Math.max(0, ...lfcs),
    firstAnomalyAt: positions[0] ?? null,
    lastAnomalyAt: positions.at(-1) ?? null,
    signalSum: sum,
    signalMean: scored.length === 0 ? 0 : sum / scored.length,
    signalMax: scored.length === 0 ? 0 : Math.max(...scored),
    maxWindowMean,
  };
}

describe("scoreTrace on hand-worked examples", () => {
  it("mismatch signals: rate, LFC with F = 3, first/last positions, windowed mean with W = 4", () => {
    // Calls 0 and 1 have no signal (window not yet full); anomalous calls are 3, 5, 6 and 9.
    const signals = [Number.NaN, Number.NaN, 0, 1, 0, 1, 1, 0, 0, 1];
    const det = new ScriptedDetector(signals);
    const s = scoreTrace(det, new Uint16Array(signals.length), { frame: 3, window: 4 });
    expect(s.calls).toBe(10);
    expect(s.windows).toBe(8);
    expect(s.anomalies).toBe(4);
    expect(s.mismatchRate).toBe(4 / 8);
    // LFC per call over bits 0,0,0,1,0,1,1,0,0,1: 0,0,0,1,1,2,2,2,1,1.
    expect(s.maxLfc).toBe(2);
    expect(s.firstAnomalyAt).toBe(3);
    expect(s.lastAnomalyAt).toBe(9);
    expect(s.signalSum).toBe(4);
    expect(s.signalMean).toBe(0.5);
    expect(s.signalMax).toBe(1);
    // Scored signals 0,1,0,1,1,0,0,1; means of 4 in a row: .5, .75, .5, .5, .5.
    expect(s.maxWindowMean).toBe(0.75);
    expect(s.normalisedAnomalySignal).toBeNull();
    expect(scoreOf(s, defaultScoreName(det))).toBe(0.5);
  });

  it("surprisal signals: windowed mean with W = 2 and the default score", () => {
    const signals = [Number.NaN, 2, 4, 0, 6, 1];
    const det = new ScriptedDetector(signals, { kind: "surprisal", anomalousAt: 5 });
    const s = scoreTrace(det, new Uint16Array(signals.length), { window: 2 });
    // Pairs of scored signals: (2,4)=3, (4,0)=2, (0,6)=3, (6,1)=3.5.
    expect(s.maxWindowMean).toBe(3.5);
    expect(s.signalMax).toBe(6);
    expect(s.signalMean).toBe(13 / 5);
    expect(s.anomalies).toBe(1);
    expect(s.firstAnomalyAt).toBe(4);
    expect(s.lastAnomalyAt).toBe(4);
    expect(defaultScoreName(det)).toBe("maxWindowSurprisal");
    expect(scoreOf(s, "maxWindowSurprisal")).toBe(3.5);
    expect(scoreOf(s, "maxSurprisal")).toBe(6);
    expect(scoreOf(s, "meanSurprisal")).toBe(13 / 5);
  });

  it("a trace with fewer scored calls than the window reports the mean of all of them", () => {
    const det = new ScriptedDetector([Number.NaN, 3, 5], { kind: "surprisal", anomalousAt: 10 });
    expect(scoreTrace(det, new Uint16Array(3), { window: 20 }).maxWindowMean).toBe(4);
  });

  it("an infinite surprisal dominates its windows and leaves no NaN once it slides out", () => {
    const det = new ScriptedDetector([1, Number.POSITIVE_INFINITY, 1, 1, 3], {
      kind: "surprisal",
      anomalousAt: 10,
    });
    const acc = new TraceAccumulator(det.signal, { window: 2 });
    const means: number[] = [];
    for (const x of [1, Number.POSITIVE_INFINITY, 1, 1, 3]) {
      acc.add(x);
      means.push(acc.windowMean);
    }
    expect(means).toEqual([Number.NaN, Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY, 1, 2]);
    expect(acc.summary().maxWindowMean).toBe(Number.POSITIVE_INFINITY);
    expect(scoreTrace(det, new Uint16Array(5), { window: 2 }).maxWindowMean).toBe(Number.POSITIVE_INFINITY);
  });

  it("an empty trace scores 0 on every figure", () => {
    const det = new BigramDetector();
    det.train([ids([1, 2, 3])]);
    const s = scoreTrace(det, new Uint16Array(0), { hamming: true });
    expect(s).toEqual({
      calls: 0,
      windows: 0,
      anomalies: 0,
      mismatchRate: 0,
      maxLfc: 0,
      firstAnomalyAt: null,
      lastAnomalyAt: null,
      signalSum: 0,
      signalMean: 0,
      signalMax: 0,
      maxWindowMean: 0,
      normalisedAnomalySignal: 0,
    } satisfies TraceSummary);
    for (const name of TRACE_SCORE_NAMES) expect(scoreOf(s, name)).toBe(0);
  });

  it("calls without signal are neither windows nor anomalies", () => {
    // A one-call trace: the bigram detector has no pair yet, so the call gets NaN.
    const det = new BigramDetector();
    det.train([ids([1, 2])]);
    const s = scoreTrace(det, ids([7]));
    expect(s.calls).toBe(1);
    expect(s.windows).toBe(0);
    expect(s.anomalies).toBe(0);
    expect(s.mismatchRate).toBe(0);
    expect(s.maxLfc).toBe(0);
    expect(s.firstAnomalyAt).toBeNull();
  });

  it("scoreOf reads the figure each name designates", () => {
    const s: TraceSummary = {
      calls: 100,
      windows: 90,
      anomalies: 7,
      mismatchRate: 0.07,
      maxLfc: 4,
      firstAnomalyAt: 3,
      lastAnomalyAt: 80,
      signalSum: 300,
      signalMean: 3.3,
      signalMax: 9.5,
      maxWindowMean: 6.25,
      normalisedAnomalySignal: 0.5,
    };
    expect(TRACE_SCORE_NAMES.map((n) => scoreOf(s, n))).toEqual([0.07, 4, 7, 3.3, 6.25, 9.5, 0.5]);
    expect(() => scoreOf({ ...s, normalisedAnomalySignal: null }, "hamming")).toThrow(/minHammingDistance/);
  });
});

describe("normalised anomaly signal (Hofmeyr 1998)", () => {
  const det = new BigramDetector();
  det.train([ids([0, 1, 2, 3])]); // pairs 01, 12, 23; k = 2

  it("is the largest min Hamming distance over the trace divided by k", () => {
    expect(supportsHamming(det)).toBe(true);
    // Pairs 01 (seen: 0), 13 (vs 12 or 23: 1), 33 (vs 23: 1): max 1, / k = 0.5.
    expect(scoreTrace(det, ids([0, 1, 3, 3]), { hamming: true }).normalisedAnomalySignal).toBe(0.5);
    // Pair 56 differs from every pair in both calls.
    expect(scoreTrace(det, ids([5, 6]), { hamming: true }).normalisedAnomalySignal).toBe(1);
    expect(scoreTrace(det, ids([0, 1, 2]), { hamming: true }).normalisedAnomalySignal).toBe(0);
  });

  it("is computed only when asked, and searches only for anomalous windows", () => {
    det.hammingCalls = 0;
    expect(scoreTrace(det, ids([5, 6, 7])).normalisedAnomalySignal).toBeNull();
    expect(det.hammingCalls).toBe(0);
    scoreTrace(det, ids([0, 1, 2, 3, 9]), { hamming: true });
    expect(det.hammingCalls).toBe(1);
  });

  it("is null for a detector without minHammingDistance", () => {
    const scripted = new ScriptedDetector([1, 1]);
    expect(supportsHamming(scripted)).toBe(false);
    expect(scoreTrace(scripted, new Uint16Array(2), { hamming: true }).normalisedAnomalySignal).toBeNull();
  });
});

describe("scoreTrace against a direct computation (property)", () => {
  const signalArb = fc.oneof(
    fc.constant(Number.NaN),
    fc.integer({ min: 0, max: 3 }),
    fc.double({ min: 0, max: 20, noNaN: true }),
  );
  it("matches for random signals, frames and windows", () => {
    fc.assert(
      fc.property(
        fc.array(signalArb, { maxLength: 120 }),
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 8 }),
        fc.constantFrom(1, 2, 5),
        (signals, frame, window, anomalousAt) => {
          const det = new ScriptedDetector(signals, { kind: "count", anomalousAt });
          const got = scoreTrace(det, new Uint16Array(signals.length), { frame, window });
          const want = naiveSummary(signals, anomalousAt, frame, window);
          const { signalSum, signalMean, maxWindowMean, ...exact } = want;
          expect(got).toMatchObject(exact);
          expect(got.signalSum).toBeCloseTo(signalSum, 9);
          expect(got.signalMean).toBeCloseTo(signalMean, 9);
          expect(got.maxWindowMean).toBeCloseTo(maxWindowMean, 9);
        },
      ),
    );
  });

  it("does not depend on a reused buffer's old contents or size", () => {
    const det = new UnigramSurprisal(2);
    det.train([ids([1, 1, 2, 3, 1, 4])]);
    const trace = ids([1, 2, 9, 9, 3, 1, 1, 5]);
    const fresh = scoreTrace(det, trace);
    expect(scoreTrace(det, trace, { buffer: new Float64Array(3).fill(7) })).toEqual(fresh);
    expect(scoreTrace(det, trace, { buffer: new Float64Array(50).fill(7) })).toEqual(fresh);
    expect(fresh.windows).toBe(6);
  });
});

describe("scoreTraces", () => {
  it("returns the named score of each trace", () => {
    const det = new BigramDetector();
    det.train([ids([1, 2, 3, 1, 2, 3])]);
    // Pairs: [12 23] -> 0/2; [12 29 93] -> 2/3; [] -> 0.
    const scores = scoreTraces(det, [ids([1, 2, 3]), ids([1, 2, 9, 3]), ids([])]);
    expect(Array.from(scores)).toEqual([0, 2 / 3, 0]);
    expect(Array.from(scoreTraces(det, [ids([1, 2, 9, 3])], "count"))).toEqual([2]);
  });
});

describe("options", () => {
  it("rejects bad frame and window lengths", () => {
    const det = new BigramDetector();
    expect(() => scoreTrace(det, ids([1]), { frame: 0 })).toThrow(/frame/);
    expect(() => scoreTrace(det, ids([1]), { window: -1 })).toThrow(/window/);
  });
});
