// ROC curve and AUC from the scores of normal traces (negatives) and attack traces (positives), higher = more
// anomalous. The alarm rule is the one shared with src/detect (threshold.ts, alarm.ts): a trace is flagged when its
// score is STRICTLY greater than the threshold.
//
// The curve is built over distinct thresholds (Fawcett, "An introduction to ROC analysis", Pattern Recognition
// Letters 27, 2006, algorithm 2): with the distinct score values u1 > u2 > ... > uk, the thresholds are
// u1, u2, ..., uk and -Infinity. At u1 nothing is flagged (0,0); lowering the threshold from u(j) to u(j+1) flags
// every trace scored exactly u(j) at once, so a group of tied scores gives ONE diagonal segment and never a
// staircase whose shape depends on input order; -Infinity flags everything (1,1). These k+1 points are every
// (FPR, TPR) pair that any real threshold can produce under the strict rule.
//
// The AUC is the trapezoid rule over that curve, computed on integer counts and divided once at the end; it equals
// the Mann-Whitney U / (nPos * nNeg) with a tied (attack, normal) pair counting 1/2 (Hanley & McNeil 1982).
//
// Scores: +Infinity is a valid maximal score. NaN is rejected (it has no place in the order). -Infinity is also
// rejected: under the strict rule no threshold can flag it, so the curve could not reach (1,1) and no operating
// point could be stated as a threshold.

import { HomeostatError } from "../errors.js";

/** One point of a ROC curve: flag a trace when score > threshold. */
export interface RocPoint {
  threshold: number;
  /** False-positive rate: fp / negatives. */
  fpr: number;
  /** True-positive rate (detection rate): tp / positives. */
  tpr: number;
  /** Normal traces flagged at this threshold. */
  fp: number;
  /** Attack traces flagged at this threshold. */
  tp: number;
}

/**
 * The full curve as parallel typed arrays of exact counts, one entry per distinct threshold in decreasing order
 * (fp and tp non-decreasing). Operating points are read from this form, never from a downsampled curve.
 */
export interface RocCounts {
  negatives: number;
  positives: number;
  thresholds: Float64Array;
  fp: Float64Array;
  tp: Float64Array;
}

export interface RocCurve {
  negatives: number;
  positives: number;
  /** Area under the full curve (trapezoid rule), computed before any downsampling. */
  auc: number;
  /** The points, in decreasing threshold order, from (0,0) to (1,1); downsampled when asked. */
  points: RocPoint[];
  /** Points on the full curve (distinct scores + 1). */
  fullPointCount: number;
  downsampled: boolean;
}

export interface RocOptions {
  /** Keep at most this many points (>= 2) for plotting; the AUC stays that of the full curve. */
  maxPoints?: number;
}

/** Copies scores into a sorted Float64Array, rejecting NaN and -Infinity. `what` names them in errors. */
export function sortedScores(scores: ArrayLike<number>, what: string): Float64Array {
  const n = scores.length;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const s = scores[i]!;
    if (Number.isNaN(s)) throw new HomeostatError("E_USAGE", `${what} score ${i} is NaN`);
    if (s === Number.NEGATIVE_INFINITY) {
      throw new HomeostatError("E_USAGE", `${what} score ${i} is -Infinity, which no threshold can flag`);
    }
    // -0 and 0 are one value; normalise so that a threshold never prints as "-0".
    out[i] = s === 0 ? 0 : s;
  }
  out.sort();
  return out;
}

