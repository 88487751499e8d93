// What every incremental detector's learner does around its own per-call step: calls handed on with their
// position in the trace, and the trace's length given back when it ends, for the detector's counts.

import type { TraceLearner } from "./detector.js";

/**
 * A learner passing each call and its 0-based position to `learnCall`, and the trace's number of calls to
 * `endTrace` when it ends.
 */
export function countingLearner(
  learnCall: (syscall: number, position: number) => void,
  endTrace: (calls: number) => void,
): TraceLearner {
  let calls = 0;
  return {
    push: (syscall: number): void => {
      learnCall(syscall, calls);
      calls++;
    },
    end: (): void => endTrace(calls),
  };
}
