// The flags of `homeostat eval` (registered in ../commands/eval.ts) checked and turned into a plan: which data set
// or generic protocol, which split, threshold rule, models and ensemble. Every contradiction is refused (E_USAGE)
// before anything is read.

import type { EnsembleMethod } from "../../detect/ensemble.js";
import { ENSEMBLE_METHODS } from "../../detect/ensemble.js";
import type { ThresholdSpec } from "../../detect/threshold.js";
import { isTraceScoreName, TRACE_SCORE_NAMES } from "../../detect/traceScore.js";
import { HomeostatError } from "../../errors.js";
import { isSplitProtocol, SPLIT_PROTOCOLS, type SplitProtocol } from "../../eval/liddsSplit.js";
import { DEFAULT_CALIBRATION_SHARE, DEFAULT_EVAL_MODELS } from "../../eval/protocol.js";
import { DETECTORS } from "../../models/registry.js";
import type { InputFlags } from "../inputOptions.js";
import { parseNumber } from "../numberOptions.js";

export interface EvalFlags extends InputFlags {
  dataset?: string;
  data?: string;
  train?: string[];
  normal?: string[];
  attack?: string[];
  models?: string;
  score?: string;
  seed: number;
  threshold?: string;
  calibrationShare?: number;
  ensemble: string;
  kfold?: number;
  frame?: number;
  json?: string;
  report?: string;
  maxHeldCalls?: number;
  dedupe?: boolean;
  /** The ADFA-LD split: strict (default), lidds-500 or lidds-2000. */
  protocol?: string;
}

/**
 * Splits `--models` into specs. Commas separate specs and also a spec's options, so a piece with `=` and no `:`
 * continues the spec before it: `tstide:k=6,threshold=0.0001,ngram:n=5` is two specs.
 */
export function splitModelList(text: string): string[] {
  const specs: string[] = [];
  for (const raw of text.split(",")) {
    const piece = raw.trim();
    if (piece === "") continue;
    if (piece.includes("=") && !piece.includes(":") && specs.length > 0) specs[specs.length - 1] += `,${piece}`;
    else specs.push(piece);
  }
  if (specs.length === 0) throw new HomeostatError("E_USAGE", "--models lists no model");
  return specs;
}

/** `max` or `far:RATE` (e.g. `far:0.05`), RATE in [0, 1) by the strict number parser. */
export function parseThreshold(text: string): ThresholdSpec {
  if (text === "max") return { method: "max" };
  const m = /^far:(.*)$/s.exec(text);
  if (m === null) {
    throw new HomeostatError("E_USAGE", `--threshold must be "max" or "far:RATE" with RATE in [0, 1), got "${text}"`);
  }
  const far = parseNumber(m[1]!, {
    name: "threshold",
    label: "the RATE of --threshold far:RATE",
    min: 0,
    max: 1,
    maxExclusive: true,
    fraction: true,
  });
  return { method: "far", far };
}

/** The --dataset names. */
const DATASETS = ["adfa-ld", "lid-ds", "scenarios"] as const;
type DatasetName = (typeof DATASETS)[number];

/** What the flags ask for, checked before anything is read. */
export interface EvalPlan {
  dataset: DatasetName | undefined;
  split: SplitProtocol;
  threshold: ThresholdSpec;
  models: string[];
  ensemble: EnsembleMethod | undefined;
  share: number;
}

