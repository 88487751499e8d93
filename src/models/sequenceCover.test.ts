import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { HomeostatError } from "../errors.js";
import { Vocabulary } from "../syscalls/vocabulary.js";
import { decodeProfile, encodeProfile } from "./profile.js";
import { parseModelSpec } from "./registry.js";
import { type SequenceCover, sequenceCoverFactory } from "./sequenceCover.js";
import { firstDifference, scoreAll, SyntheticProgram } from "./testing/traces.js";

const u16 = (xs: readonly number[]): Uint16Array => Uint16Array.from(xs);
const [A, B, C, D, E] = [0, 1, 2, 3, 4];

function trained(traces: readonly number[][]): SequenceCover {
  const d = sequenceCoverFactory.create();
  d.train(traces.map(u16));
  return d;
}

function signals(d: SequenceCover, trace: readonly number[]): number[] {
  const out = new Float64Array(trace.length);
  d.scoreTrace(u16(trace), out);
  return Array.from(out);
}

/** The fewest pieces covering `trace` by factors of `set` (dynamic programming over a brute-force factor set). */
function minimalPieces(set: readonly Uint16Array[], trace: Uint16Array): number {
  const factors = new Set<string>();
  for (const t of set) {
    for (let i = 0; i < t.length; i++) for (let j = i + 1; j <= t.length; j++) factors.add(t.subarray(i, j).join(","));
  }
  const best = new Array<number>(trace.length + 1).fill(Infinity);
  best[0] = 0;
  for (let j = 1; j <= trace.length; j++) {
    best[j] = best[j - 1]! + 1; // a single call is always a piece (an unseen one is a piece of its own)
    for (let i = 0; i < j - 1; i++) {
      if (factors.has(trace.subarray(i, j).join(","))) best[j] = Math.min(best[j]!, best[i]! + 1);
    }
  }
  return best[trace.length]!;
}

describe("sequence covering, worked by hand", () => {
  // Training: a b c d and b c a. Test: a b c a d d b c d a e a b (e never seen).
  // Greedy covering: [a b c] (abca is no factor) [a] (ad is none) [d] [d] (db would span the two traces)
  // [b c d] (bcda is none) [a] [e] (unseen) [a b]: 8 pieces over 13 calls.
  const d = trained([
    [A, B, C, D],
    [B, C, A],
  ]);
  const test = [A, B, C, A, D, D, B, C, D, A, E, A, B];

  it("signals each piece start after the first call", () => {
    expect(signals(d, test)).toEqual([0, 0, 0, 1, 1, 1, 1, 0, 0, 1, 1, 1, 0]);
    expect(d.pieces(u16(test))).toBe(8);
  });

  it("covers a training trace, and any factor of one, in one piece", () => {
    expect(signals(d, [A, B, C, D])).toEqual([0, 0, 0, 0]);
    expect(signals(d, [C, A])).toEqual([0, 0]);
    expect(d.pieces(u16([B, C, A]))).toBe(1);
    expect(d.pieces(u16([]))).toBe(0);
  });

  it("never joins two training traces into one factor", () => {
    expect(signals(d, [D, B])).toEqual([0, 1]);
    expect(signals(d, [A, A])).toEqual([0, 1]);
  });

  it("makes an unseen call a piece of its own, the first call included", () => {
    expect(signals(d, [E, A, B])).toEqual([0, 1, 0]);
    expect(signals(d, [E, E, E])).toEqual([0, 1, 1]);
    const untrained = sequenceCoverFactory.create();
    expect(signals(untrained, [A, B, C])).toEqual([0, 1, 1]);
  });

  it("is the fewest pieces any covering by training factors can use (property)", () => {
    const trace = fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 25 }).map(u16);
    fc.assert(
      fc.property(fc.array(trace, { maxLength: 5 }), trace, (set, probe) => {
        const m = sequenceCoverFactory.create();
        m.train(set);
        return m.pieces(probe) === minimalPieces(set, probe);
      }),
      { numRuns: 300, seed: 3 },
    );
  });
});

