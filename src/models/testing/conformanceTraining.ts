// The training cases of the detector conformance suite (conformance.ts), run on each trace set: training is
// deterministic, a model counts what it was trained on (or, derived rather than trained, refuses to train), and
// step and scoreTrace are one scoring function, so that live monitoring and batch evaluation agree.

import { expect, it } from "vitest";
import type { ConformanceContext } from "./conformanceContext.js";
import { expectCode, expectSame, expectSignalRange, stepAll } from "./conformanceExpect.js";
import type { TraceSets } from "./conformanceSets.js";
import { scoreAll } from "./traces.js";

/** Registers the training cases on the trace sets `getSets` makes, inside the caller's describe block. */
export function trainingCases(ctx: ConformanceContext, getSets: () => TraceSets): void {
  const { make, trained, derive } = ctx;
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
}
