// Detection delay of one trace or recording: how long after the attack began the detector first raised an alarm,
// in calls and, when per-call timestamps are known, in seconds.
//
// Definitions (used by callLevel.ts, following LID-DS's attack phase, see there):
// - the attack starts at call index `start` (0, the trace start, for traces with no known attack time, such as
//   ADFA-LD attack traces); with timestamps and an attack time, `start` is the first call whose timestamp is
//   >= the attack time, as LID-DS counts a call as part of the attack when exploit_time <= call time;
// - the detecting alarm is the first alarmed call at index >= start;
// - delay in calls = that index - start (0 when the very first attack call is alarmed);
// - delay in seconds = timestamps[that index] - (the attack time when given, else timestamps[start]).
// A trace with no alarm at or after the start is not detected: its delay is NaN, and summaries skip it.

import { HomeostatError } from "../errors.js";

export interface DetectionDelay {
  /** Index of the first alarmed call at or after the start; -1 when there is none. */
  index: number;
  /** index - start; NaN when not detected. */
  calls: number;
  /** Seconds from the attack start; NaN when not detected or without timestamps. */
  seconds: number;
}

export interface DelayOptions {
  /** Per-call timestamps in seconds, one per call. */
  timestamps?: Float64Array;
  /** When the attack began, on the timestamps' clock; the seconds delay counts from it. */
  attackTime?: number;
}

function checkStart(start: number, length: number): void {
  if (!(Number.isInteger(start) && start >= 0 && start <= length)) {
    throw new HomeostatError("E_USAGE", `attack start ${start} is not a call index in [0, ${length}]`);
  }
}

/** The first index >= start whose flag is set, or -1. */
export function firstAlarmAtOrAfter(alarms: Uint8Array, start: number): number {
  for (let i = start; i < alarms.length; i++) if (alarms[i] !== 0) return i;
  return -1;
}

/**
 * The index of the first call with timestamp >= attackTime (timestamps.length when none is): LID-DS's attack
 * phase. Timestamps are taken to be non-decreasing, as in a time-ordered recording.
 */
export function attackStartIndex(timestamps: Float64Array, attackTime: number): number {
  if (Number.isNaN(attackTime)) throw new HomeostatError("E_USAGE", "attack time is NaN");
  for (let i = 0; i < timestamps.length; i++) if (timestamps[i]! >= attackTime) return i;
  return timestamps.length;
}

/** The delay from call `start` to the first alarm at or after it (see the header for the rule). */
export function detectionDelay(alarms: Uint8Array, start = 0, options: DelayOptions = {}): DetectionDelay {
  checkStart(start, alarms.length);
  const { timestamps, attackTime } = options;
  if (timestamps !== undefined && timestamps.length !== alarms.length) {
    throw new HomeostatError(
      "E_USAGE",
      `timestamps and alarm flags differ in length (${timestamps.length} vs ${alarms.length})`,
    );
  }
  const index = firstAlarmAtOrAfter(alarms, start);
  if (index < 0) return { index, calls: Number.NaN, seconds: Number.NaN };
  let seconds = Number.NaN;
  if (timestamps !== undefined) {
    const from = attackTime ?? timestamps[start];
    if (from !== undefined) seconds = timestamps[index]! - from;
  }
  return { index, calls: index - start, seconds };
}

export interface DelaySummary {
  /** Delays counted (NaN entries skipped). */
  count: number;
  mean: number;
  /** The middle value, or the mean of the two middle values. */
  median: number;
  min: number;
  max: number;
}

/** Count, mean, median, min and max of delays, skipping NaN (undetected); all NaN when nothing is left. */
export function summarizeDelays(delays: ArrayLike<number>): DelaySummary {
  const kept = new Float64Array(delays.length);
  let n = 0;
  let sum = 0;
  for (let i = 0; i < delays.length; i++) {
    const d = delays[i]!;
    if (Number.isNaN(d)) continue;
    kept[n++] = d;
    sum += d;
  }
  if (n === 0) return { count: 0, mean: Number.NaN, median: Number.NaN, min: Number.NaN, max: Number.NaN };
  const sorted = kept.subarray(0, n).sort();
  const mid = n >>> 1;
  const median = n % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { count: n, mean: sum / n, median, min: sorted[0]!, max: sorted[n - 1]! };
}