describe("sequence covering: training", () => {
  it("has no options and is spelled `cover`", () => {
    expect(parseModelSpec("cover")).toEqual({ kind: "cover", options: {} });
    expect(() => parseModelSpec("cover:k=3")).toThrow(HomeostatError);
  });

  it("keeps only the traces that add factors", () => {
    const d = trained([[A, B, C, D], [B, C], [C, D, A], []]);
    expect(d.trainedTraces).toBe(4);
    expect(d.trainedCalls).toBe(9);
    expect(d.storedTraces).toBe(2);
    expect(d.storedCalls).toBe(7);
    expect(d.states).toBeLessThanOrEqual(2 * 7);
  });

  it("learns through interleaved learners exactly as train does (same scores and bytes)", () => {
    const program = new SyntheticProgram(5, 12);
    const traces = program.traces(1, 8, 0, 120);
    const tests = program.traces(2, 8, 0, 120);
    const byTrain = sequenceCoverFactory.create();
    byTrain.train(traces);
    const byLearners = sequenceCoverFactory.create();
    const learners = traces.map(() => byLearners.learner());
    const longest = Math.max(...traces.map((t) => t.length));
    for (let i = 0; i < longest; i++) {
      traces.forEach((t, j) => {
        if (i < t.length) learners[j]!.push(t[i]!);
      });
    }
    learners.forEach((l) => l.end());
    expect(byLearners.trainedCalls).toBe(byTrain.trainedCalls);
    expect(firstDifference(scoreAll(byLearners, tests), scoreAll(byTrain, tests))).toBeUndefined();
    expect(Buffer.from(byLearners.serialize())).toEqual(Buffer.from(byTrain.serialize()));
  });

  it("continues an open stream's piece after retraining splits its state", () => {
    // Trained on x a b, the string "a" shares the state of "x a"; training "a c" splits it off. A stream at "a"
    // then continues its piece with c, as a model trained on both from the start covers "a c" in one piece.
    const d = trained([[D, A, B]]);
    const st = d.newState();
    expect(d.step(st, A)).toBe(0);
    d.train([u16([A, C])]);
    expect(d.step(st, C)).toBe(0);
    expect(d.step(st, A)).toBe(1);
  });

  it("continues after a call that retraining made known", () => {
    const d = trained([[A, B]]);
    const st = d.newState();
    expect(d.step(st, A)).toBe(0);
    expect(d.step(st, E)).toBe(1);
    d.train([u16([E, D])]);
    expect(d.step(st, D)).toBe(0);
  });
});

describe("sequence covering: payload", () => {
  const program = new SyntheticProgram(9, 10);
  const traceArb = fc.array(fc.integer({ min: 0, max: 12 }), { maxLength: 60 }).map(u16);

  it("restores a model that scores identically and writes the same bytes (property)", () => {
    const probes = program.traces(3, 6, 0, 100);
    fc.assert(
      fc.property(fc.array(traceArb, { maxLength: 8 }), (set) => {
        const d = sequenceCoverFactory.create();
        d.train(set);
        const bytes = d.serialize();
        const back = sequenceCoverFactory.deserialize(d.options, bytes);
        return (
          firstDifference(scoreAll(back, [...set, ...probes]), scoreAll(d, [...set, ...probes])) === undefined &&
          Buffer.from(back.serialize()).equals(Buffer.from(bytes)) &&
          back.trainedCalls === d.trainedCalls &&
          back.trainedTraces === d.trainedTraces
        );
      }),
      { numRuns: 200, seed: 5 },
    );
  });

  it("never fails on damaged bytes except with E_PARSE or E_VERSION (property)", () => {
    const d = sequenceCoverFactory.create();
    d.train(program.traces(4, 6, 0, 40));
    const bytes = d.serialize();
    const probe = u16(Array.from({ length: 30 }, (_, i) => (i * 7) % 12));
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat({ max: bytes.length - 1 }), fc.integer({ min: 1, max: 255 })), {
          minLength: 1,
          maxLength: 4,
        }),
        fc.nat({ max: bytes.length + 8 }),
        (flips, cut) => {
          const bad = new Uint8Array(Math.max(cut, bytes.length));
          bad.set(bytes);
          for (const [at, x] of flips) bad[at] = bad[at]! ^ x;
          try {
            const back = sequenceCoverFactory.deserialize({}, bad.subarray(0, cut));
            back.scoreTrace(probe, new Float64Array(probe.length));
            return true;
          } catch (err) {
            return err instanceof HomeostatError && (err.code === "E_PARSE" || err.code === "E_VERSION");
          }
        },
      ),
      { numRuns: 1000, seed: 13 },
    );
  });

  it("travels in a profile, whose checksum catches a damaged byte", () => {
    const d = sequenceCoverFactory.create();
    d.train(program.traces(6, 5, 10, 80));
    const vocab = new Vocabulary(Array.from({ length: 10 }, (_, i) => `call${i}`));
    const bytes = encodeProfile({ detector: d, vocabulary: vocab });
    const back = decodeProfile(bytes, "cover.profile");
    expect(back.detector.kind).toBe("cover");
    const tests = program.traces(7, 5, 0, 80);
    expect(firstDifference(scoreAll(back.detector, tests), scoreAll(d, tests))).toBeUndefined();
    fc.assert(
      fc.property(fc.nat({ max: bytes.length - 1 }), fc.integer({ min: 1, max: 255 }), (at, x) => {
        const bad = bytes.slice();
        bad[at] = bad[at]! ^ x;
        try {
          decodeProfile(bad, "cover.profile");
          return false;
        } catch (err) {
          return err instanceof HomeostatError;
        }
      }),
      { numRuns: 300, seed: 19 },
    );
  });
});
