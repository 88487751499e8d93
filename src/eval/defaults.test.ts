// The defaults `eval` runs with (its models, each model's trace score, the ensemble) on hand-made data of the kind
// they are chosen for: a short attack burst inside a long normal recording (docs/detectors.md, "Per-trace scores in
// eval" and "Ensembles in eval").

import { describe, expect, it } from "vitest";
import { DEFAULT_ENSEMBLE_METHOD } from "../detect/ensemble.js";
import { SeededRandom } from "../models/random.js";
import { type EvalUnit, type ExperimentData, runExperiment } from "./experiment.js";
import { DEFAULT_EVAL_MODELS } from "./protocol.js";

const periodic = (n: number): number[] => Array.from({ length: n }, (_, i) => i % 5);
/** Calls 5 and 6 in a seeded random order: familiar to a model trained on them, but about 1 bit each. */
const chatty = (n: number, seed: number): number[] => {
  const rng = new SeededRandom(seed);
  return Array.from({ length: n }, () => 5 + rng.nextInt(2));
};
/** A burst of calls never seen in training (8, 9) and seen calls out of order, inserted at `at`. */
const withBurst = (calls: number[], at: number): number[] => [
  ...calls.slice(0, at),
  ...[9, 8, 3, 1, 9, 4, 8, 2],
  ...calls.slice(at),
];
const unit = (name: string, calls: number[], attack = false): EvalUnit => ({
  name,
  traces: [{ calls: Uint16Array.from(calls) }],
  attack,
  ...(attack ? { attackType: "burst" } : {}),
});

describe("eval's defaults on a short burst inside a long normal trace", () => {
  // A looping program: every normal trace starts the loop at its first call, as a process starts at its entry.
  const calibration = [unit("c1", periodic(40)), unit("c2", periodic(400)), unit("c3", periodic(3000))];
  const normals = [50, 500, 2000, 5000].map((n, i) => unit(`n${i}`, periodic(n)));
  // 8 anomalous calls in 5008: a share of 0.2%, and still above every normal trace.
  const attacks = [1000, 2500, 4000].map((at, i) => unit(`a${i}`, withBurst(periodic(5000), at), true));
  const data: ExperimentData = {
    train: [Uint16Array.from(periodic(6000))],
    calibration,
    test: [...normals, ...attacks],
  };

  it("every default model, with its default score, and the default ensemble rank each burst above every normal", () => {
    const results = runExperiment(data, {
      models: DEFAULT_EVAL_MODELS,
      threshold: { method: "max" },
      seed: 1,
      ensemble: DEFAULT_ENSEMBLE_METHOD,
    });
    expect(results.map((r) => r.name)).toEqual([...DEFAULT_EVAL_MODELS, `ensemble(${DEFAULT_ENSEMBLE_METHOD})`]);
    for (const r of results) {
      expect({ model: r.name, auc: r.auc }).toEqual({ model: r.name, auc: 1 });
      expect({ model: r.name, fp: r.confusion.fp, tp: r.confusion.tp }).toEqual({ model: r.name, fp: 0, tp: 3 });
    }
  }, 120_000);
});

describe("the probabilistic models' default score counts rare calls, not the mean surprisal", () => {
  // Training holds the loop and a chatty process (about 1 bit a call, no call rarer than that). A chatty normal trace
  // has a higher mean surprisal than a long loop with an 8-call burst of never-seen calls, but no rare call.
  const data: ExperimentData = {
    train: [Uint16Array.from(periodic(6000)), Uint16Array.from(chatty(4000, 1))],
    calibration: [unit("c1", periodic(500)), unit("c2", chatty(300, 2))],
    test: [
      unit("loop", periodic(3000)),
      ...[200, 600, 1000].map((n, i) => unit(`chatty${i}`, chatty(n, 10 + i))),
      unit("burst", withBurst(periodic(3000), 1500), true),
      unit("late-burst", withBurst(periodic(3000), 2900), true),
    ],
  };

  for (const model of ["ngram", "hmm"]) {
    it(`${model}: the default ranks the bursts first; the mean surprisal ranks the chatty normals first`, () => {
      const [byDefault] = runExperiment(data, { models: [model], threshold: { method: "max" }, seed: 1 });
      expect(byDefault!.score).toBe("rate");
      expect(byDefault!.auc).toBe(1);
      const [byMean] = runExperiment(data, {
        models: [model],
        threshold: { method: "max" },
        seed: 1,
        score: "meanSurprisal",
      });
      // Each burst beats the loop only: 2 of 8 pairs.
      expect(byMean!.auc).toBe(0.25);
    }, 120_000);
  }
});
