// The traces of `homeostat eval`'s protocol, read (ADFA-LD, one LID-DS scenario, or the generic --train/--normal/
// --attack groups) under one budget of held calls, with the protocol's experiment made of them: what --protocol
// moved into training and what --dedupe removed. evalScenarios.ts loads each program's scenario through these.

import type { DedupeSummary, SplitSummary, TrainingFromValidation } from "../../eval/evalResult.js";
import type { ExperimentData } from "../../eval/experiment.js";
import { adfaProtocolDescription, trainingFromValidation, validationMovedToTraining } from "../../eval/liddsSplit.js";
import { adfaExperiment, genericExperiment, liddsExperiment, type ProtocolData } from "../../eval/protocol.js";
import { dedupeSummary } from "../../eval/trainingCopies.js";
import { loadTraces } from "../../ingest/loadTraces.js";
import type { Trace } from "../../ingest/traceCollector.js";
import type { Vocabulary } from "../../syscalls/vocabulary.js";
import { DEFAULT_MAX_HELD_CALLS, inputReadOptions, parseAttackArg } from "../inputOptions.js";
import type { EvalFlags, EvalPlan } from "./evalPlan.js";

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

function summarise(name: string, traces: readonly Trace[]): SplitSummary {
  return { name, traces: traces.length, calls: traces.reduce((a, t) => a + t.calls.length, 0) };
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
export async function loadProtocol(flags: EvalFlags, plan: EvalPlan, vocab: Vocabulary): Promise<LoadedData> {
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
