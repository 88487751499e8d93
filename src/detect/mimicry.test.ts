import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { HomeostatError } from "../errors.js";
import type { Detector } from "../models/detector.js";
import { createDetector } from "../models/registry.js";
import { staticCallsFactory } from "../models/staticCalls.js";
import { findMimicry, mimicryContext } from "./mimicry.js";
import { MinHeap } from "./minHeap.js";

function trained(spec: string, options: Record<string, number | string>, traces: number[][]): Detector {
  const d = createDetector(spec, options);
  d.train(traces.map((t) => Uint16Array.from(t)));
  return d;
}

/** The signals of `calls` after `start` on a fresh stream: what the model says of the attacker's sequence. */
function signalsAfter(d: Detector, start: number[], calls: number[]): number[] {
  const s = d.newState();
  for (const c of start) d.step(s, c);
  return calls.map((c) => d.step(s, c));
}

/** Whether `calls` holds the goal calls in order. */
function reaches(calls: number[], goal: number[]): boolean {
  let g = 0;
  for (const c of calls) if (g < goal.length && c === goal[g]) g++;
  return g === goal.length;
}

describe("mimicry search, hand-worked", () => {
  it("stide: the attacker walks the known windows to the goal; a call never seen has no path", () => {
    const d = trained("stide", { k: 3 }, [[0, 1, 2, 3]]);
    const r = findMimicry(d, { goal: [3], start: [0, 1], alphabet: 5 });
    expect(r).toMatchObject({ found: true, sequence: [2, 3], complete: true, context: 2 });
    const none = findMimicry(d, { goal: [4], start: [0, 1], alphabet: 5 });
    expect(none).toMatchObject({ found: false, sequence: [], complete: true });
    // The windows from [0, 1]: only 0 1 2 then 1 2 3; nothing continues after 2 3.
    expect(findMimicry(d, { goal: [0], start: [0, 1], alphabet: 5 }).found).toBe(false);
  });

  it("stide on a new stream: the first k-1 calls are never scored, so the goal costs one call", () => {
    const d = trained("stide", { k: 3 }, [[0, 1, 2, 3]]);
    expect(findMimicry(d, { goal: [4], alphabet: 5 })).toMatchObject({ found: true, sequence: [4] });
  });

  it("t-stide: a rare window is no way through, so the path is longer than stide's", () => {
    const common = Array.from({ length: 50 }, () => [0, 1, 2, 3]);
    const traces = [[0, 3], ...common];
    const stide = trained("stide", { k: 2 }, traces);
    const tstide = trained("tstide", { k: 2, threshold: 0.01 }, traces);
    expect(findMimicry(stide, { goal: [3], start: [0], alphabet: 4 }).sequence).toEqual([3]);
    expect(findMimicry(tstide, { goal: [3], start: [0], alphabet: 4 }).sequence).toEqual([1, 2, 3]);
  });

  it("lookahead pairs: every lag must be a known pair", () => {
    const d = trained("lookahead", { L: 3 }, [[0, 1, 2]]);
    expect(mimicryContext(d)).toBe(2);
    expect(findMimicry(d, { goal: [2], start: [0, 1], alphabet: 3 }).sequence).toEqual([2]);
    // After 0 1 only 2 follows, and nothing follows 1 2.
    expect(findMimicry(d, { goal: [0], start: [0, 1], alphabet: 3 })).toMatchObject({ found: false, complete: true });
  });

  it("static digraph: a path through allowed pairs; the set alone allows the goal at once", () => {
    const input = {
      vocabularySize: 5,
      calls: [0, 1, 2, 3],
      entry: [],
      pairs: [
        [0, 1],
        [1, 2],
        [2, 3],
      ] as [number, number][],
      sources: [],
    };
    const digraph = staticCallsFactory.fromCalls(input, { mode: "digraph" });
    expect(findMimicry(digraph, { goal: [3], start: [0], alphabet: 5 }).sequence).toEqual([1, 2, 3]);
    const set = staticCallsFactory.fromCalls(input);
    expect(findMimicry(set, { goal: [3], start: [0], alphabet: 5 }).sequence).toEqual([3]);
    // A call outside the set is impossible from anywhere.
    expect(findMimicry(set, { goal: [4], alphabet: 5 })).toMatchObject({ found: false, complete: true });
  });

  it("n-gram: the most probable path under the threshold, with its surprisal", () => {
    // After 0 the model has seen 1 far more often than 3; 1 is always followed by 3.
    const traces = [...Array.from({ length: 40 }, () => [0, 1, 3]), [0, 3]];
    const d = trained("ngram", { n: 2, threshold: 8 }, traces);
    const r = findMimicry(d, { goal: [3], start: [0], alphabet: 4 });
    expect(r.found).toBe(true);
    const signals = signalsAfter(d, [0], r.sequence);
    expect(signals.every((s) => s < 8)).toBe(true);
    expect(r.cost).toBeCloseTo(
      signals.reduce((a, b) => a + b, 0),
      9,
    );
    // The direct way is possible but less probable than the detour through 1.
    const direct = signalsAfter(d, [0], [3])[0]!;
    expect(direct).toBeLessThan(8);
    expect(r.sequence).toEqual([1, 3]);
    expect(r.cost).toBeLessThan(direct);
  });

  it("refuses models whose state is not their last calls, and an empty goal", () => {
    const hmm = trained("hmm", { states: 2, iterations: 1 }, [[0, 1, 0, 1]]);
    expect(() => findMimicry(hmm, { goal: [0], alphabet: 2 })).toThrow(HomeostatError);
    const d = trained("stide", { k: 2 }, [[0, 1]]);
    expect(() => findMimicry(d, { goal: [], alphabet: 2 })).toThrow(/at least one goal/);
  });

  it("gives up without a proof at the state limit", () => {
    const d = trained("stide", { k: 3 }, [[0, 1, 2, 0, 2, 1, 0, 0, 1, 1, 2, 2]]);
    const r = findMimicry(d, { goal: [3], start: [0, 1], alphabet: 4, maxStates: 2 });
    expect(r).toMatchObject({ found: false, complete: false });
  });
});

