// The result of one `homeostat eval` run: everything the terminal table, the --json file and the --report page
// show, in one plain, JSON-ready shape (numbers that are undefined are NaN here and null in JSON; see
// metricJson.ts). docs/eval-json.md documents it field by field; `schema` changes when a field changes meaning.

import type { CallLevelMetrics } from "./callLevel.js";
import type { Confusion, ConfusionRates } from "./confusion.js";
import type { DelaySummary } from "./detectionDelay.js";

export const EVAL_SCHEMA = "homeostat-eval/1";

/** What the dedupe variant removed (trainingCopies.ts). */
export interface DedupeSummary {
  removed: number;
  normal: number;
  attack: number;
  /** The removed units' names. */
  units: string[];
}

/** The validation traces a LID-DS-style ADFA-LD split moved into training (`eval --protocol lidds-N`). */
export interface TrainingFromValidation {
  /** N: how many validation normals were moved. */
  count: number;
  /** How they were chosen: the first N by file name, as the LID-DS library's ADFA-LD loader does. */
  order: "file-name";
  /** The first and last file names moved. */
  first: string;
  last: string;
}

/** What was evaluated on what, and under which rules. */
export interface EvalProtocol {
  /** "adfa-ld", "lid-ds", "generic" (--train/--normal/--attack) or "ks-kfold". */
  name: string;
  /**
   * True when the data set's own train/test split was used unchanged (no variant): only strict figures are
   * comparable with results published under the data set's standard protocol.
   */
  strict: boolean;
  /** One sentence on the protocol for readers of the report. */
  description: string;
  /** The promises that keep the figures honest (thresholds from normal data only, same defaults everywhere...). */
  rules: string[];
  seed: number;
  /** How the alarm threshold was set: "max" (largest normal calibration score) or "far" (quantile). */
  threshold: { method: "max" | "far"; far?: number; calibration: string };
  /**
   * The variants applied, joined by "+", split variant first: "lidds-500", "lidds-2000" (`--protocol`), "dedupe"
   * (`--dedupe`: test units identical to a training trace removed), e.g. "lidds-500+dedupe".
   */
  variant?: string;
  /** With a lidds-N variant: the validation traces moved into training (and out of the test set). */
  trainingFromValidation?: TrainingFromValidation;
  /** With the dedupe variant: what was removed. */
  dedupe?: DedupeSummary;
}

export interface SplitSummary {
  name: string;
  traces: number;
  calls: number;
}

export interface DatasetSummary {
  /** The paths read, as given. */
  paths: string[];
  splits: SplitSummary[];
  /** Attack traces per attack type. */
  attackTypes: { type: string; traces: number }[];
  /** Distinct system calls seen across all splits. */
  syscalls: number;
}

/** A point of an ROC curve (false-alarm rate, detection rate) with its threshold (alarm when score > it). */
export interface RocPointJson {
  fpr: number;
  tpr: number;
  threshold: number;
}

export interface OperatingPointJson {
  /** The false-alarm rate (dr_at_far) or detection rate (far_at_dr) asked for. */
  target: number;
  threshold: number;
  fpr: number;
  tpr: number;
}

export interface AttackTypeResult {
  type: string;
  traces: number;
  detected: number;
  /** detected / traces at the calibrated threshold. */
  detectionRate: number;
  /** AUC of this attack type's traces against all normal test traces. */
  auc: number;
}

/** Score histograms of normal and attack test traces over shared bins (for the distribution plots). */
export interface ScoreDistribution {
  /** Bin edges, length bins + 1. */
  edges: number[];
  normal: number[];
  attack: number[];
}

export interface CostFigures {
  trainSeconds: number;
  scoreSeconds: number;
  /** Calls scored per second (all test traces / scoreSeconds). */
  callsPerSecond: number;
  /** Bytes of the serialised profile (0 for an ensemble, which has no profile of its own). */
  profileBytes: number;
  /** Bytes of memory the trained model holds. */
  memoryBytes: number;
}

export interface ModelResult {
  /** The model spec as given (e.g. "stide:k=6"), or "ensemble(<method>)", e.g. "ensemble(minmax)". */
  name: string;
  kind: string;
  /** Every option, defaults filled in. */
  options: Record<string, number | string | boolean>;
  /** Which trace score was used (rate, maxLfc, meanSurprisal, ...). */
  score: string;
  auc: number;
  /** Detection rate at false-alarm rates of 1%, 5% and 10%. */
  dr_at_far: OperatingPointJson[];
  /** False-alarm rate at 90% detection. */
  far_at_dr90: OperatingPointJson;
  /** ROC curve, thinned to at most a few hundred points (the exact AUC is computed on the full curve). */
  roc: RocPointJson[];
  /** The calibrated threshold and what it gives on the test traces. */
  threshold: number;
  confusion: Confusion;
  rates: ConfusionRates;
  per_attack: AttackTypeResult[];
  distribution: ScoreDistribution;
  /** Detection delay in calls from the start of each detected attack trace (or the attack, where known). */
  delay: DelaySummary;
  /** LID-DS call-level figures, when the protocol has recordings with attack times. */
  callLevel?: CallLevelMetrics;
  cost: CostFigures;
}

/** The supervised KS protocol's per-fold and pooled table, as the Bushouse seed reports it. */
export interface KfoldRow {
  fold: number;
  n: number;
  tp: number;
  fn: number;
  fp: number;
  tn: number;
  precision: number;
  recall: number;
  /** (tp + tn) / n. */
  accuracy: number;
}

/** How traces were assigned to folds: whole attack sessions per fold, or trace by trace. */
export type FoldGrouping = "attack-session" | "trace";

/** A k-fold run's table: one row per fold and the pooled total (fold 0). */
export interface KfoldTable {
  grouping: FoldGrouping;
  /** Attack sessions (groups of attack traces kept in one fold); each ungrouped attack trace counts as one. */
  attackGroups: number;
  rows: KfoldRow[];
  total: KfoldRow;
}

/**
 * The supervised KS protocol's figures. The main table groups folds by attack session; `random`, beside it, is the
 * same classifier with folds drawn trace by trace, which lets traces of one attack session sit in both the training
 * and the test folds (leaky: it measures recognising a session already seen, not detecting a new one).
 */
export interface KfoldResult extends KfoldTable {
  k: number;
  /** The random-fold comparison (only when attack sessions are known). */
  random?: KfoldTable & { leaky: true; auc: number; model: string };
}

export interface EvalResult {
  schema: typeof EVAL_SCHEMA;
  homeostat: string;
  /** ISO time the run started. */
  startedAt: string;
  protocol: EvalProtocol;
  dataset: DatasetSummary;
  models: ModelResult[];
  /** Present for the ks-kfold protocol. */
  kfold?: KfoldResult;
  /** Seconds for the whole run, loading included. */
  totalSeconds: number;
  /** Seconds spent reading the inputs. */
  loadSeconds: number;
}
