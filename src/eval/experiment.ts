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
// and call-level figures agree by construction. Units are evalUnit.ts, their scoring unitScores.ts, the figures
// measured on the scores scoreFigures.ts.
//
// Honesty: the threshold and the ensemble's normalisation see normal calibration data only; attack labels are
// used for nothing but the metrics.

import { HomeostatError } from "../errors.js";
import { type Ensemble, type EnsembleMethod, fitEnsemble } from "../detect/ensemble.js";
import { calibrateThreshold, type ThresholdSpec } from "../detect/threshold.js";
import { isTraceScoreName, type ScoringOptions, type TraceScoreName } from "../detect/traceScore.js";
import type { Detector } from "../models/detector.js";
import { createDetector, parseModelSpec } from "../models/registry.js";
import { callLevelMetrics } from "./callLevel.js";
import { summarizeDelays } from "./detectionDelay.js";
import type { ModelResult } from "./evalResult.js";
import type { EvalUnit } from "./evalUnit.js";
import { measure } from "./scoreFigures.js";
import { scoreUnits, scoreUnitsLive } from "./unitScores.js";

export type { EvalUnit, UnitTrace } from "./evalUnit.js";
export { histogram, operatingPointJson } from "./scoreFigures.js";

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
