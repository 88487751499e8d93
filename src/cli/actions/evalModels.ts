// The models of `homeostat eval` run on the loaded protocol: every one-class model through the experiment (its
// threshold from normal data only), or the supervised KS classifier's k-fold run with --kfold; with the rules the
// result states about how its figures were obtained.

import type { TraceScoreName } from "../../detect/traceScore.js";
import type { EvalResult, ModelResult } from "../../eval/evalResult.js";
import { runExperiment } from "../../eval/experiment.js";
import { runKsKfoldComparison } from "../../eval/ksKfoldComparison.js";
import { unitsOfTraces } from "../../eval/protocol.js";
import { CATEGORY_COUNT, categoryLookup } from "../../syscalls/categories.js";
import type { Vocabulary } from "../../syscalls/vocabulary.js";
import { progress } from "../terminal.js";
import type { LoadedData } from "./evalData.js";
import type { EvalFlags, EvalPlan } from "./evalPlan.js";

/** The models' results and how they were obtained. */
export interface EvalRun {
  results: ModelResult[];
  kfold: EvalResult["kfold"];
  rules: string[];
  protocolName: string;
  description: string;
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
