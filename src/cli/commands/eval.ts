// `homeostat eval`: reproducible detection experiments. Protocols: ADFA-LD (--dataset adfa-ld; strict by default,
// or the LID-DS library's split with --protocol lidds-500|lidds-2000), LID-DS (--dataset lid-ds), homeostat's
// benchmark of real programs (--dataset scenarios: LID-DS per program, one model per program, macro-averaged), any
// data (--train/--normal/--attack), and the KS classifier's supervised k-fold (--kfold K, folds grouped by attack
// session).
// Prints a compact table; --json FILE (or -) writes every figure (docs/eval-json.md); --report FILE.html writes a
// self-contained page with the plots. Library work lives in src/eval; ../actions/eval.ts (or evalScenarios.ts),
// loaded when the command runs, only wires inputs and outputs.

import type { Command } from "commander";
import { DEFAULT_ENSEMBLE_METHOD, ENSEMBLE_METHODS } from "../../detect/ensemble.js";
import { TRACE_SCORE_NAMES } from "../../detect/traceScore.js";
import { SPLIT_PROTOCOLS } from "../../eval/liddsSplit.js";
import { DEFAULT_CALIBRATION_SHARE, DEFAULT_EVAL_MODELS } from "../../eval/protocol.js";
import type { EvalFlags } from "../actions/eval.js";
import type { CliContext } from "../context.js";
import { addInputOptions, addMaxHeldCallsOption, parseAttackArg } from "../inputOptions.js";
import { FRAME_MAX, intOption, numberOption, SEED_MAX } from "../numberOptions.js";

/** Every input path the flags name. */
function namedPaths(flags: EvalFlags): string[] {
  const attacks = (flags.attack ?? []).map((a) => parseAttackArg(a).path);
  return [
    ...(flags.data !== undefined ? [flags.data] : []),
    ...(flags.train ?? []),
    ...(flags.normal ?? []),
    ...attacks,
  ];
}

/** Folds of --kfold at most (each fold needs traces of every label). */
const KFOLD_MAX = 100_000;

export function registerEval(program: Command, ctx: CliContext): void {
  const cmd = program
    .command("eval")
    .description("evaluate detectors: ROC/AUC, detection vs false alarms, per-attack results, delays, cost")
    .option(
      "--dataset <name>",
      "a dataset layout (with --data): adfa-ld, lid-ds (one scenario), or scenarios (homeostat's benchmark: every program's scenario, one model per program)",
    )
    .option("--data <dir>", "the dataset's folder or archive")
    .option(
      "--protocol <split>",
      `ADFA-LD split: ${SPLIT_PROTOCOLS.join(", ")} (default strict: train on Training_Data_Master only; lidds-N: ` +
        "also train on the first N validation traces by file name, as the LID-DS library does; NOT comparable with strict)",
    )
    .option("--train <path...>", "normal training traces (generic protocol)")
    .option("--normal <path...>", "normal test traces (generic protocol)")
    .option("--attack <[type=]path...>", "attack test traces, optionally grouped by type (generic protocol)")
    .option(
      "-m, --models <specs>",
      `detectors and options, e.g. "stide:k=6,ngram:n=5,hmm:states=40" (default: ${DEFAULT_EVAL_MODELS.join(", ")})`,
    )
    .option("--score <name>", `per-trace score for every model: ${TRACE_SCORE_NAMES.join(", ")} (default: by model)`)
    .option(
      "--seed <n>",
      "seed of every random choice (HMM starts, calibration hold-out, folds)",
      intOption("seed", 0, SEED_MAX),
      1,
    )
    .option(
      "--threshold <rule>",
      'alarm threshold from normal data: "max" or "far:RATE" (default far:0.05; lid-ds and scenarios: max)',
    )
    .option(
      "--calibration-share <share>",
      `share of normal test traces held out to set the threshold when there is no validation split (default ${DEFAULT_CALIBRATION_SHARE})`,
      numberOption("calibration-share", 0, 1, { minExclusive: true, maxExclusive: true }),
    )
    .option(
      "--ensemble <method>",
      `also combine all models: ${ENSEMBLE_METHODS.join(", ")} or none`,
      DEFAULT_ENSEMBLE_METHOD,
    )
    .option(
      "--kfold <k>",
      "supervised protocol: the KS bigram classifier, stratified k-fold over labelled traces, folds grouped by attack session (random folds shown beside, as leaky)",
      intOption("kfold", 2, KFOLD_MAX),
    )
    .option("--frame <calls>", "locality frame length in calls (default 20)", intOption("frame", 1, FRAME_MAX))
    .option("--json <file>", "write every figure as JSON to FILE (- for stdout, then nothing else goes there)")
    .option("--report <file>", "write a self-contained HTML report with plots")
    .option(
      "--dedupe",
      "protocol variant: first remove test traces identical (call for call) to a training trace, and report how many",
    );
  addMaxHeldCallsOption(cmd, "eval holds every trace of its protocol");
  addInputOptions(cmd).action(async (flags: EvalFlags) => {
    // Named devices and FIFOs are refused at once, before the action and its parsers load.
    (await import("../../ingest/inputPaths.js")).checkNamedInputs(namedPaths(flags));
    if (flags.dataset === "scenarios")
      return (await import("../actions/evalScenarios.js")).runEvalScenarios(flags, ctx);
    return (await import("../actions/eval.js")).runEval(flags, ctx);
  });
}