/** The full ROC curve as exact counts. Throws E_USAGE without both normal and attack scores, or on bad scores. */
export function rocCounts(negatives: ArrayLike<number>, positives: ArrayLike<number>): RocCounts {
  const neg = sortedScores(negatives, "normal");
  const pos = sortedScores(positives, "attack");
  const nNeg = neg.length;
  const nPos = pos.length;
  if (nNeg === 0 || nPos === 0) {
    throw new HomeostatError(
      "E_USAGE",
      `a ROC curve needs normal and attack scores (got ${nNeg} normal, ${nPos} attack)`,
    );
  }
  const cap = nNeg + nPos + 1;
  const thresholds = new Float64Array(cap);
  const fpArr = new Float64Array(cap);
  const tpArr = new Float64Array(cap);

  // Walk both sorted arrays from the top; i and j index the highest score not yet flagged.
  let i = nNeg - 1;
  let j = nPos - 1;
  let fp = 0;
  let tp = 0;
  let count = 0;
  let next = Math.max(neg[i]!, pos[j]!);
  thresholds[0] = next;
  count = 1;
  while (i >= 0 || j >= 0) {
    const v = next;
    while (i >= 0 && neg[i] === v) {
      fp++;
      i--;
    }
    while (j >= 0 && pos[j] === v) {
      tp++;
      j--;
    }
    if (i >= 0 && j >= 0) next = Math.max(neg[i]!, pos[j]!);
    else if (i >= 0) next = neg[i]!;
    else if (j >= 0) next = pos[j]!;
    else next = Number.NEGATIVE_INFINITY;
    thresholds[count] = next;
    fpArr[count] = fp;
    tpArr[count] = tp;
    count++;
  }
  return {
    negatives: nNeg,
    positives: nPos,
    thresholds: thresholds.subarray(0, count),
    fp: fpArr.subarray(0, count),
    tp: tpArr.subarray(0, count),
  };
}

/** Area under the curve by the trapezoid rule on the counts, divided once at the end. */
export function aucOfCounts(counts: RocCounts): number {
  const { fp, tp } = counts;
  // Sum of dfp * (tp0 + tp1) is an integer (twice the area in count units), exact in a double below 2^53.
  let twiceArea = 0;
  for (let k = 1; k < fp.length; k++) {
    const dfp = fp[k]! - fp[k - 1]!;
    if (dfp !== 0) twiceArea += dfp * (tp[k]! + tp[k - 1]!);
  }
  return twiceArea / (2 * counts.negatives * counts.positives);
}

function pointAt(counts: RocCounts, k: number): RocPoint {
  const fp = counts.fp[k]!;
  const tp = counts.tp[k]!;
  return { threshold: counts.thresholds[k]!, fpr: fp / counts.negatives, tpr: tp / counts.positives, fp, tp };
}

/**
 * Indices of the points kept when downsampling to at most maxPoints: the first and last always, and between them
 * a point whenever the curve has advanced by a fixed step in fpr + tpr (which strictly increases along the curve,
 * from 0 to 2), so that steep and flat stretches are sampled alike.
 */
function downsampleIndices(counts: RocCounts, maxPoints: number): number[] {
  const n = counts.thresholds.length;
  const keep: number[] = [0];
  if (maxPoints > 2) {
    const step = 2 / (maxPoints - 2);
    let mark = step;
    for (let k = 1; k < n - 1; k++) {
      const s = counts.fp[k]! / counts.negatives + counts.tp[k]! / counts.positives;
      if (s >= mark) {
        keep.push(k);
        mark = s + step;
      }
    }
  }
  keep.push(n - 1);
  return keep;
}

/** The ROC curve of normal (negative) and attack (positive) scores, with its exact AUC. */
export function roc(negatives: ArrayLike<number>, positives: ArrayLike<number>, options: RocOptions = {}): RocCurve {
  return rocFromCounts(rocCounts(negatives, positives), options);
}

/** The plottable curve and AUC from exact counts. */
export function rocFromCounts(counts: RocCounts, options: RocOptions = {}): RocCurve {
  const n = counts.thresholds.length;
  const maxPoints = options.maxPoints;
  if (maxPoints !== undefined && !(Number.isInteger(maxPoints) && maxPoints >= 2)) {
    throw new HomeostatError("E_USAGE", `maxPoints must be an integer >= 2, got ${maxPoints}`);
  }
  const auc = aucOfCounts(counts);
  const downsampled = maxPoints !== undefined && n > maxPoints;
  const points: RocPoint[] = [];
  if (downsampled) {
    for (const k of downsampleIndices(counts, maxPoints)) points.push(pointAt(counts, k));
  } else {
    for (let k = 0; k < n; k++) points.push(pointAt(counts, k));
  }
  return {
    negatives: counts.negatives,
    positives: counts.positives,
    auc,
    points,
    fullPointCount: n,
    downsampled,
  };
}

/** The AUC alone (equal to roc(...).auc). */
export function auc(negatives: ArrayLike<number>, positives: ArrayLike<number>): number {
  return aucOfCounts(rocCounts(negatives, positives));
}