/** Checks the flags and says what they ask for (E_USAGE on any contradiction), before anything is read. */
export function planEval(flags: EvalFlags): EvalPlan {
  if (flags.score !== undefined && !isTraceScoreName(flags.score)) {
    throw new HomeostatError("E_USAGE", `unknown --score "${flags.score}" (one of ${TRACE_SCORE_NAMES.join(", ")})`);
  }
  const ensemble = flags.ensemble === "none" ? undefined : (flags.ensemble as EnsembleMethod);
  if (ensemble !== undefined && !(ENSEMBLE_METHODS as readonly string[]).includes(ensemble)) {
    throw new HomeostatError(
      "E_USAGE",
      `unknown --ensemble "${flags.ensemble}" (${ENSEMBLE_METHODS.join(", ")} or none)`,
    );
  }
  const dataset = planDataset(flags);
  if (flags.dedupe === true && flags.kfold !== undefined) {
    throw new HomeostatError("E_USAGE", "--dedupe removes test traces identical to training traces: not with --kfold");
  }
  const split = planSplit(flags);
  const liddsLike = dataset === "lid-ds" || dataset === "scenarios";
  const threshold = parseThreshold(flags.threshold ?? (liddsLike ? "max" : "far:0.05"));
  const models = flags.models === undefined ? [...DEFAULT_EVAL_MODELS] : splitModelList(flags.models);
  for (const spec of models) {
    const kind = spec.split(":")[0]!.trim();
    if (!Object.hasOwn(DETECTORS, kind)) {
      throw new HomeostatError(
        "E_USAGE",
        `unknown model "${kind}" (one-class models: ${Object.keys(DETECTORS).join(", ")})`,
      );
    }
  }
  return { dataset, split, threshold, models, ensemble, share: flags.calibrationShare ?? DEFAULT_CALIBRATION_SHARE };
}

/** The --dataset, or undefined for the generic protocol (--train/--normal/--attack): one of the two, whole. */
function planDataset(flags: EvalFlags): DatasetName | undefined {
  const generic = flags.train !== undefined || flags.normal !== undefined || flags.attack !== undefined;
  const dataset = flags.dataset as DatasetName | undefined;
  if (dataset !== undefined && !DATASETS.includes(dataset)) {
    throw new HomeostatError("E_USAGE", `unknown --dataset "${dataset}" (${DATASETS.join(", ")})`);
  }
  if (dataset === "scenarios" && flags.kfold !== undefined) {
    throw new HomeostatError(
      "E_USAGE",
      "--kfold is the supervised KS protocol over one data set's labelled traces: not with --dataset scenarios",
    );
  }
  if (dataset !== undefined && generic) {
    throw new HomeostatError("E_USAGE", "give either --dataset with --data, or --train/--normal/--attack, not both");
  }
  if (dataset !== undefined && flags.data === undefined)
    throw new HomeostatError("E_USAGE", "--dataset needs --data DIR");
  if (dataset === undefined && !generic) {
    throw new HomeostatError(
      "E_USAGE",
      "nothing to evaluate: give --dataset NAME --data DIR, or --train/--normal/--attack",
    );
  }
  if (
    dataset === undefined &&
    flags.kfold === undefined &&
    (flags.train === undefined || flags.normal === undefined || flags.attack === undefined)
  ) {
    throw new HomeostatError("E_USAGE", "the generic protocol needs --train, --normal and --attack");
  }
  return dataset;
}

/**
 * The --protocol split. The lidds-N variants are train/test splits of ADFA-LD's folders: refused with --kfold
 * (no training split) and on any other data. They compose with --dedupe, which then also removes test traces
 * identical to one of the moved validation traces.
 */
function planSplit(flags: EvalFlags): SplitProtocol {
  const split = flags.protocol ?? "strict";
  if (!isSplitProtocol(split)) {
    throw new HomeostatError("E_USAGE", `unknown --protocol "${split}" (${SPLIT_PROTOCOLS.join(", ")})`);
  }
  if (split === "strict") return split;
  if (flags.kfold !== undefined) {
    throw new HomeostatError(
      "E_USAGE",
      `--protocol ${split} moves validation traces into training: not with --kfold ` +
        "(cross-validation has no training split)",
    );
  }
  if (flags.dataset !== "adfa-ld") {
    throw new HomeostatError(
      "E_USAGE",
      `--protocol ${split} is a split of ADFA-LD's folders: it needs --dataset adfa-ld --data DIR`,
    );
  }
  return split;
}
