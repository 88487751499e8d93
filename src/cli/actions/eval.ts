// The work of `homeostat eval` (registered, with its argument parsers, in ../commands/eval.ts). The plan, the
// loading of one LID-DS scenario, the model run and the result document are exported for `--dataset scenarios`
// (evalScenarios.ts), which runs them once per program.

import type { EnsembleMethod } from "../../detect/ensemble.js";
import { ENSEMBLE_METHODS } from "../../detect/ensemble.js";
import { isTraceScoreName, TRACE_SCORE_NAMES, type TraceScoreName } from "../../detect/traceScore.js";
import type { ThresholdSpec } from "../../detect/threshold.js";
import { HomeostatError } from "../../errors.js";
import {
  type DedupeSummary,
  type EvalProtocol,
  type EvalResult,
  EVAL_SCHEMA,
  type ModelResult,
  type SplitSummary,
  type TrainingFromValidation,
} from "../../eval/evalResult.js";
import { type ExperimentData, runExperiment } from "../../eval/experiment.js";
import { runKsKfoldComparison } from "../../eval/ksKfoldComparison.js";
import {
  adfaProtocolDescription,
  isSplitProtocol,
  SPLIT_PROTOCOLS,
  type SplitProtocol,
  trainingFromValidation,
  validationMovedToTraining,
} from "../../eval/liddsSplit.js";
import { toJsonSafe } from "../../eval/metricJson.js";
import {
  adfaExperiment,
  DEFAULT_CALIBRATION_SHARE,
  genericExperiment,
  liddsExperiment,
  type ProtocolData,
  unitsOfTraces,
  DEFAULT_EVAL_MODELS,
} from "../../eval/protocol.js";
import { dedupeSummary } from "../../eval/trainingCopies.js";
import { loadTraces } from "../../ingest/loadTraces.js";
import type { Trace } from "../../ingest/traceCollector.js";
import { DETECTORS } from "../../models/registry.js";
import { renderHtmlReport } from "../../report/htmlReport.js";
import { CATEGORY_COUNT, categoryLookup } from "../../syscalls/categories.js";
import { Vocabulary } from "../../syscalls/vocabulary.js";
import type { CliContext } from "../context.js";
import { DEFAULT_MAX_HELD_CALLS, type InputFlags, inputReadOptions, parseAttackArg } from "../inputOptions.js";
import { parseNumber } from "../numberOptions.js";
import { writeAtomically } from "../partialOutput.js";
import { progress } from "../terminal.js";
import { VERSION } from "../version.js";
import { printEval } from "./evalPrint.js";

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

// It lives with the input options now (the command checks --attack paths before loading this module).
export { parseAttackArg };

