// The conformance suite every detector must pass (as hono's routers share one test suite): determinism, the
// serialise round trip (a damaged payload is exactly E_PARSE, another format version exactly E_VERSION), merge ==
// training on the union, incremental training, streaming step == scoreTrace, short and empty traces, per-stream
// isolation and state reset, and ids beyond the training vocabulary. It runs on synthetic Markov-chain traces and,
// when the dataset is present, on real ADFA-LD traces. Used only by tests: `detectorConformance(factory,
// { options })` registers vitest blocks inside the calling test file. A kind that is derived rather than trained
// (the static model) gives `derive`; the checks of training are then replaced by one that train() refuses, and
// every other check runs on derived detectors.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type ErrorCode, HomeostatError } from "../../errors.js";
import type { Detector, DetectorFactory, DetectorState } from "../detector.js";
import { SeededRandom } from "../random.js";
import { adfaMissingReason, firstDifference, loadAdfa, maxIdOf, SyntheticProgram, scoreAll } from "./traces.js";

export interface ConformanceOptions {
  /** Options for every detector the suite creates. */
  options?: Partial<Record<string, number | string | boolean>>;
  /** Overrides the detector's `mergeable` for the merge and incremental checks (false skips them). */
  mergeable?: boolean;
  /** Runs the checks on ADFA-LD traces too, when present (default true). */
  adfa?: boolean;
  /**
   * For kinds that do not learn from traces: builds the detector that stands for "trained on these traces" (e.g. a
   * static model allowing exactly their calls). Merge must then equal deriving from the union.
   */
  derive?: (traces: readonly Uint16Array[], options: Partial<Record<string, number | string | boolean>>) => Detector;
}

interface TraceSets {
  name: string;
  /** Two disjoint training sets. */
  x: Uint16Array[];
  y: Uint16Array[];
  /** Traces to score: normal-like, mutated, and from a different program. */
  tests: Uint16Array[];
}

function syntheticSets(): TraceSets {
  const program = new SyntheticProgram(11, 24);
  const x = program.traces(1, 25, 0, 300);
  const y = program.traces(2, 15, 50, 400);
  // Y also holds calls that X never makes (ids 24..39), so that merging and retraining grow the vocabulary past
  // a power of two (which changes how compact models lay out their tables).
  y.push(new SyntheticProgram(12, 40).trace(new SeededRandom(3), 400));
  const tests = program.traces(4, 10, 0, 300);
  const other = new SyntheticProgram(13, 28).traces(5, 5, 20, 200);
  const mutated = program.traces(6, 5, 100, 200).map((t, i) => {
    const m = t.slice();
    const rng = new SeededRandom(100 + i);
    for (let j = 0; j < 5; j++) m[rng.nextInt(m.length)] = rng.nextInt(28);
    return m;
  });
  return { name: "synthetic traces", x, y, tests: [...tests, ...other, ...mutated] };
}

function adfaSets(): TraceSets {
  const adfa = loadAdfa();
  const pick = (traces: Uint16Array[], n: number): Uint16Array[] => {
    const step = Math.max(1, Math.floor(traces.length / n));
    return traces.filter((_, i) => i % step === 0).slice(0, n);
  };
  return {
    name: "ADFA-LD traces",
    x: adfa.training.slice(0, 120),
    y: adfa.training.slice(120, 200),
    tests: [...pick(adfa.validation, 40), ...pick(adfa.attack, 30)],
  };
}

function expectSame(a: readonly Float64Array[], b: readonly Float64Array[], what: string): void {
  const diff = firstDifference(a, b);
  expect(diff, `${what}: ${diff}`).toBeUndefined();
}

function stepAll<S extends DetectorState>(d: Detector<S>, trace: Uint16Array, state = d.newState()): Float64Array {
  const out = new Float64Array(trace.length);
  for (let i = 0; i < trace.length; i++) out[i] = d.step(state, trace[i]!);
  return out;
}

/**
 * Every value is NaN ("no signal") or a finite number in the range the signal's kind documents (detector.ts):
 * mismatch 0 or 1, count a whole number >= 0, surprisal >= 0 bits. Returns how many values were not NaN.
 */
function expectSignalRange(d: Detector, outs: readonly Float64Array[], what: string): number {
  let signalled = 0;
  for (const out of outs) {
    for (const v of out) {
      if (Number.isNaN(v)) continue;
      signalled++;
      expect(Number.isFinite(v), `${what}: ${v} is not finite`).toBe(true);
      if (d.signal.kind === "mismatch") expect([0, 1], `${what}: mismatch ${v}`).toContain(v);
      else if (d.signal.kind === "count") expect(Number.isInteger(v) && v >= 0, `${what}: count ${v}`).toBe(true);
      else expect(v, `${what}: surprisal`).toBeGreaterThanOrEqual(0);
    }
  }
  return signalled;
}

