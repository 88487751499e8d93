// The result document of `homeostat eval` (its schema is src/eval/evalResult.ts): the protocol as run, with its
// variants named so that non-strict figures never pass as strict ones, the data set's shape, and the models' figures.

import { type EvalProtocol, type EvalResult, EVAL_SCHEMA } from "../../eval/evalResult.js";
import type { Vocabulary } from "../../syscalls/vocabulary.js";
import { VERSION } from "../version.js";
import type { LoadedData } from "./evalData.js";
import type { EvalRun } from "./evalModels.js";
import type { EvalFlags, EvalPlan } from "./evalPlan.js";

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
