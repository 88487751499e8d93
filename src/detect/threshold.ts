// Alarm thresholds calibrated on normal traces only: no attack data is needed (or allowed) to set them.
//
// - "max": the largest normal score, as LID-DS does (Grimmer et al. 2019/2020): no normal trace of the calibration
//   set raises an alarm.
// - "far": a target false-alarm rate f: the (1 - f) empirical quantile of the normal scores, taken as an order
//   statistic without interpolation. With n scores sorted ascending s[0] <= ... <= s[n-1] and m = floor(f * n),
//   the threshold is s[n-1-m]: at most m normal traces (those above it) exceed it, ties at the threshold never
//   do, and no lower normal score would keep that promise. f = 0 gives the "max" threshold.
//
// An alarm is `score > threshold`, strictly greater (shared with alarm.ts), which is what makes "max" give zero
// false alarms on its calibration set.

import { HomeostatError } from "../errors.js";

export type ThresholdMethod = "max" | "far";

export interface ThresholdSpec {
  method: ThresholdMethod;
  /** The target false-alarm rate in [0, 1) for method "far". */
  far?: number;
}

export interface Threshold {
  threshold: number;
  method: ThresholdMethod;
  /** The target false-alarm rate (method "far" only). */
  far?: number;
  /** Normal traces the threshold was calibrated on. */
  normalTraces: number;
  /** Calibration traces whose score exceeds the threshold (0 for "max"; at most floor(far * n) for "far"). */
  falseAlarmsOnCalibration: number;
}

/** The alarm rule: strictly greater than the threshold. */
export function isAlarm(score: number, threshold: number): boolean {
  return score > threshold;
}

// f * n computed in floating point can fall just below an integer (0.29 * 100 = 28.999999999999996).
const FAR_EPSILON = 1e-9;

/** Calibrates a threshold on the scores of normal traces. Throws E_USAGE on no scores, NaN scores or a bad rate. */
export function calibrateThreshold(normalScores: ArrayLike<number>, spec: ThresholdSpec): Threshold {
  const n = normalScores.length;
  if (n === 0) throw new HomeostatError("E_USAGE", "cannot calibrate a threshold without normal traces");
  const sorted = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const s = normalScores[i]!;
    if (Number.isNaN(s)) throw new HomeostatError("E_USAGE", `normal score ${i} is NaN`);
    sorted[i] = s;
  }
  sorted.sort();

  let m = 0;
  if (spec.method === "far") {
    const far = spec.far;
    if (far === undefined || !(far >= 0 && far < 1)) {
      throw new HomeostatError("E_USAGE", `false-alarm rate must be in [0, 1), got ${far}`);
    }
    m = Math.min(n - 1, Math.floor(far * n + FAR_EPSILON));
  } else if (spec.method !== "max") {
    throw new HomeostatError("E_USAGE", `unknown threshold method ${JSON.stringify(spec.method)}`);
  }
  const threshold = sorted[n - 1 - m]!;
  let falseAlarms = 0;
  for (let i = n - 1; i >= 0 && sorted[i]! > threshold; i--) falseAlarms++;

  const result: Threshold = {
    threshold,
    method: spec.method,
    normalTraces: n,
    falseAlarmsOnCalibration: falseAlarms,
  };
  if (spec.method === "far") result.far = spec.far;
  return result;
}
