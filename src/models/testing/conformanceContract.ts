// The contract cases of the detector conformance suite (conformance.ts): what the detector interface (detector.ts)
// promises of every kind before any data set is involved: option defaults and validation, a described signal,
// reproducible seeds, and sane behaviour on empty training and on traces shorter than any window.

import { expect, it } from "vitest";
import type { ConformanceContext } from "./conformanceContext.js";
import { expectCode, expectSame, expectSignalRange, stepAll } from "./conformanceExpect.js";
import { syntheticSets } from "./conformanceSets.js";
import { scoreAll } from "./traces.js";

/** Registers the contract cases of one kind, inside the caller's describe block. */
export function contractCases(ctx: ConformanceContext): void {
  const { factory, opts, make, trained, derive } = ctx;
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
}
