// Operating points read off the full ROC curve (roc.ts): the detection rate reachable at a bounded false-alarm
// rate, and the false-alarm rate needed for a given detection rate, each with the threshold that achieves it.
//
// The rule is the project's: alarm when score > threshold (strict). Every threshold returned is one of the
// curve's thresholds, i.e. a score that occurs in the data (or -Infinity for "flag everything"); any threshold in
// the half-open interval [returned, next higher distinct score) gives the same confusion matrix.
//
// - detectionAtFalseAlarm(f): the largest TPR over thresholds whose FPR <= f, exactly: at most
//   m = floor(f * nNeg) normal traces may be flagged. TPR and FPR both fall as the threshold rises, so this is the
//   LOWEST curve threshold with fp <= m. For f < 1 that threshold equals the "far" calibration of
//   src/detect/threshold.ts on the same normal scores (the (1 - f) order statistic), so that a threshold
//   calibrated on normal data alone and this operating point agree.
// - falseAlarmAtDetection(d): the smallest FPR over thresholds whose TPR >= d, exactly: at least
//   ceil(d * nPos) attack traces flagged, i.e. the HIGHEST curve threshold with tp >= that count.
//
// f * n and d * n are computed in floating point and can land a hair off an integer (0.29 * 100 =
// 28.999999999999996, 0.7 * 10 = 7.000000000000001); a tolerance of 1e-9 snaps them, as threshold.ts does.

import { HomeostatError } from "../errors.js";
import { type RocCounts, rocCounts } from "./roc.js";

const RATE_EPSILON = 1e-9;

export interface OperatingPoint {
  /** The target asked for: a false-alarm rate (detectionAtFalseAlarm) or a detection rate (falseAlarmAtDetection). */
  target: number;
  /** Alarm when score > threshold. */
  threshold: number;
  fpr: number;
  tpr: number;
  fp: number;
  tp: number;
  negatives: number;
  positives: number;
}

export interface StandardOperatingPoints {
  /** Detection rate at false-alarm rates 1%, 5% and 10%, in that order. */
  detectionAtFalseAlarm: OperatingPoint[];
  /** False-alarm rate at 90% detection. */
  falseAlarmAtDetection90: OperatingPoint;
}

export const STANDARD_FALSE_ALARM_RATES: readonly number[] = [0.01, 0.05, 0.1];
export const STANDARD_DETECTION_RATE = 0.9;

function checkRate(rate: number, what: string): void {
  if (!(rate >= 0 && rate <= 1)) throw new HomeostatError("E_USAGE", `${what} must be in [0, 1], got ${rate}`);
}

function pointOf(counts: RocCounts, k: number, target: number): OperatingPoint {
  const fp = counts.fp[k]!;
  const tp = counts.tp[k]!;
  return {
    target,
    threshold: counts.thresholds[k]!,
    fpr: fp / counts.negatives,
    tpr: tp / counts.positives,
    fp,
    tp,
    negatives: counts.negatives,
    positives: counts.positives,
  };
}

/** The best detection rate with a false-alarm rate <= far (see the header for the exact rule). */
export function detectionAtFalseAlarm(counts: RocCounts, far: number): OperatingPoint {
  checkRate(far, "false-alarm rate");
  const allowed = Math.floor(far * counts.negatives + RATE_EPSILON);
  // fp is non-decreasing along the curve and fp[0] = 0: binary search for the last index with fp <= allowed.
  let lo = 0;
  let hi = counts.fp.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (counts.fp[mid]! <= allowed) lo = mid;
    else hi = mid - 1;
  }
  return pointOf(counts, lo, far);
}

/** The smallest false-alarm rate with a detection rate >= detection (see the header for the exact rule). */
export function falseAlarmAtDetection(counts: RocCounts, detection: number): OperatingPoint {
  checkRate(detection, "detection rate");
  const needed = Math.ceil(detection * counts.positives - RATE_EPSILON);
  // tp is non-decreasing and ends at positives >= needed: binary search for the first index with tp >= needed.
  let lo = 0;
  let hi = counts.tp.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (counts.tp[mid]! >= needed) hi = mid;
    else lo = mid + 1;
  }
  return pointOf(counts, lo, detection);
}

/** DR at FAR 1%, 5%, 10% and FAR at DR 90%, from the scores of normal and attack traces. */
export function standardOperatingPoints(
  negatives: ArrayLike<number>,
  positives: ArrayLike<number>,
): StandardOperatingPoints {
  const counts = rocCounts(negatives, positives);
  return {
    detectionAtFalseAlarm: STANDARD_FALSE_ALARM_RATES.map((f) => detectionAtFalseAlarm(counts, f)),
    falseAlarmAtDetection90: falseAlarmAtDetection(counts, STANDARD_DETECTION_RATE),
  };
}