/** Asserts that `fn` throws a HomeostatError of exactly `code`: one code per failure class, for every model. */
function expectCode(fn: () => unknown, code: ErrorCode): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught, "expected a HomeostatError").toBeInstanceOf(HomeostatError);
  expect((caught as HomeostatError).code).toBe(code);
}

/** Registers the conformance checks for one detector kind and option set. */
export function detectorConformance(factory: DetectorFactory, conf: ConformanceOptions = {}): void {
  const opts = conf.options ?? {};
  const label = `${factory.kind}${Object.keys(opts).length > 0 ? ` ${JSON.stringify(opts)}` : ""}`;
  const make = (): Detector => factory.create(opts);
  const derive = conf.derive;
  const trained = (traces: readonly Uint16Array[]): Detector => {
    if (derive !== undefined) return derive(traces, opts);
    const d = make();
    d.train(traces);
    return d;
  };

  describe(`${label}: conformance`, () => {
    it("fills every option default and describes its signal", () => {
      const d = make();
      expect(d.kind).toBe(factory.kind);
      expect(Object.keys(d.options).sort()).toEqual(Object.keys(factory.optionHelp).sort());
      for (const [key, help] of Object.entries(factory.optionHelp)) {
        expect(d.options[key]).toBe(key in opts ? opts[key] : help.default);
      }
      expect(["mismatch", "count", "surprisal"]).toContain(d.signal.kind);
      expect(Number.isFinite(d.signal.anomalousAt)).toBe(true);
      expect(d.trainedCalls).toBe(0);
      expect(d.trainedTraces).toBe(0);
    });

    it("rejects unknown options", () => {
      expectCode(() => factory.create({ ...opts, noSuchOption: 1 }), "E_USAGE");
    });

    if ("seed" in factory.optionHelp) {
      it("gives the same model for the same seed", () => {
        const { x, tests } = syntheticSets();
        const a = factory.create({ ...opts, seed: 12345 });
        const b = factory.create({ ...opts, seed: 12345 });
        a.train(x);
        b.train(x);
        expectSame(scoreAll(a, tests), scoreAll(b, tests), "same seed");
        expect(Buffer.from(a.serialize()).equals(Buffer.from(b.serialize()))).toBe(true);
      });
    }

    it("handles empty training, empty traces and traces shorter than any window", () => {
      const empty = trained([]);
      expect(empty.trainedTraces).toBe(0);
      empty.scoreTrace(new Uint16Array(0), new Float64Array(0));
      const shorts: Uint16Array[] = [];
      for (let n = 0; n <= 40; n++) shorts.push(Uint16Array.from({ length: n }, (_, i) => (i * 7) % 5));
      // Untrained, trained only on short traces, and trained on real traces: step == scoreTrace on every short trace.
      const onlyShort = trained(shorts.slice(0, 3));
      if (derive === undefined) {
        expect(onlyShort.trainedTraces).toBe(3);
        expect(onlyShort.trainedCalls).toBe(0 + 1 + 2);
      }
      const full = trained(syntheticSets().x);
      for (const d of [empty, onlyShort, full]) {
        const batch = scoreAll(d, shorts);
        expectSame(
          shorts.map((t) => stepAll(d, t)),
          batch,
          "step vs scoreTrace on short traces",
        );
        const signalled = expectSignalRange(d, batch, "short traces");
        // A model trained on real traces must say something about traces longer than its windows.
        if (d === full) expect(signalled).toBeGreaterThan(0);
      }
    });

    const sets: (() => TraceSets)[] = [syntheticSets];
    if (conf.adfa !== false) sets.push(adfaSets);
    const adfaReason = adfaMissingReason();

    for (const getSets of sets) {
      const isAdfa = getSets === adfaSets;
      const name = isAdfa ? "ADFA-LD traces" : "synthetic traces";
      const skip = isAdfa && adfaReason !== undefined;
      if (skip) {
        console.log(`skipping ${label} conformance on ADFA-LD: ${adfaReason}`);
      }

      describe.skipIf(skip)(name, () => {
        it("is deterministic: same options and training give the same scores and bytes", () => {
          const { x, tests } = getSets();
          const a = trained(x);
          const b = trained(x);
          expectSame(scoreAll(a, tests), scoreAll(b, tests), "two trainings");
          expectSame(scoreAll(a, tests), scoreAll(a, tests), "scoring twice");
          expect(Buffer.from(a.serialize()).equals(Buffer.from(b.serialize()))).toBe(true);
        });

        if (derive === undefined) {
          it("counts trained calls and traces and reports its memory", () => {
            const { x, y } = getSets();
            const d = trained(x);
            d.train(y);
            expect(d.trainedTraces).toBe(x.length + y.length);
            expect(d.trainedCalls).toBe([...x, ...y].reduce((s, t) => s + t.length, 0));
            const mem = d.memoryBytes();
            expect(Number.isFinite(mem), `memoryBytes ${mem}`).toBe(true);
            expect(mem).toBeGreaterThan(0);
          });
        } else {
          it("refuses to train with a typed error, leaving the model as it was, and reports its memory", () => {
            const { x, y, tests } = getSets();
            const d = trained(x);
            const before = scoreAll(d, tests);
            expectCode(() => d.train(y), "E_MODEL");
            expectCode(() => make().train(x), "E_MODEL");
            expect(d.trainedCalls).toBe(0);
            expect(d.trainedTraces).toBe(0);
            expectSame(scoreAll(d, tests), before, "after a refused train");
            const mem = d.memoryBytes();
            expect(Number.isFinite(mem), `memoryBytes ${mem}`).toBe(true);
            expect(mem).toBeGreaterThan(0);
          });
        }

        it("scores a trace by step exactly as by scoreTrace", () => {
          const { x, tests } = getSets();
          const d = trained(x);
          const batch = scoreAll(d, tests);
          expectSame(
            tests.map((t) => stepAll(d, t)),
            batch,
            "step vs scoreTrace",
          );
          expect(expectSignalRange(d, batch, "test traces")).toBeGreaterThan(0);
        });

        it("round-trips through serialize/deserialize with identical scores and bytes", () => {
          const { x, tests } = getSets();
          for (const d of [make(), trained(x)]) {
            const bytes = d.serialize();
            const back = factory.deserialize(d.options, bytes);
            expect(back.kind).toBe(d.kind);
            expect(back.options).toEqual(d.options);
            expect(back.trainedCalls).toBe(d.trainedCalls);
            expect(back.trainedTraces).toBe(d.trainedTraces);
            expectSame(scoreAll(back, tests), scoreAll(d, tests), "after round trip");
            expect(Buffer.from(back.serialize()).equals(Buffer.from(bytes))).toBe(true);
          }
        });

        it("rejects truncated or extended payloads as malformed input (E_PARSE)", () => {
          const { x } = getSets();
          const d = trained(x);
          const bytes = d.serialize();
          for (const cut of [0, 1, Math.floor(bytes.length / 2), bytes.length - 1]) {
            expectCode(() => factory.deserialize(d.options, bytes.subarray(0, cut)), "E_PARSE");
          }
          const longer = new Uint8Array(bytes.length + 3);
          longer.set(bytes);
          expectCode(() => factory.deserialize(d.options, longer), "E_PARSE");
        });

        it("rejects a payload of another format version as E_VERSION, not as corruption", () => {
          // Every payload starts with its version, little-endian: its first byte is the version's low byte.
          const bytes = make().serialize();
          for (const delta of [1, 2, 255]) {
            const other = bytes.slice();
            other[0] = (other[0]! + delta) & 0xff;
            expectCode(() => factory.deserialize(make().options, other), "E_VERSION");
          }
        });

        it("keeps streams apart: interleaved states give each stream's solo scores", () => {
          const { x, tests } = getSets();
          const d = trained(x);
          const solo = scoreAll(d, tests);
          fc.assert(
            fc.property(
              fc.integer({ min: 0, max: tests.length - 1 }),
              fc.integer({ min: 0, max: tests.length - 1 }),
              fc.integer(),
              (i, j, seed) => {
                const a = tests[i]!;
                const b = tests[j]!;
                const sa = d.newState();
                const sb = d.newState();
                const oa = new Float64Array(a.length);
                const ob = new Float64Array(b.length);
                const rng = new SeededRandom(seed);
                let pa = 0;
                let pb = 0;
                while (pa < a.length || pb < b.length) {
                  const takeA = pb >= b.length || (pa < a.length && rng.next() < 0.5);
                  if (takeA) {
                    oa[pa] = d.step(sa, a[pa]!);
                    pa++;
                  } else {
                    ob[pb] = d.step(sb, b[pb]!);
                    pb++;
                  }
                }
                return firstDifference([oa, ob], [solo[i]!, solo[j]!]) === undefined;
              },
            ),
            { numRuns: 25, seed: 42 },
          );
        });

        it("starts a stream afresh after reset", () => {
          const { x, tests } = getSets();
          const d = trained(x);
          const st = d.newState();
          const outs: Float64Array[] = [];
          for (const t of tests) {
            st.reset();
            outs.push(stepAll(d, t, st));
          }
          expectSame(outs, scoreAll(d, tests), "reset state vs fresh");
        });

        it("flags ids beyond the training vocabulary without failing", () => {
          const { x } = getSets();
          const d = trained(x);
          const unseen = maxIdOf(x) + 1;
          const base = x.reduce((a, b) => (b.length > a.length ? b : a));
          const prefix = base.subarray(0, Math.min(base.length, 60));
          for (const id of [unseen, unseen + 7, 65535]) {
            const trace = new Uint16Array(prefix.length + 1 + prefix.length);
            trace.set(prefix, 0);
            trace[prefix.length] = id;
            trace.set(prefix, prefix.length + 1);
            const out = new Float64Array(trace.length);
            d.scoreTrace(trace, out);
            const at = out[prefix.length]!;
            expect(Number.isNaN(at), `signal at unseen id ${id}`).toBe(false);
            expect(at).toBeGreaterThanOrEqual(d.signal.anomalousAt);
            expectSame([stepAll(d, trace)], [out], "step vs scoreTrace with unseen ids");
          }
        });

        const mergeable = conf.mergeable ?? make().mergeable;
        if (mergeable) {
          it("merge(A on X, B on Y) scores as one detector trained on X and Y", () => {
            const { x, y, tests } = getSets();
            const a = trained(x);
            const b = trained(y);
            a.merge(b);
            const both = trained([...x, ...y]);
            expect(a.trainedCalls).toBe(both.trainedCalls);
            expect(a.trainedTraces).toBe(both.trainedTraces);
            expectSame(scoreAll(a, tests), scoreAll(both, tests), "merged vs trained on the union");
            // Merging into an empty detector copies; the other side is left untouched.
            const c = make();
            c.merge(b);
            expectSame(scoreAll(c, tests), scoreAll(trained(y), tests), "merged into empty");
            expectSame(scoreAll(b, tests), scoreAll(trained(y), tests), "merge source unchanged");
          });

          it.skipIf(derive !== undefined)("trains incrementally: train(X); train(Y) equals train(X and Y)", () => {
            const { x, y, tests } = getSets();
            const d = trained(x);
            const st = d.newState();
            // A probe with calls that only Y has, so that retraining changes what it sees: its windows turn normal.
            const xMax = maxIdOf(x);
            const probe = y.find((t) => t.some((id) => id > xMax)) ?? tests[0]!;
            const half = probe.subarray(0, Math.floor(probe.length / 2));
            for (const id of half) d.step(st, id);
            d.train(y);
            const both = trained([...x, ...y]);
            expectSame(scoreAll(d, tests), scoreAll(both, tests), "incremental vs at once");
            // A stream that was open during retraining continues with the retrained model.
            const rest = probe.subarray(half.length);
            const cont = new Float64Array(rest.length);
            for (let i = 0; i < rest.length; i++) cont[i] = d.step(st, rest[i]!);
            const full = scoreAll(both, [probe])[0]!;
            expectSame([cont], [full.subarray(half.length)], "stream across retraining");
          });

          it("refuses to merge a different kind or different options", () => {
            const d = make();
            const foreign = { ...make(), kind: `${factory.kind}-other` } as Detector;
            expectCode(() => d.merge(foreign), "E_MODEL");
            const numeric = Object.entries(factory.optionHelp).find(([, h]) => typeof h.default === "number");
            if (numeric !== undefined) {
              const [key] = numeric;
              const current = d.options[key] as number;
              // Some neighbours of the current value may be out of range; at least one must build.
              const alternatives: Detector[] = [];
              for (const other of [current + 1, current - 1, current / 2].filter((v) => v !== current)) {
                try {
                  alternatives.push(factory.create({ ...opts, [key]: other }));
                } catch (err) {
                  expect(err, `option ${key}=${other}`).toBeInstanceOf(HomeostatError);
                }
              }
              expect(alternatives.length, `no other value of option ${key} builds`).toBeGreaterThan(0);
              for (const alt of alternatives) expectCode(() => d.merge(alt), "E_MODEL");
            }
          });
        } else {
          it("refuses to merge (not mergeable)", () => {
            const { x } = getSets();
            expectCode(() => trained(x).merge(trained(x)), "E_MODEL");
          });
        }
      });
    }
  });
}
