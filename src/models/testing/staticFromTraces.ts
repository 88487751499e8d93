// Test helper: a `static` model (staticCalls.ts) that allows exactly the calls, and in digraph mode the adjacent
// pairs, of some traces, as if static analysis had found just those. It stands in for training in the shared
// conformance suite and the profile tests, since a static model is derived from a binary and never trains.

import { type StaticCalls, staticCallsFactory } from "../staticCalls.js";
import { maxIdOf } from "./traces.js";

export function staticFromTraces(
  traces: readonly Uint16Array[],
  options: Partial<Record<string, number | string | boolean>> = {},
): StaticCalls {
  const calls = new Set<number>();
  const pairs: [number, number][] = [];
  for (const t of traces) {
    for (let i = 0; i < t.length; i++) {
      calls.add(t[i]!);
      if (i > 0) pairs.push([t[i - 1]!, t[i]!]);
    }
  }
  return staticCallsFactory.fromCalls(
    {
      vocabularySize: maxIdOf(traces) + 1,
      calls,
      pairs,
      sources: [{ program: "/synthetic", script: "", buildId: "", complete: true }],
    },
    options,
  );
}