/** Every sequence over the alphabet up to `max` calls, shortest first. */
function* sequences(alphabet: number, max: number): Generator<number[]> {
  for (let len = 1; len <= max; len++) {
    const seq = new Array<number>(len).fill(0);
    for (;;) {
      yield [...seq];
      let i = len - 1;
      while (i >= 0 && ++seq[i]! === alphabet) seq[i--] = 0;
      if (i < 0) break;
    }
  }
}

describe("mimicry search against brute force", () => {
  const models: [string, Record<string, number | string>][] = [
    ["stide", { k: 3 }],
    ["tstide", { k: 2, threshold: 0.05 }],
    ["lookahead", { L: 3 }],
    ["ngram", { n: 2, threshold: 4 }],
  ];
  for (const [kind, options] of models) {
    it(`${kind}: finds a valid sequence exactly when one exists, no longer (or less probable) than any`, () => {
      fc.assert(
        fc.property(
          fc.array(fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 8 }), {
            minLength: 1,
            maxLength: 4,
          }),
          fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 2, maxLength: 3 }),
          fc.integer({ min: 0, max: 3 }),
          (traces, start, goal) => {
            const d = trained(kind, options, traces);
            const r = findMimicry(d, { goal: [goal], start, alphabet: 4 });
            const valid = (seq: number[]): boolean =>
              reaches(seq, [goal]) && signalsAfter(d, start, seq).every((s) => !(s >= d.signal.anomalousAt));
            let best: number[] | undefined;
            for (const seq of sequences(4, 4)) {
              if (valid(seq)) {
                best = seq;
                break;
              }
            }
            if (r.found) expect(valid(r.sequence)).toBe(true);
            if (best !== undefined) {
              expect(r.found).toBe(true);
              if (d.signal.kind !== "surprisal") expect(r.sequence.length).toBeLessThanOrEqual(best.length);
            }
            if (r.complete && !r.found) expect(best).toBeUndefined();
          },
        ),
        { numRuns: 150 },
      );
    });
  }
});

describe("MinHeap", () => {
  it("pops by the first key, then the second", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 5 }))), (keys) => {
        const h = new MinHeap();
        keys.forEach(([a, b], i) => h.push(i, a, b));
        const out: [number, number][] = [];
        for (let i = h.pop(); i >= 0; i = h.pop()) out.push(keys[i]!);
        const sorted = [...keys].sort((x, y) => x[0] - y[0] || x[1] - y[1]);
        expect(out).toEqual(sorted);
      }),
    );
  });
});
