// The figures of one set of unit scores (experiment.ts): the threshold-free ones over every test unit (ROC and AUC
// with exact tie handling, operating points, score histograms) and those at the calibrated threshold over the units
// not used for calibration (confusion, per-attack detection). Attack labels are used for nothing but these.

import { confusionAt, confusionRates } from "./confusion.js";
import type { AttackTypeResult, ModelResult, OperatingPointJson, ScoreDistribution } from "./evalResult.js";
import type { EvalUnit } from "./evalUnit.js";
import {
  detectionAtFalseAlarm,
  falseAlarmAtDetection,
  type OperatingPoint,
  STANDARD_DETECTION_RATE,
  STANDARD_FALSE_ALARM_RATES,
} from "./operatingPoints.js";
import { aucOfCounts, rocCounts, rocFromCounts } from "./roc.js";

/** An operating point as results report it. */
export function operatingPointJson(p: OperatingPoint): OperatingPointJson {
  return { target: p.target, threshold: p.threshold, fpr: p.fpr, tpr: p.tpr };
}

/** The threshold-free and calibrated figures of one set of unit scores. */
export function measure(
  units: readonly EvalUnit[],
  scores: Float64Array,
  threshold: number,
  heldOut: ReadonlySet<EvalUnit>,
  options: { rocPoints?: number; bins?: number },
): Omit<ModelResult, "name" | "kind" | "options" | "score" | "delay" | "callLevel" | "cost"> {
  const neg: number[] = [];
  const pos: number[] = [];
  const negHeldOut: number[] = []; // normal scores not used for calibration: the figures at the threshold
  const byType = new Map<string, number[]>();
  units.forEach((u, i) => {
    const s = scores[i]!;
    if (!u.attack) {
      neg.push(s);
      if (!heldOut.has(u)) negHeldOut.push(s);
    } else {
      pos.push(s);
      const type = u.attackType ?? "attack";
      const list = byType.get(type);
      if (list === undefined) byType.set(type, [s]);
      else list.push(s);
    }
  });
  const counts = rocCounts(neg, pos);
  const curve = rocFromCounts(counts, { maxPoints: options.rocPoints ?? 300 });
  const confusion = confusionAt(negHeldOut, pos, threshold);
  const perAttack: AttackTypeResult[] = [...byType.entries()]
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([type, s]) => {
      const detected = s.filter((x) => x > threshold).length;
      return {
        type,
        traces: s.length,
        detected,
        detectionRate: detected / s.length,
        auc: aucOfCounts(rocCounts(neg, s)),
      };
    });
  return {
    auc: curve.auc,
    dr_at_far: STANDARD_FALSE_ALARM_RATES.map((f) => operatingPointJson(detectionAtFalseAlarm(counts, f))),
    far_at_dr90: operatingPointJson(falseAlarmAtDetection(counts, STANDARD_DETECTION_RATE)),
    roc: curve.points.map((p) => ({ fpr: p.fpr, tpr: p.tpr, threshold: p.threshold })),
    threshold,
    confusion,
    rates: confusionRates(confusion),
    per_attack: perAttack,
    distribution: histogram(neg, pos, options.bins ?? 30),
  };
}

/** Histograms of normal and attack scores over shared equal-width bins (infinite scores go to the end bins). */
export function histogram(normal: readonly number[], attack: readonly number[], bins: number): ScoreDistribution {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const x of [...normal, ...attack]) {
    if (!Number.isFinite(x)) continue;
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  if (!Number.isFinite(lo)) {
    lo = 0;
    hi = 1;
  }
  if (hi === lo) hi = lo + 1;
  const width = (hi - lo) / bins;
  const edges = Array.from({ length: bins + 1 }, (_, i) => lo + i * width);
  edges[bins] = hi;
  const count = (xs: readonly number[]): number[] => {
    const h = new Array<number>(bins).fill(0);
    for (const x of xs) {
      if (Number.isNaN(x)) continue;
      const b = Math.min(bins - 1, Math.max(0, Math.floor((x - lo) / width)));
      h[b]! += 1;
    }
    return h;
  };
  return { edges, normal: count(normal), attack: count(attack) };
}
