// The test units that are copies of training traces, for the `eval --dedupe` protocol variant. A detector that has
// seen a trace in training scores it as perfectly normal; an attack trace identical to a training trace cannot be
// detected by any one-class model, and a normal one is a free true negative. Either way the figure measures
// memory, not detection. A unit is a copy when every one of its traces is identical, call for call, to some
// training trace (sequenceIndex.ts compares the calls).

import type { DedupeSummary } from "./evalResult.js";
import type { EvalUnit } from "./experiment.js";
import { SequenceIndex } from "./sequenceIndex.js";

export interface CopyRemoval {
  kept: EvalUnit[];
  removed: EvalUnit[];
}

/** Splits `units` into those with a trace of their own and copies of the training traces. */
export function removeTrainingCopies(train: readonly Uint16Array[], units: readonly EvalUnit[]): CopyRemoval {
  const index = new SequenceIndex();
  for (const t of train) index.add(t);
  const kept: EvalUnit[] = [];
  const removed: EvalUnit[] = [];
  for (const u of units) {
    const copy = u.traces.length > 0 && u.traces.every((t) => index.find(t.calls) >= 0);
    (copy ? removed : kept).push(u);
  }
  return { kept, removed };
}

export function dedupeSummary(removed: readonly EvalUnit[]): DedupeSummary {
  const attack = removed.filter((u) => u.attack).length;
  return { removed: removed.length, normal: removed.length - attack, attack, units: removed.map((u) => u.name) };
}
