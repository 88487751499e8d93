// The supervised protocol of the KS bigram classifier (Bushouse, "Characterization of system calls", Sandia; see
// src/models/ksBigram.ts): stratified k-fold cross-validation over labelled traces. Each fold trains the
// classifier on the other folds' normal and attack traces and classifies its own; the report has one row per fold
// and the pooled total, with the seed paper's columns (n, TP, FN, FP, TN, precision, recall), plus the threshold-
// free figures of the pooled out-of-fold scores (ROC/AUC), so that the supervised method sits in the same table as
// the one-class detectors.
//
// Folds are grouped by attack session by default (groupedKFold.ts): every trace of one attack instance (ADFA-LD's
// Attack_Data_Master/<Type>_<n>) sits in one fold, so no fold is tested on a session it was trained on; normal
// traces are split trace by trace. `grouping: "trace"` gives the random (stratified, per-trace) folds, which leak
// sessions across folds and are reported only beside the grouped figure, labelled as leaky.

import { HomeostatError } from "../errors.js";
import { KsBigramClassifier, type TraceLabel } from "../models/ksBigram.js";
import { confusionAt, confusionOfPredictions, confusionRates } from "./confusion.js";
import type { EvalUnit } from "./experiment.js";
import type { AttackTypeResult, FoldGrouping, KfoldRow, ModelResult } from "./evalResult.js";
import { groupedStratifiedKFold } from "./groupedKFold.js";
import { type Fold, stratifiedKFold } from "./kfold.js";
import {
  detectionAtFalseAlarm,
  falseAlarmAtDetection,
  STANDARD_DETECTION_RATE,
  STANDARD_FALSE_ALARM_RATES,
} from "./operatingPoints.js";
import { aucOfCounts, rocCounts, rocFromCounts } from "./roc.js";
import { histogram, operatingPointJson } from "./experiment.js";
import { summarizeDelays } from "./detectionDelay.js";

export interface KsKfoldOptions {
  k: number;
  seed: number;
  /** id -> category symbol, and the number of symbols (src/syscalls categoryLookup, CATEGORY_COUNT). */
  lookup: Uint8Array | Uint16Array;
  symbols: number;
  /** ksbigram options (models, k closest, scale, clip, ...). */
  classifier?: Partial<Record<string, number | string | boolean>>;
  /** "attack-session" (default): an attack instance's traces share a fold; "trace": random per-trace folds. */
  grouping?: FoldGrouping;
  /** The result's model name (default "ksbigram"). */
  name?: string;
}

export interface KsKfoldResult {
  grouping: FoldGrouping;
  /** Attack groups the folds kept whole (attack traces without an instance count one each). */
  attackGroups: number;
  rows: KfoldRow[];
  total: KfoldRow;
  model: ModelResult;
  /** The fold (1..k) that tested each unit, in the order given. */
  foldOfUnit: Int32Array;
}

function row(fold: number, truth: number[], predicted: number[]): KfoldRow {
  const c = confusionOfPredictions(truth, predicted);
  const r = confusionRates(c);
  return { fold, n: truth.length, ...c, precision: r.precision, recall: r.recall, accuracy: r.accuracy };
}

/** The attack-session key of each unit (attack units with a known instance only). */
function sessionKeys(units: readonly EvalUnit[]): (string | undefined)[] {
  return units.map((u) => (u.attack && u.attackInstance !== undefined ? u.attackInstance : undefined));
}

/** Distinct attack groups: known instances, plus one per attack unit without one. */
function countAttackGroups(units: readonly EvalUnit[]): number {
  const keys = new Set<string>();
  let loose = 0;
  for (const u of units) {
    if (!u.attack) continue;
    if (u.attackInstance === undefined) loose++;
    else keys.add(u.attackInstance);
  }
  return keys.size + loose;
}

/** The folds of the chosen grouping. */
function foldsFor(units: readonly EvalUnit[], labels: readonly number[], options: KsKfoldOptions): Fold[] {
  if ((options.grouping ?? "attack-session") === "trace") return stratifiedKFold(labels, options.k, options.seed);
  return groupedStratifiedKFold(labels, sessionKeys(units), options.k, options.seed);
}

/** Runs the k folds over single-trace units (each unit's streams are joined in order). */
export function runKsKfold(units: readonly EvalUnit[], options: KsKfoldOptions): KsKfoldResult {
  const traces = units.map((u) => joinTraces(u));
  const labels = units.map((u) => (u.attack ? 1 : 0));
  if (!labels.includes(0) || !labels.includes(1)) {
    throw new HomeostatError("E_USAGE", "the KS k-fold protocol needs both normal and attack traces");
  }
  const split = foldsFor(units, labels, options);
  const folds = runFolds(traces, labels, split, options);
  const total = row(0, labels, folds.predicted);
  const foldOfUnit = new Int32Array(units.length);
  split.forEach((f, fi) => {
    for (const i of f.test) foldOfUnit[i] = fi + 1;
  });
  return {
    grouping: options.grouping ?? "attack-session",
    attackGroups: countAttackGroups(units),
    rows: folds.rows,
    total,
    model: pooledModel(units, traces, folds, options),
    foldOfUnit,
  };
}

/** Out-of-fold scores and decisions of every trace, the per-fold rows, and the cost. */
interface FoldRun {
  scores: Float64Array;
  predicted: number[];
  rows: KfoldRow[];
  trainSeconds: number;
  scoreSeconds: number;
  profileBytes: number;
  memoryBytes: number;
}