function summarise(name: string, traces: readonly Trace[]): SplitSummary {
  return { name, traces: traces.length, calls: traces.reduce((a, t) => a + t.calls.length, 0) };
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

/** The traces read and the protocol's view of them. */
export interface LoadedData {
  data: ExperimentData;
  all: Trace[];
  splits: SplitSummary[];
  protocolName: string;
  description: string;
  paths: string[];
  /** With --dedupe: the test units removed as copies of training traces. */
  dedupe?: DedupeSummary;
  /** With --protocol lidds-N: the validation traces trained on. */
  moved?: TrainingFromValidation;
}

/** The models' results and how they were obtained. */
export interface EvalRun {
  results: ModelResult[];
  kfold: EvalResult["kfold"];
  rules: string[];
  protocolName: string;
  description: string;
}

export async function runEval(flags: EvalFlags, ctx: CliContext): Promise<void> {
  const started = performance.now();
  const startedAt = new Date().toISOString();
  const jsonToStdout = flags.json === "-";
  const plan = planEval(flags);
  if (plan.dataset === "scenarios") {
    throw new HomeostatError("E_USAGE", "--dataset scenarios is evaluated by evalScenarios.ts, not runEval");
  }
  const vocab = new Vocabulary();
  const bar = progress("loading", 1, !jsonToStdout);
  const loaded = await loadProtocol(flags, plan, vocab);
  bar.stop();
  const loadSeconds = (performance.now() - started) / 1000;
  const run = runModels(flags, plan, loaded, vocab, !jsonToStdout);
  const result = evalResult(flags, plan, loaded, run, vocab);
  result.startedAt = startedAt;
  result.totalSeconds = (performance.now() - started) / 1000;
  result.loadSeconds = loadSeconds;
  if (flags.json !== undefined) {
    const text = `${JSON.stringify(toJsonSafe(result), null, 2)}\n`;
    if (jsonToStdout) process.stdout.write(text);
    else writeAtomically(flags.json, text);
  }
  if (flags.report !== undefined) writeAtomically(flags.report, renderHtmlReport(result));
  if (!jsonToStdout) printEval(result, flags);
  ctx.exitCode = 0;
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

/** Reads paths into traces, counting every call held against one budget. */
export type TraceLoader = (paths: readonly string[], times?: boolean) => Promise<Trace[]>;

/** A loader with its own budget of held calls (--max-held-calls), shared by everything it loads. */
export function traceLoader(flags: EvalFlags, vocab: Vocabulary): TraceLoader {
  const read = inputReadOptions(flags);
  const maxHeld = flags.maxHeldCalls ?? DEFAULT_MAX_HELD_CALLS;
  let held = 0;
  return async (paths, times = false) => {
    const heldFor = "eval holds every trace of its protocol";
    const { traces } = await loadTraces(paths, vocab, {
      ...read,
      times,
      maxCalls: maxHeld,
      heldAlready: held,
      heldFor,
    });
    for (const t of traces) held += t.calls.length;
    return traces;
  };
}

const NO_EXPERIMENT: ExperimentData = { train: [], calibration: [], test: [] };

export function bySplit(all: readonly Trace[], names: readonly string[]): SplitSummary[] {
  return names.map((s) =>
    summarise(
      s,
      all.filter((t) => t.source.split === s),
    ),
  );
}

/** The protocol's experiment, what --protocol moved and what --dedupe removed (nothing to run with --kfold). */
export function protocolData(
  flags: EvalFlags,
  make: () => ProtocolData,
): { data: ExperimentData; dedupe?: DedupeSummary; moved?: TrainingFromValidation } {
  if (flags.kfold !== undefined) return { data: NO_EXPERIMENT };
  const data = make();
  return {
    data,
    ...(data.removedCopies !== undefined ? { dedupe: dedupeSummary(data.removedCopies) } : {}),
    ...(data.movedToTraining !== undefined ? { moved: trainingFromValidation(data.movedToTraining) } : {}),
  };
}

/**
 * Reads the protocol's traces. Every protocol holds its traces until all models have run (thresholds come from a
 * share of the test traces known only once all are read; per-call alarms need the calibrated threshold): a budget of
 * calls bounds them.
 */
async function loadProtocol(flags: EvalFlags, plan: EvalPlan, vocab: Vocabulary): Promise<LoadedData> {
  const load = traceLoader(flags, vocab);
  const options = { dedupe: flags.dedupe === true };
  if (plan.dataset === "adfa-ld") {
    const all = await load([flags.data!]);
    const moved = validationMovedToTraining(plan.split);
    const adfaOptions = moved > 0 ? { ...options, trainFromValidation: moved } : options;
    return {
      all,
      paths: [flags.data!],
      protocolName: "adfa-ld",
      description: adfaProtocolDescription(plan.split),
      splits: bySplit(all, ["training", "validation", "attack"]),
      ...protocolData(flags, () => adfaExperiment(all, flags.seed, plan.share, adfaOptions)),
    };
  }
  if (plan.dataset === "lid-ds") {
    const all = await load([flags.data!], true);
    return liddsLoaded(flags, flags.data!, all, () => liddsExperiment(all, options));
  }
  return loadGeneric(flags, plan, load);
}

/** One LID-DS scenario's loaded data (its recordings read with timestamps), its experiment made by `make`. */
export function liddsLoaded(flags: EvalFlags, path: string, all: Trace[], make: () => ProtocolData): LoadedData {
  return {
    all,
    paths: [path],
    protocolName: "lid-ds",
    description:
      "LID-DS protocol (Grimmer et al. 2019/2021): train on the training recordings, set the threshold on the " +
      "validation recordings, test on the test recordings; a recording is one unit (all its threads).",
    splits: bySplit(all, ["training", "validation", "test"]),
    ...protocolData(flags, make),
  };
}

/** The generic protocol: --train, --normal and typed --attack groups. */
async function loadGeneric(flags: EvalFlags, plan: EvalPlan, load: TraceLoader): Promise<LoadedData> {
  const train = flags.train === undefined ? [] : await load(flags.train);
  const normal = flags.normal === undefined ? [] : await load(flags.normal);
  const attacks: { type: string; traces: Trace[] }[] = [];
  for (const a of (flags.attack ?? []).map(parseAttackArg)) {
    const traces = await load([a.path]);
    for (const t of traces) {
      t.source.label = "attack";
      t.source.attackType = a.type;
    }
    attacks.push({ type: a.type, traces });
  }
  const attackTraces = attacks.flatMap((a) => a.traces);
  const options = { dedupe: flags.dedupe === true };
  return {
    all: [...train, ...normal, ...attackTraces],
    paths: [...(flags.train ?? []), ...(flags.normal ?? []), ...(flags.attack ?? [])],
    protocolName: "generic",
    description: "Train on --train traces; test on --normal (normal) and --attack traces.",
    splits: [summarise("train", train), summarise("normal", normal), summarise("attack", attackTraces)],
    ...protocolData(flags, () => genericExperiment(train, normal, attacks, flags.seed, plan.share, options)),
  };
}

/** The supervised KS classifier's k-fold run: folds grouped by attack session, random folds beside (leaky). */
function runKfold(k: number, flags: EvalFlags, loaded: LoadedData, vocab: Vocabulary, rules: string[]): EvalRun {
  rules.push(
    "Each trace is classified by a classifier trained without it (k-fold); the seed fixes the folds.",
    "Folds are grouped by attack session: every trace of one attack instance " +
      "(ADFA-LD's Attack_Data_Master/<Type>_<n>) is in one fold, so no fold is tested on a session it trained on. Random per-trace folds, where one session's " +
      "traces sit in both training and test folds, are shown beside for comparison only, labelled leaky.",
  );
  const labelled = loaded.all.filter(
    (t) => t.source.label === "normal" || t.source.label === "attack" || t.source.split === "training",
  );
  const r = runKsKfoldComparison(unitsOfTraces(labelled, "from-source"), {
    k,
    seed: flags.seed,
    lookup: categoryLookup(vocab),
    symbols: CATEGORY_COUNT,
  });
  const grouped = r.kfold.grouping === "attack-session";
  return {
    results: r.models,
    kfold: r.kfold,
    rules,
    protocolName: "ks-kfold",
    description:
      `Supervised KS bigram classifier (Bushouse): stratified ${k}-fold cross-validation over every labelled trace ` +
      (grouped
        ? `(normal and attack), folds grouped by attack session (${r.kfold.attackGroups} sessions); `
        : "(normal and attack), folds drawn per trace (no attack session holds two traces); ") +
      "each fold's classifier never sees its own fold." +
      (grouped ? " Beside it, random per-trace folds: leaky, for comparison only." : ""),
  };
}

/** The rules a variant adds: what it changed, and that its figures are not the strict protocol's. */
function variantRules(loaded: LoadedData): string[] {
  const rules: string[] = [];
  if (loaded.moved !== undefined) {
    rules.push(
      `LID-DS split variant: the first ${loaded.moved.count} validation traces by file name (${loaded.moved.first} ` +
        `to ${loaded.moved.last}) were trained on and are not tested. NOT the strict ADFA-LD protocol: do not ` +
        "compare these figures with results under the strict protocol.",
    );
  }
  if (loaded.dedupe !== undefined) {
    rules.push(
      `Dedupe variant: ${loaded.dedupe.removed} test traces identical to a training trace (${loaded.dedupe.normal} ` +
        `normal, ${loaded.dedupe.attack} attack) were removed before the calibration share was drawn; compare with ` +
        "the strict protocol to see how much of a figure is memorisation.",
    );
  }
  return rules;
}

/** Runs the models (or the supervised k-fold classifier) on the loaded protocol; `title` heads the progress bar. */
export function runModels(
  flags: EvalFlags,
  plan: EvalPlan,
  loaded: LoadedData,
  vocab: Vocabulary,
  bars: boolean,
  title = "evaluating",
): EvalRun {
  const rules = [
    "Every model runs with the same defaults on every dataset; no hyperparameter was chosen by looking at attack labels.",
  ];
  if (flags.kfold !== undefined) return runKfold(flags.kfold, flags, loaded, vocab, rules);
  rules.push(
    "Thresholds and ensemble normalisation come from normal data only: " +
      (loaded.protocolName === "lid-ds"
        ? "the validation recordings."
        : `a seeded ${Math.round(plan.share * 100)}% of the normal test traces, which are then left out of every figure taken at the threshold (ROC and AUC, which need no threshold, use all normal test traces).`),
    "ROC/AUC and operating points are computed on exact score counts; ties are handled exactly.",
    ...variantRules(loaded),
  );
  const runBar = progress(title, plan.models.length * 3, bars);
  let step = 0;
  const results = runExperiment(loaded.data, {
    models: plan.models,
    ...(flags.score !== undefined ? { score: flags.score as TraceScoreName } : {}),
    threshold: plan.threshold,
    seed: flags.seed,
    ...(plan.ensemble !== undefined ? { ensemble: plan.ensemble } : {}),
    scoring: { frame: flags.frame ?? 20 },
    onPhase: (model, phase) => runBar.update(step++, undefined, `${model} ${phase}`),
  });
  runBar.stop();
  return { results, kfold: undefined, rules, protocolName: loaded.protocolName, description: loaded.description };
}

/** The protocol's variants as the result names them ("lidds-500+dedupe"), and what they changed. */
function variantFields(
  loaded: LoadedData,
): Pick<EvalProtocol, "strict" | "variant" | "trainingFromValidation" | "dedupe"> {
  const names = [
    ...(loaded.moved !== undefined ? [`lidds-${loaded.moved.count}`] : []),
    ...(loaded.dedupe !== undefined ? ["dedupe"] : []),
  ];
  return {
    strict: names.length === 0,
    ...(names.length > 0 ? { variant: names.join("+") } : {}),
    ...(loaded.moved !== undefined ? { trainingFromValidation: loaded.moved } : {}),
    ...(loaded.dedupe !== undefined ? { dedupe: loaded.dedupe } : {}),
  };
}

/** The result document (times filled in by the caller). */
export function evalResult(
  flags: EvalFlags,
  plan: EvalPlan,
  loaded: LoadedData,
  run: EvalRun,
  vocab: Vocabulary,
): EvalResult {
  const attackTypes = new Map<string, number>();
  for (const t of loaded.all) {
    if (t.source.label !== "attack") continue;
    const type = t.source.attackType ?? "attack";
    attackTypes.set(type, (attackTypes.get(type) ?? 0) + 1);
  }
  const { threshold, share } = plan;
  const calibration =
    run.protocolName === "lid-ds"
      ? "validation recordings"
      : run.protocolName === "ks-kfold"
        ? "classifier decision (score > 0)"
        : `held-out ${share} of normal test traces`;
  return {
    schema: EVAL_SCHEMA,
    homeostat: VERSION,
    startedAt: "",
    protocol: {
      name: run.protocolName,
      ...variantFields(loaded),
      description: run.description,
      rules: run.rules,
      seed: flags.seed,
      threshold: {
        method: threshold.method,
        ...(threshold.far !== undefined ? { far: threshold.far } : {}),
        calibration,
      },
    },
    dataset: {
      paths: loaded.paths,
      splits: loaded.splits,
      attackTypes: [...attackTypes.entries()].sort().map(([type, traces]) => ({ type, traces })),
      syscalls: vocab.size,
    },
    models: run.results,
    ...(run.kfold !== undefined ? { kfold: run.kfold } : {}),
    totalSeconds: 0,
    loadSeconds: 0,
  };
}
