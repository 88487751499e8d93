// Assertions the detector conformance suite (conformance.ts) shares: exact equality of score arrays, the signal
// range each signal kind documents (detector.ts), and one error code per failure class, alike for every model.

import { expect } from "vitest";
import { type ErrorCode, HomeostatError } from "../../errors.js";
import type { Detector, DetectorState } from "../detector.js";
import { firstDifference } from "./traces.js";

export function expectSame(a: readonly Float64Array[], b: readonly Float64Array[], what: string): void {
  const diff = firstDifference(a, b);
  expect(diff, `${what}: ${diff}`).toBeUndefined();
}

export function stepAll<S extends DetectorState>(
  d: Detector<S>,
  trace: Uint16Array,
  state = d.newState(),
): Float64Array {
  const out = new Float64Array(trace.length);
  for (let i = 0; i < trace.length; i++) out[i] = d.step(state, trace[i]!);
  return out;
}

/**
 * Every value is NaN ("no signal") or a finite number in the range the signal's kind documents (detector.ts):
 * mismatch 0 or 1, count a whole number >= 0, surprisal >= 0 bits. Returns how many values were not NaN.
 */
export function expectSignalRange(d: Detector, outs: readonly Float64Array[], what: string): number {
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
export function expectCode(fn: () => unknown, code: ErrorCode): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught, "expected a HomeostatError").toBeInstanceOf(HomeostatError);
  expect((caught as HomeostatError).code).toBe(code);
}
