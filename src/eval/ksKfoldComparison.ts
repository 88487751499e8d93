// The supervised KS protocol as `eval --kfold` reports it: the main figure from folds grouped by attack session,
// and beside it the same classifier on random per-trace folds, labelled as leaky. The gap between the two is how
// much of a random-fold figure comes from testing on sessions already trained on (ADFA-LD's attack folders hold
// about a dozen near-identical traces each). When no attack session holds more than one unit (LID-DS recordings,
// generic inputs), the two splits mean the same thing: only the per-trace folds are run.

import type { KfoldResult, ModelResult } from "./evalResult.js";
import type { EvalUnit } from "./experiment.js";
import { type KsKfoldOptions, runKsKfold } from "./ksKfold.js";

/** The name of the random-fold model beside the grouped one. */
export const LEAKY_MODEL_NAME = "ksbigram (random folds, leaky)";

/** True when some attack session holds two or more units: grouping then changes the folds. */
export function hasSharedSessions(units: readonly EvalUnit[]): boolean {
  const seen = new Set<string>();
  for (const u of units) {
    if (!u.attack || u.attackInstance === undefined) continue;
    if (seen.has(u.attackInstance)) return true;
    seen.add(u.attackInstance);
  }
  return false;
}

/** The k-fold figures (grouped first when sessions are known), and the models' results in the same order. */
export function runKsKfoldComparison(
  units: readonly EvalUnit[],
  options: Omit<KsKfoldOptions, "grouping" | "name">,
): { kfold: KfoldResult; models: ModelResult[] } {
  if (!hasSharedSessions(units)) {
    const r = runKsKfold(units, { ...options, grouping: "trace" });
    const kfold = { k: options.k, grouping: r.grouping, attackGroups: r.attackGroups, rows: r.rows, total: r.total };
    return { kfold, models: [r.model] };
  }
  const grouped = runKsKfold(units, { ...options, grouping: "attack-session" });
  const random = runKsKfold(units, { ...options, grouping: "trace", name: LEAKY_MODEL_NAME });
  return {
    kfold: {
      k: options.k,
      grouping: grouped.grouping,
      attackGroups: grouped.attackGroups,
      rows: grouped.rows,
      total: grouped.total,
      random: {
        grouping: random.grouping,
        attackGroups: random.attackGroups,
        rows: random.rows,
        total: random.total,
        leaky: true,
        auc: random.model.auc,
        model: random.model.name,
      },
    },
    models: [grouped.model, random.model],
  };
}
