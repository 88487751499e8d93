// Confusion matrix of trace scores at a threshold (alarm when score > threshold, the rule shared with
// src/detect), the rates derived from it, and detection counted per group (e.g. per attack type).
//
// Zero denominators: a rate whose denominator is zero is NaN ("undefined"), never 0. Precision with nothing
// flagged, recall with no attack traces, the false-alarm rate with no normal traces: reporting 0 there (as
// scikit-learn and LID-DS do) would make a detector that never alarms look maximally imprecise and would drag
// averages; NaN keeps "not defined" distinct from "bad". F1 is computed from counts, 2TP / (2TP + FP + FN), which
// is the harmonic mean of precision and recall wherever both are defined, is 0 when attacks exist and none is
// flagged, and is NaN only when there are no attacks and no alarms. JSON cannot carry NaN: pass results through
// toJsonSafe (metricJson.ts), which writes null.

import { HomeostatError } from "../errors.js";

export interface Confusion {
  /** Attack traces flagged. */
  tp: number;
  /** Attack traces not flagged. */
  fn: number;
  /** Normal traces flagged (false alarms). */
  fp: number;
  /** Normal traces not flagged. */
  tn: number;
}

export interface ConfusionRates {
  /** tp / (tp + fp); NaN when nothing is flagged. */
  precision: number;
  /** tp / (tp + fn), the detection rate; NaN without attack traces. */
  recall: number;
  /** 2tp / (2tp + fp + fn); NaN without attack traces and alarms. */
  f1: number;
  /** (tp + tn) / all; NaN without traces. */
  accuracy: number;
  /** fp / (fp + tn), the false-alarm rate; NaN without normal traces. */
  falseAlarmRate: number;
}

function ratio(num: number, den: number): number {
  return den === 0 ? Number.NaN : num / den;
}

function checkThreshold(threshold: number): void {
  if (Number.isNaN(threshold)) throw new HomeostatError("E_USAGE", "threshold is NaN");
}

function countAbove(scores: ArrayLike<number>, threshold: number, what: string): number {
  let above = 0;
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i]!;
    if (Number.isNaN(s)) throw new HomeostatError("E_USAGE", `${what} score ${i} is NaN`);
    if (s > threshold) above++;
  }
  return above;
}

/** The confusion matrix of normal (negative) and attack (positive) scores at a threshold. Rejects NaN. */
export function confusionAt(negatives: ArrayLike<number>, positives: ArrayLike<number>, threshold: number): Confusion {
  checkThreshold(threshold);
  const fp = countAbove(negatives, threshold, "normal");
  const tp = countAbove(positives, threshold, "attack");
  return { tp, fn: positives.length - tp, fp, tn: negatives.length - fp };
}

/** The confusion matrix of binary labels (1 = attack) against binary predictions (1 = alarm). */
export function confusionOfPredictions(truth: ArrayLike<number>, predicted: ArrayLike<number>): Confusion {
  if (truth.length !== predicted.length) {
    throw new HomeostatError(
      "E_USAGE",
      `labels and predictions differ in length (${truth.length} vs ${predicted.length})`,
    );
  }
  const c: Confusion = { tp: 0, fn: 0, fp: 0, tn: 0 };
  for (let i = 0; i < truth.length; i++) {
    const t = truth[i]!;
    const p = predicted[i]!;
    if ((t !== 0 && t !== 1) || (p !== 0 && p !== 1)) {
      throw new HomeostatError("E_USAGE", `label and prediction ${i} must be 0 or 1, got ${t} and ${p}`);
    }
    if (t === 1) {
      if (p === 1) c.tp++;
      else c.fn++;
    } else if (p === 1) c.fp++;
    else c.tn++;
  }
  return c;
}

/** Precision, recall, F1, accuracy and false-alarm rate (NaN where undefined; see the header). */
export function confusionRates(c: Confusion): ConfusionRates {
  return {
    precision: ratio(c.tp, c.tp + c.fp),
    recall: ratio(c.tp, c.tp + c.fn),
    f1: ratio(2 * c.tp, 2 * c.tp + c.fp + c.fn),
    accuracy: ratio(c.tp + c.tn, c.tp + c.tn + c.fp + c.fn),
    falseAlarmRate: ratio(c.fp, c.fp + c.tn),
  };
}

export interface GroupDetection {
  group: string;
  /** Traces of the group flagged (score > threshold). */
  detected: number;
  total: number;
  /** detected / total. */
  rate: number;
}

/**
 * Detection per group, e.g. per attack type: for each distinct name in `groups` (one per score), how many of its
 * traces score above the threshold. Groups come back sorted by name so that reports are stable.
 */
export function detectionByGroup(
  scores: ArrayLike<number>,
  groups: ArrayLike<string>,
  threshold: number,
): GroupDetection[] {
  checkThreshold(threshold);
  if (scores.length !== groups.length) {
    throw new HomeostatError("E_USAGE", `scores and groups differ in length (${scores.length} vs ${groups.length})`);
  }
  const byName = new Map<string, GroupDetection>();
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i]!;
    if (Number.isNaN(s)) throw new HomeostatError("E_USAGE", `score ${i} is NaN`);
    const name = groups[i]!;
    let g = byName.get(name);
    if (g === undefined) {
      g = { group: name, detected: 0, total: 0, rate: 0 };
      byName.set(name, g);
    }
    g.total++;
    if (s > threshold) g.detected++;
  }
  const out = [...byName.values()].sort((a, b) => (a.group < b.group ? -1 : a.group > b.group ? 1 : 0));
  for (const g of out) g.rate = g.detected / g.total;
  return out;
}
