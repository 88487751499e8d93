// One evaluation experiment: train each detector on normal traces, calibrate its alarm threshold on normal
// calibration units only, score the test units, and measure everything `homeostat eval` reports (ROC/AUC,
// operating points, confusion at the calibrated threshold, per-attack detection, detection delay, LID-DS call-level
// figures, cost). Free of I/O: the caller loads the data and decides what to print.
//
// Units: a unit is what gets one verdict, e.g. an ADFA-LD trace, or a LID-DS recording (all its threads). A unit's
// score is the largest score of its traces (one anomalous thread makes the recording anomalous). Warrender et al.
// (1999) and Creech & Hu (2013) score traces; LID-DS (Grimmer et al. 2019) decides per recording.
//
// Per-call alarms (detection delay, call level): a call alarms when the running score of its trace, up to and
// including it, exceeds the trace threshold (alarm measure "score" of src/detect/alarm.ts). At a trace's last call
// the running score is the trace score, so a unit is flagged exactly when one of its calls alarms: the trace-level
// and call-level figures agree by construction.
//
// Honesty: the threshold and the ensemble's normalisation see normal calibration data only; attack labels are
// used for nothing but the metrics.

import { HomeostatError } from "../errors.js";
import { type Ensemble, type EnsembleMethod, fitEnsemble } from "../detect/ensemble.js";
import { calibrateThreshold, type ThresholdSpec } from "../detect/threshold.js";
import {
  isTraceScoreName,
  scoreOf,
  scoreTrace,
  type ScoringOptions,
  TraceAccumulator,
  type TraceScoreName,
} from "../detect/traceScore.js";
import type { Detector } from "../models/detector.js";
import { createDetector, parseModelSpec } from "../models/registry.js";
import { callLevelMetrics, type RecordingAlarms } from "./callLevel.js";
import { confusionAt, confusionRates } from "./confusion.js";
import { detectionDelay, summarizeDelays } from "./detectionDelay.js";
import type { AttackTypeResult, ModelResult, OperatingPointJson, ScoreDistribution } from "./evalResult.js";
import {
  detectionAtFalseAlarm,
  falseAlarmAtDetection,
  type OperatingPoint,
  STANDARD_DETECTION_RATE,
  STANDARD_FALSE_ALARM_RATES,
} from "./operatingPoints.js";
import { aucOfCounts, rocCounts, rocFromCounts } from "./roc.js";

/** One stream of calls of a unit, with per-call timestamps when the input has them. */
export interface UnitTrace {
  calls: Uint16Array;
  times?: Float64Array;
}

/** What gets one verdict: a trace, or a recording of several streams. */
export interface EvalUnit {
  name: string;
  traces: UnitTrace[];
  attack: boolean;
  /** The attack's type, for per-attack figures (attack units only). */
  attackType?: string;
  /** The attack session it belongs to (ADFA-LD's `<Type>_<n>` folder), for grouped folds (attack units only). */
  attackInstance?: string;
  /** When the attack began, on the traces' clock (LID-DS); absent: attack from the first call. */
  attackTime?: number;
}

export interface ExperimentData {
  /** Normal training traces. */
  train: Uint16Array[];
  /**
   * Normal units the threshold (and the ensemble's normalisation) are calibrated on. They may also be test units
   * (the same objects): then they count in the threshold-free figures (ROC, AUC, operating points, which need no
   * calibration and so stay comparable with published results on the whole set) but never in the figures at the
   * calibrated threshold (confusion, per-attack detection, delays, call level).
   */
  calibration: EvalUnit[];
  /** Normal and attack units the metrics are computed on. */
  test: EvalUnit[];
}

export interface ExperimentOptions {
  /** Model specs, e.g. ["stide:k=6", "ngram"]. */
  models: readonly string[];
  /** The trace score for every model; default: each model's own default (defaultEvalScore). */
  score?: TraceScoreName;
  threshold: ThresholdSpec;
  /** Seed for models with randomness (HMM); passed as their `seed` option when they have one. */
  seed: number;
  /** Add an ensemble of all models' scores (default: none). */
  ensemble?: EnsembleMethod;
  scoring?: ScoringOptions;
  /** Points kept on each plotted ROC curve (default 300). */
  rocPoints?: number;
  /** Bins of the score histograms (default 30). */
  bins?: number;
  /** Told when a model starts a phase (for progress bars). */
  onPhase?: (model: string, phase: "train" | "calibrate" | "score", index: number, total: number) => void;
}

/**
 * The default trace score of a model in evaluations: the share of its calls that are anomalous (the mismatch rate of
 * Forrest and Warrender; for probabilistic models, the share of calls whose surprisal reaches the model's rare-event
 * threshold, as t-stide counts rare windows). A mean over every call's surprisal lets the common calls of a long
 * normal trace hide a short burst of rare ones; counting only rare events does not (docs/detectors.md, "Per-trace
 * scores"). The same rule for every model and every data set.
 */
export function defaultEvalScore(_detector: Pick<Detector, "signal">): TraceScoreName {
  return "rate";
}

