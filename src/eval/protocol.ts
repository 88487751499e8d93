// Evaluation protocols: how loaded traces become an experiment's training traces, calibration units and test
// units. A unit is one source (a trace file, or a recording with all its threads), as src/eval/experiment.ts
// explains.
//
// - ADFA-LD (Creech & Hu 2013): train on Training_Data_Master only; test on Validation_Data_Master (normal) and
//   Attack_Data_Master (attacks, typed by folder).
// - LID-DS (Grimmer et al. 2019, 2021): train on the training recordings, calibrate the threshold on the validation
//   recordings (normal, as LID-DS sets its threshold to the largest validation score), test on the test recordings,
//   normal and normal_and_attack, with each recording's attack time from its metadata.
// - Generic: --train, --normal and --attack [TYPE=]PATH groups.
// Where the data has no separate normal calibration set (ADFA-LD, generic), a seeded share of the normal test
// units calibrates the threshold; those units are left out of every figure taken at that threshold.
// The LID-DS split variants of ADFA-LD (ProtocolOptions.trainFromValidation, liddsSplit.ts) first move the first N
// validation normals by file name into training and out of the test set. The dedupe variant (ProtocolOptions.dedupe)
// then removes the test units that are copies of training traces (trainingCopies.ts; with a lidds variant, the moved
// traces count as training), before any calibration share is drawn, and reports what it removed.

import { HomeostatError } from "../errors.js";
import type { Trace } from "../ingest/traceCollector.js";
import { SeededRandom } from "../models/random.js";
import type { EvalUnit, ExperimentData } from "./experiment.js";
import { takeFirstByFileName } from "./liddsSplit.js";
import { removeTrainingCopies } from "./trainingCopies.js";

/** Default share of normal test units held out to calibrate thresholds when there is no validation split. */
export const DEFAULT_CALIBRATION_SHARE = 0.2;

/**
 * The one-class detectors `eval` runs by default, each with its defaults. The HMM is not among them (it stays
 * available by name): it is the weakest model on every data set measured and trains one to two orders of magnitude
 * slower than all the others together, and the default ensemble is the same without it on the development data
 * (docs/detectors.md, "Ensembles in eval"). Sequence covering is not added: on the same data it lowers the ensemble.
 */
export const DEFAULT_EVAL_MODELS = ["stide", "tstide", "lookahead", "ngram"] as const;

export interface ProtocolOptions {
  /** Remove test units identical to a training trace (the dedupe variant). */
  dedupe?: boolean;
  /** ADFA-LD only: train also on the first N validation normals by file name (the lidds-N variants). */
  trainFromValidation?: number;
}

/** A protocol's experiment, and what its variants moved into training or removed (when asked for). */
export interface ProtocolData extends ExperimentData {
  removedCopies?: EvalUnit[];
  /** The validation units a lidds-N variant trained on, in file-name order. */
  movedToTraining?: EvalUnit[];
}

/** The test units to keep, and those removed as training copies when the variant asks for it. */
function dedupeTest(
  train: readonly Uint16Array[],
  test: EvalUnit[],
  options: ProtocolOptions,
): { test: EvalUnit[]; removed?: EvalUnit[] } {
  if (options.dedupe !== true) return { test };
  const { kept, removed } = removeTrainingCopies(train, test);
  return { test: kept, removed };
}

/** One unit per source, its streams in order of appearance. */
export function unitsOfTraces(
  traces: readonly Trace[],
  label: { attack: boolean; attackType?: string } | "from-source",
): EvalUnit[] {
  const bySource = new Map<string, EvalUnit>();
  for (const t of traces) {
    const key = t.source.path;
    let unit = bySource.get(key);
    if (unit === undefined) {
      const attack = label === "from-source" ? t.source.label === "attack" : label.attack;
      const type = label === "from-source" ? t.source.attackType : label.attackType;
      unit = {
        name: key,
        traces: [],
        attack,
        ...(attack ? { attackType: type ?? "attack" } : {}),
        ...(attack && t.source.attackInstance !== undefined ? { attackInstance: t.source.attackInstance } : {}),
        ...(attack && t.source.attackTime !== undefined ? { attackTime: t.source.attackTime } : {}),
      };
      bySource.set(key, unit);
    }
    unit.traces.push(t.times !== undefined ? { calls: t.calls, times: t.times } : { calls: t.calls });
  }
  return [...bySource.values()];
}