/** Throws E_USAGE when a fold's training part lacks a label (too few attack sessions for k folds). */
function checkTrainingLabels(fold: Fold, labels: readonly number[], f: number, k: number): void {
  let attacks = 0;
  for (const i of fold.train) attacks += labels[i]!;
  if (attacks === 0 || attacks === fold.train.length) {
    throw new HomeostatError(
      "E_USAGE",
      `fold ${f + 1} of ${k} would train on ${attacks === 0 ? "no attack" : "no normal"} traces: ` +
        "too few attack sessions (or normal traces) for that many folds",
    );
  }
}

/** Trains a classifier per fold on the other folds and classifies the fold's traces. */
function runFolds(
  traces: readonly Uint16Array[],
  labels: readonly number[],
  folds: readonly Fold[],
  options: KsKfoldOptions,
): FoldRun {
  const run: FoldRun = {
    scores: new Float64Array(traces.length),
    predicted: new Array<number>(traces.length).fill(0),
    rows: [],
    trainSeconds: 0,
    scoreSeconds: 0,
    profileBytes: 0,
    memoryBytes: 0,
  };
  folds.forEach((fold, f) => checkTrainingLabels(fold, labels, f, options.k));
  folds.forEach((fold, f) => {
    const cls = new KsBigramClassifier(options.lookup, options.symbols, options.classifier ?? {});
    const trainTraces = Array.from(fold.train, (i) => traces[i]!);
    const trainLabels = Array.from(fold.train, (i): TraceLabel => (labels[i] === 1 ? "attack" : "normal"));
    let t0 = performance.now();
    cls.train(trainTraces, trainLabels);
    run.trainSeconds += (performance.now() - t0) / 1000;
    run.profileBytes = Math.max(run.profileBytes, cls.serialize().length);
    run.memoryBytes = Math.max(run.memoryBytes, cls.memoryBytes());
    t0 = performance.now();
    for (const i of fold.test) {
      const c = cls.classify(traces[i]!);
      run.scores[i] = c.score;
      run.predicted[i] = c.label === "attack" ? 1 : 0;
    }
    run.scoreSeconds += (performance.now() - t0) / 1000;
    run.rows.push(
      row(
        f + 1,
        Array.from(fold.test, (i) => labels[i]!),
        Array.from(fold.test, (i) => run.predicted[i]!),
      ),
    );
  });
  return run;
}

/** The threshold-free and per-attack figures of the pooled out-of-fold scores, as one model's result. */
function pooledModel(
  units: readonly EvalUnit[],
  traces: readonly Uint16Array[],
  run: FoldRun,
  options: KsKfoldOptions,
): ModelResult {
  const { neg, pos, perAttack } = pooledScores(units, run);
  const counts = rocCounts(neg, pos);
  const curve = rocFromCounts(counts, { maxPoints: 300 });
  // The classifier's own decision is score > 0 (closer to the malicious models): the same rule as a threshold 0.
  const confusion = confusionAt(neg, pos, 0);
  const calls = traces.reduce((a, t) => a + t.length, 0);
  return {
    name: options.name ?? "ksbigram",
    kind: "ksbigram",
    options: { folds: options.k, ...(options.classifier ?? {}) } as Record<string, number | string | boolean>,
    score: "meanD(benign) - meanD(malicious)",
    auc: curve.auc,
    dr_at_far: STANDARD_FALSE_ALARM_RATES.map((f) => operatingPointJson(detectionAtFalseAlarm(counts, f))),
    far_at_dr90: operatingPointJson(falseAlarmAtDetection(counts, STANDARD_DETECTION_RATE)),
    roc: curve.points.map((p) => ({ fpr: p.fpr, tpr: p.tpr, threshold: p.threshold })),
    threshold: 0,
    confusion,
    rates: confusionRates(confusion),
    per_attack: perAttack,
    distribution: histogram(neg, pos, 30),
    delay: summarizeDelays([]),
    cost: {
      trainSeconds: run.trainSeconds,
      scoreSeconds: run.scoreSeconds,
      callsPerSecond: run.scoreSeconds > 0 ? calls / run.scoreSeconds : Number.NaN,
      profileBytes: run.profileBytes,
      memoryBytes: run.memoryBytes,
    },
  };
}

/** Normal and attack scores, and per attack type the detections at the classifier's own decision. */
function pooledScores(
  units: readonly EvalUnit[],
  run: FoldRun,
): { neg: number[]; pos: number[]; perAttack: AttackTypeResult[] } {
  const neg: number[] = [];
  const pos: number[] = [];
  const byType = new Map<string, { scores: number[]; detected: number }>();
  units.forEach((u, i) => {
    if (!u.attack) neg.push(run.scores[i]!);
    else {
      pos.push(run.scores[i]!);
      const t = u.attackType ?? "attack";
      const g = byType.get(t) ?? { scores: [], detected: 0 };
      g.scores.push(run.scores[i]!);
      if (run.predicted[i] === 1) g.detected++;
      byType.set(t, g);
    }
  });
  const perAttack: AttackTypeResult[] = [...byType.entries()]
    .sort((a, b) => (a[0] < b[0] ? -1 : 1))
    .map(([type, g]) => ({
      type,
      traces: g.scores.length,
      detected: g.detected,
      detectionRate: g.detected / g.scores.length,
      auc: aucOfCounts(rocCounts(neg, g.scores)),
    }));
  return { neg, pos, perAttack };
}

function joinTraces(u: EvalUnit): Uint16Array {
  if (u.traces.length === 1) return u.traces[0]!.calls;
  const n = u.traces.reduce((a, t) => a + t.calls.length, 0);
  const out = new Uint16Array(n);
  let at = 0;
  for (const t of u.traces) {
    out.set(t.calls, at);
    at += t.calls.length;
  }
  return out;
}
