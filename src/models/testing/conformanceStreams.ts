// The live-scoring cases of the detector conformance suite (conformance.ts), run on each trace set: a monitor
// steps many streams through one model, so interleaved streams must not see each other, a reset state must start
// afresh, and a call id never seen in training must be flagged, not fail.

import fc from "fast-check";
import { expect, it } from "vitest";
import { SeededRandom } from "../random.js";
import type { Detector } from "../detector.js";
import type { ConformanceContext } from "./conformanceContext.js";
import { expectSame, stepAll } from "./conformanceExpect.js";
import type { TraceSets } from "./conformanceSets.js";
import { firstDifference, maxIdOf, scoreAll } from "./traces.js";

/** Registers the live-scoring cases on the trace sets `getSets` makes, inside the caller's describe block. */
export function streamCases(ctx: ConformanceContext, getSets: () => TraceSets): void {
  const { trained } = ctx;
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
          const [oa, ob] = interleave(d, tests[i]!, tests[j]!, new SeededRandom(seed));
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
}

/** Scores streams `a` and `b` in two states of one detector, taking their calls in an order `rng` draws. */
function interleave(d: Detector, a: Uint16Array, b: Uint16Array, rng: SeededRandom): [Float64Array, Float64Array] {
  const sa = d.newState();
  const sb = d.newState();
  const oa = new Float64Array(a.length);
  const ob = new Float64Array(b.length);
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
  return [oa, ob];
}