/** A seeded share (at least one) of the normal units, for calibration. */
export function holdOutCalibration(units: readonly EvalUnit[], share: number, seed: number): EvalUnit[] {
  if (!(share > 0 && share < 1)) {
    throw new HomeostatError("E_USAGE", `the calibration share must be in (0, 1), got ${share}`);
  }
  const normal = units.filter((u) => !u.attack);
  if (normal.length < 2) {
    throw new HomeostatError("E_USAGE", `need at least 2 normal test traces to hold some out for calibration`);
  }
  const rng = new SeededRandom(seed);
  const order = normal.slice();
  for (let i = order.length - 1; i > 0; i--) {
    const j = rng.nextInt(i + 1);
    const tmp = order[i]!;
    order[i] = order[j]!;
    order[j] = tmp;
  }
  const n = Math.min(normal.length - 1, Math.max(1, Math.round(share * normal.length)));
  return order.slice(0, n);
}

function splitOf(t: Trace): string {
  return t.source.split ?? "";
}

/** ADFA-LD's strict protocol (or a lidds-N variant, by `options`) from traces loaded from its folder or archive. */
export function adfaExperiment(
  traces: readonly Trace[],
  seed: number,
  share = DEFAULT_CALIBRATION_SHARE,
  options: ProtocolOptions = {},
): ProtocolData {
  const train = traces.filter((t) => splitOf(t) === "training").map((t) => t.calls);
  let normal = unitsOfTraces(
    traces.filter((t) => splitOf(t) === "validation"),
    { attack: false },
  );
  const attack = unitsOfTraces(
    traces.filter((t) => splitOf(t) === "attack"),
    "from-source",
  );
  if (train.length === 0 || normal.length === 0 || attack.length === 0) {
    throw new HomeostatError(
      "E_FORMAT",
      `not an ADFA-LD tree: found ${train.length} training, ${normal.length} validation and ${attack.length} attack ` +
        "traces (expected Training_Data_Master, Validation_Data_Master and Attack_Data_Master)",
    );
  }
  let moved: EvalUnit[] | undefined;
  if (options.trainFromValidation !== undefined) {
    ({ moved, kept: normal } = takeFirstByFileName(normal, options.trainFromValidation));
    for (const u of moved) for (const t of u.traces) train.push(t.calls);
  }
  const { test, removed } = dedupeTest(train, [...normal, ...attack], options);
  return {
    train,
    calibration: holdOutCalibration(test, share, seed),
    test,
    ...(removed !== undefined ? { removedCopies: removed } : {}),
    ...(moved !== undefined ? { movedToTraining: moved } : {}),
  };
}

/** LID-DS's scenario protocol: training / validation / test recordings. */
export function liddsExperiment(traces: readonly Trace[], options: ProtocolOptions = {}): ProtocolData {
  const train = traces.filter((t) => splitOf(t) === "training").map((t) => t.calls);
  const calibration = unitsOfTraces(
    traces.filter((t) => splitOf(t) === "validation"),
    "from-source",
  ).filter((u) => !u.attack);
  const all = unitsOfTraces(
    traces.filter((t) => splitOf(t) === "test"),
    "from-source",
  );
  const { test, removed } = dedupeTest(train, all, options);
  if (train.length === 0 || calibration.length === 0 || test.length === 0) {
    throw new HomeostatError(
      "E_FORMAT",
      `not a LID-DS scenario: found ${train.length} training traces, ${calibration.length} normal validation ` +
        `recordings and ${test.length} test recordings (expected training/, validation/ and test/ folders)`,
    );
  }
  return { train, calibration, test, ...(removed !== undefined ? { removedCopies: removed } : {}) };
}

/** The generic protocol: explicit training traces, normal test traces and typed attack traces. */
export function genericExperiment(
  train: readonly Trace[],
  normal: readonly Trace[],
  attacks: readonly { type: string; traces: readonly Trace[] }[],
  seed: number,
  share = DEFAULT_CALIBRATION_SHARE,
  options: ProtocolOptions = {},
): ProtocolData {
  const calls = train.map((t) => t.calls);
  const { test, removed } = dedupeTest(
    calls,
    [
      ...unitsOfTraces(normal, { attack: false }),
      ...attacks.flatMap((a) => unitsOfTraces(a.traces, { attack: true, attackType: a.type })),
    ],
    options,
  );
  return {
    train: calls,
    calibration: holdOutCalibration(test, share, seed),
    test,
    ...(removed !== undefined ? { removedCopies: removed } : {}),
  };
}