/** Everything measured, per model, in the order given (the ensemble, when asked for, last). */
export function runExperiment(data: ExperimentData, options: ExperimentOptions): ModelResult[] {
  checkExperiment(data, options);
  const heldOut = new Set(data.calibration);
  const testCalls = totalCalls(data.test);
  const runs = options.models.map((spec, index) => runModel(data, options, spec, index, heldOut, testCalls));
  const results = runs.map((r) => r.result);
  if (options.ensemble !== undefined && results.length >= 2) {
    results.push(ensembleResult(data, options, options.ensemble, runs, heldOut, testCalls));
  }
  return results;
}

/** Throws E_USAGE when the data or options cannot make an honest experiment. */
function checkExperiment(data: ExperimentData, options: ExperimentOptions): void {
  if (data.train.length === 0) throw new HomeostatError("E_USAGE", "no training traces");
  if (data.calibration.length === 0) throw new HomeostatError("E_USAGE", "no normal calibration traces");
  const normals = data.test.filter((u) => !u.attack).length;
  if (normals === 0) throw new HomeostatError("E_USAGE", "no normal test traces");
  if (normals === data.test.length) throw new HomeostatError("E_USAGE", "no attack test traces");
  if (data.calibration.some((u) => u.attack)) {
    throw new HomeostatError("E_USAGE", "calibration units must be normal: thresholds come from normal data only");
  }
  if (options.models.length === 0) throw new HomeostatError("E_USAGE", "no models to evaluate");
  if (options.score !== undefined && !isTraceScoreName(options.score)) {
    throw new HomeostatError("E_USAGE", `unknown score "${String(options.score)}"`);
  }
}

/** One model's result, with its calibration and test scores for the ensemble. */
interface ModelRun {
  result: ModelResult;
  calibration: Float64Array;
  test: Float64Array;
}

/** Trains one model, calibrates its threshold, scores the test units and measures. */
function runModel(
  data: ExperimentData,
  options: ExperimentOptions,
  spec: string,
  index: number,
  heldOut: ReadonlySet<EvalUnit>,
  testCalls: number,
): ModelRun {
  const parsed = parseModelSpec(spec);
  if ("seed" in parsed.options && !/(^|[:,])seed=/.test(spec)) parsed.options.seed = options.seed;
  const detector = createDetector(parsed.kind, parsed.options);
  const name = spec.trim();
  const scoreName = options.score ?? defaultEvalScore(detector);
  const total = options.models.length;

  options.onPhase?.(name, "train", index, total);
  let t0 = performance.now();
  detector.train(data.train);
  const trainSeconds = (performance.now() - t0) / 1000;

  options.onPhase?.(name, "calibrate", index, total);
  const calibration = scoreUnits(detector, data.calibration, scoreName, options.scoring);
  const threshold = calibrateThreshold(calibration, options.threshold).threshold;

  options.onPhase?.(name, "score", index, total);
  t0 = performance.now();
  const scored = scoreUnitsLive(detector, data.test, scoreName, threshold, heldOut, options.scoring);
  const scoreSeconds = (performance.now() - t0) / 1000;
  const result: ModelResult = {
    ...measure(data.test, scored.scores, threshold, heldOut, options),
    name,
    kind: detector.kind,
    options: { ...detector.options },
    score: scoreName,
    delay: summarizeDelays(scored.delays),
    ...(scored.recordings !== null ? { callLevel: callLevelMetrics(scored.recordings) } : {}),
    cost: {
      trainSeconds,
      scoreSeconds,
      callsPerSecond: scoreSeconds > 0 ? testCalls / scoreSeconds : Number.NaN,
      profileBytes: detector.serialize().length,
      memoryBytes: detector.memoryBytes(),
    },
  };
  return { result, calibration, test: scored.scores };
}

/** The ensemble of every model's scores, normalised on the calibration scores only. */
function ensembleResult(
  data: ExperimentData,
  options: ExperimentOptions,
  method: EnsembleMethod,
  runs: readonly ModelRun[],
  heldOut: ReadonlySet<EvalUnit>,
  testCalls: number,
): ModelResult {
  const t0 = performance.now();
  const calibrationScores = runs.map((r) => r.calibration);
  const ensemble: Ensemble = fitEnsemble(calibrationScores, method);
  const combinedCalibration = ensemble.combineMany(calibrationScores);
  const combined = ensemble.combineMany(runs.map((r) => r.test));
  const threshold = calibrateThreshold(combinedCalibration, options.threshold).threshold;
  const seconds = (performance.now() - t0) / 1000;
  const results = runs.map((r) => r.result);
  const sum = (f: (r: ModelResult) => number): number => results.reduce((a, r) => a + f(r), 0);
  const scoreSeconds = sum((r) => r.cost.scoreSeconds) + seconds;
  return {
    ...measure(data.test, combined, threshold, heldOut, options),
    name: `ensemble(${method})`,
    kind: "ensemble",
    options: { method, models: results.map((r) => r.name).join(" + ") },
    score: `${method} of ${results.map((r) => r.score).join(", ")}`,
    delay: summarizeDelays([]),
    cost: {
      trainSeconds: sum((r) => r.cost.trainSeconds),
      scoreSeconds,
      callsPerSecond: scoreSeconds > 0 ? testCalls / scoreSeconds : Number.NaN,
      profileBytes: sum((r) => r.cost.profileBytes),
      memoryBytes: sum((r) => r.cost.memoryBytes),
    },
  };
}

