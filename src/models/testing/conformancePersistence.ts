// The persistence cases of the detector conformance suite (conformance.ts), run on each trace set: the serialise
// round trip is exact, a damaged payload is exactly E_PARSE, and another format version exactly E_VERSION (a build
// mismatch, not corruption: payload.ts), alike for every model.

import { expect, it } from "vitest";
import type { ConformanceContext } from "./conformanceContext.js";
import { expectCode, expectSame } from "./conformanceExpect.js";
import type { TraceSets } from "./conformanceSets.js";
import { scoreAll } from "./traces.js";

/** Registers the persistence cases on the trace sets `getSets` makes, inside the caller's describe block. */
export function persistenceCases(ctx: ConformanceContext, getSets: () => TraceSets): void {
  const { factory, make, trained } = ctx;
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
}
