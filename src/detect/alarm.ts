// Alarms raised while scoring a live stream, and the rule that raises them. An alarm carries the calls that led
// to it (a copy taken only when it fires) so that a user can read the offending window as syscall names, as
// Hofmeyr et al. (1998) and pH (Somayaji & Forrest 2000) report the sequences behind a high locality frame count.
//
// Comparison rule, shared with threshold.ts: a value raises an alarm when it is STRICTLY greater than the
// threshold, so that a threshold set to the largest normal value raises no alarm on the data it was fitted on.

import type { Vocabulary } from "../syscalls/vocabulary.js";
import type { TraceScoreName } from "./traceScore.js";

/**
 * The per-call figure an alarm rule watches:
 * - "lfc": the locality frame count ending at the call (Hofmeyr 1998, pH);
 * - "signal": the call's own signal (e.g. surprisal in bits);
 * - "windowMean": the mean signal over the last `window` scored calls (NaN, never alarming, until that many);
 * - "score": the stream's running trace score (`scoreName`), so that a threshold calibrated on whole normal
 *   traces applies live: at the stream's last call it equals the batch score of the whole trace.
 */
export type AlarmMeasure = "lfc" | "signal" | "windowMean" | "score";

export interface AlarmRule {
  measure: AlarmMeasure;
  /** An alarm fires when the measure becomes > threshold. */
  threshold: number;
  /** The trace score watched by measure "score" (default: the detector's default score). */
  scoreName?: TraceScoreName;
}

/**
 * One alarm. Alarms are edge-triggered per stream: one fires when the measure rises above the threshold, and the
 * stream re-arms when the measure falls back to or below it, so a burst of anomalies gives one alarm, not one per call.
 */
export interface Alarm {
  /** The stream (e.g. thread id) the alarm is about. */
  stream: number;
  /** 0-based position of the call, in the stream, at which the alarm fired. */
  position: number;
  /** The syscall id of that call. */
  syscall: number;
  /** The call's signal (NaN = none). */
  signal: number;
  /** The locality frame count ending at the call. */
  lfc: number;
  measure: AlarmMeasure;
  /** The measure's value that crossed the threshold. */
  value: number;
  threshold: number;
  /** The last calls of the stream up to and including this one, oldest first (a copy). */
  window: Uint16Array;
}

/** The alarm's window as syscall names; ids the vocabulary does not hold show as `?<id>`. */
export function alarmWindowTokens(alarm: Alarm, vocabulary: Vocabulary): string[] {
  const names: string[] = [];
  for (const id of alarm.window) names.push(id < vocabulary.size ? vocabulary.token(id) : `?${id}`);
  return names;
}

/** One line describing an alarm, for logs and terminals (the library never prints it itself). */
export function describeAlarm(alarm: Alarm, vocabulary?: Vocabulary): string {
  const calls =
    vocabulary === undefined ? Array.from(alarm.window).join(" ") : alarmWindowTokens(alarm, vocabulary).join(" ");
  const value = Number.isInteger(alarm.value) ? String(alarm.value) : alarm.value.toFixed(4);
  return `stream ${alarm.stream} call ${alarm.position}: ${alarm.measure} ${value} > ${alarm.threshold} (lfc ${alarm.lfc}): ${calls}`;
}
