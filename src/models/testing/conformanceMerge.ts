// The merge cases of the detector conformance suite (conformance.ts), run on each trace set: merging detectors
// trained on X and on Y, and training on X then on Y, both equal training on X and Y at once; a detector refuses
// to merge another kind or other options, and a kind that is not mergeable refuses every merge.

import { expect, it } from "vitest";
import { HomeostatError } from "../../errors.js";
import type { Detector } from "../detector.js";
import type { ConformanceContext } from "./conformanceContext.js";
import { expectCode, expectSame } from "./conformanceExpect.js";
import type { TraceSets } from "./conformanceSets.js";
import { maxIdOf, scoreAll } from "./traces.js";

/** Registers the merge cases on the trace sets `getSets` makes, inside the caller's describe block. */
export function mergeCases(ctx: ConformanceContext, getSets: () => TraceSets): void {
  const mergeable = ctx.conf.mergeable ?? ctx.make().mergeable;
  if (mergeable) {
    mergeEqualsUnion(ctx, getSets);
    incrementalTraining(ctx, getSets);
    refusesForeignMerges(ctx);
  } else {
    it("refuses to merge (not mergeable)", () => {
      const { x } = getSets();
      expectCode(() => ctx.trained(x).merge(ctx.trained(x)), "E_MODEL");
    });
  }
}

function mergeEqualsUnion(ctx: ConformanceContext, getSets: () => TraceSets): void {
  const { make, trained } = ctx;
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
}

function incrementalTraining(ctx: ConformanceContext, getSets: () => TraceSets): void {
  const { trained, derive } = ctx;
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
}

function refusesForeignMerges(ctx: ConformanceContext): void {
  const { factory, opts, make } = ctx;
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
}