function totalCalls(units: readonly EvalUnit[]): number {
  let n = 0;
  for (const u of units) for (const t of u.traces) n += t.calls.length;
  return n;
}

/** A unit's score: the largest of its traces' scores (0 for a unit with no calls). */
function scoreUnits(
  detector: Detector,
  units: readonly EvalUnit[],
  name: TraceScoreName,
  scoring: ScoringOptions = {},
): Float64Array {
  let longest = 0;
  for (const u of units) for (const t of u.traces) longest = Math.max(longest, t.calls.length);
  const buffer = new Float64Array(longest);
  const scores = new Float64Array(units.length);
  units.forEach((u, i) => {
    let best = u.traces.length === 0 ? 0 : Number.NEGATIVE_INFINITY;
    for (const t of u.traces)
      best = Math.max(best, scoreOf(scoreTrace(detector, t.calls, { ...scoring, buffer }), name));
    scores[i] = best;
  });
  return scores;
}

interface LiveScores {
  scores: Float64Array;
  /** Per attack unit, its detection delay in calls (NaN: not detected). */
  delays: number[];
  /** Call-level recordings, when every test unit has timestamps; else null. */
  recordings: RecordingAlarms[] | null;
}

/** Scores test units call by call, recording where each trace's running score first exceeds the threshold. */
function scoreUnitsLive(
  detector: Detector,
  units: readonly EvalUnit[],
  name: TraceScoreName,
  threshold: number,
  heldOut: ReadonlySet<EvalUnit>,
  scoring: ScoringOptions = {},
): LiveScores {
  const scores = new Float64Array(units.length);
  const delays: number[] = [];
  const timed = units.every((u) => u.traces.every((t) => t.times !== undefined && t.times.length === t.calls.length));
  const recordings: RecordingAlarms[] | null = timed ? [] : null;
  const acc = new TraceAccumulator(detector.signal, scoring);
  const state = detector.newState();
  units.forEach((u, i) => {
    let best = u.traces.length === 0 ? 0 : Number.NEGATIVE_INFINITY;
    const flagsOfTraces: Uint8Array[] = [];
    for (const t of u.traces) {
      state.reset();
      acc.reset();
      const flags = new Uint8Array(t.calls.length);
      for (let c = 0; c < t.calls.length; c++) {
        acc.add(detector.step(state, t.calls[c]!));
        if (acc.score(name) > threshold) flags[c] = 1;
      }
      best = Math.max(best, t.calls.length === 0 ? 0 : acc.score(name));
      flagsOfTraces.push(flags);
    }
    scores[i] = best;
    if (heldOut.has(u)) return;
    if (u.attack) delays.push(unitDelay(u, flagsOfTraces));
    if (recordings !== null) recordings.push(mergeByTime(u, flagsOfTraces));
  });
  return { scores, delays, recordings };
}

/** Calls from the attack start (or the trace start) to the first alarm, the earliest over the unit's traces. */
function unitDelay(u: EvalUnit, flags: readonly Uint8Array[]): number {
  let best = Number.NaN;
  u.traces.forEach((t, i) => {
    let start = 0;
    if (u.attackTime !== undefined && t.times !== undefined) {
      start = t.times.findIndex((x) => x >= u.attackTime!);
      if (start < 0) return;
    }
    const d = detectionDelay(flags[i]!, start).calls;
    if (!Number.isNaN(d) && !(d >= best)) best = d;
  });
  return best;
}

/** One recording for call-level metrics: all streams' calls in time order (stable for equal times). */
function mergeByTime(u: EvalUnit, flags: readonly Uint8Array[]): RecordingAlarms {
  let n = 0;
  for (const t of u.traces) n += t.calls.length;
  const order: { time: number; trace: number; call: number }[] = [];
  u.traces.forEach((t, ti) => {
    for (let c = 0; c < t.calls.length; c++) order.push({ time: t.times![c]!, trace: ti, call: c });
  });
  order.sort((a, b) => a.time - b.time || a.trace - b.trace || a.call - b.call);
  const alarms = new Uint8Array(n);
  const timestamps = new Float64Array(n);
  order.forEach((o, i) => {
    alarms[i] = flags[o.trace]![o.call]!;
    timestamps[i] = o.time;
  });
  return {
    name: u.name,
    alarms,
    attack: u.attack,
    timestamps,
    ...(u.attack && u.attackTime !== undefined ? { attackTime: u.attackTime } : {}),
  };
}

/** An operating point as results report it. */
export function operatingPointJson(p: OperatingPoint): OperatingPointJson {
  return { target: p.target, threshold: p.threshold, fpr: p.fpr, tpr: p.tpr };
}

/** The threshold-free and calibrated figures of one set of unit scores. */
function measure(
  units: readonly EvalUnit[],
  scores: Float64Array,
  threshold: number,
  heldOut: ReadonlySet<EvalUnit>,
  options: ExperimentOptions,
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
