// The terminal output of `homeostat eval`: the protocol (with a title that says whether it is the strict one),
// the data, the results table, and for the supervised k-fold protocol the per-fold table of the grouped folds with
// the random (leaky) folds' totals beside it. Everything comes from the EvalResult, as the JSON and the report do.

import type { EvalResult, KfoldResult, KfoldRow } from "../../eval/evalResult.js";
import { foldGroupingLabel, LEAKY_FOLDS, protocolCaveats, protocolTitle } from "../../eval/protocolLabel.js";
import { num, paint, table } from "../terminal.js";

const say = (s: string): void => {
  process.stdout.write(s);
};

const pct = (x: number): string => (Number.isNaN(x) ? "-" : `${(x * 100).toFixed(1)}%`);

/** Where the figures were written, for the last line. */
export interface PrintTargets {
  json?: string;
  report?: string;
}

/** The description, what a variant changed, and the data read. */
function printProtocol(result: EvalResult): void {
  const p = result.protocol;
  say(`${paint(p.description, "bold")}\n`);
  const dedupe = p.dedupe;
  if (dedupe !== undefined) {
    say(
      `dedupe variant: removed ${num(dedupe.removed)} test traces identical to a training trace ` +
        `(${num(dedupe.normal)} normal, ${num(dedupe.attack)} attack)\n`,
    );
  }
  const moved = p.trainingFromValidation;
  if (moved !== undefined) {
    say(
      `lidds-${moved.count} variant: trained also on ${num(moved.count)} validation traces ` +
        `(${moved.first} to ${moved.last} by file name), which are not tested\n`,
    );
  }
  const t = p.threshold;
  const threshold =
    p.name === "ks-kfold"
      ? "the classifier's own decision (score > 0)"
      : `${t.method === "max" ? "max" : `far ${t.far}`} on normal data`;
  say(
    `${result.dataset.splits.map((s) => `${s.name} ${num(s.traces)} traces / ${num(s.calls)} calls`).join(", ")}; ` +
      `threshold ${threshold}\n\n`,
  );
}

/** The results table, under a title naming the protocol and whether it is strict. */
function printModels(result: EvalResult): void {
  const p = result.protocol;
  say(`${paint(protocolTitle(p), p.strict ? "bold" : "red")}\n`);
  for (const c of protocolCaveats(p)) say(`  ${c}\n`);
  say(
    `${table(
      ["model", "score", "AUC", "DR@1%", "DR@5%", "DR@10%", "FAR@90%", "precision", "recall", "train s", "score s"],
      result.models.map((r) => [
        r.name,
        r.score,
        Number(r.auc.toFixed(4)),
        pct(r.dr_at_far[0]!.tpr),
        pct(r.dr_at_far[1]!.tpr),
        pct(r.dr_at_far[2]!.tpr),
        pct(r.far_at_dr90.fpr),
        pct(r.rates.precision),
        pct(r.rates.recall),
        Number(r.cost.trainSeconds.toFixed(2)),
        Number(r.cost.scoreSeconds.toFixed(2)),
      ]),
    )}\n`,
  );
}

function foldCells(label: string, r: KfoldRow): (string | number)[] {
  return [label, r.n, r.tp, r.fn, r.fp, r.tn, pct(r.precision), pct(r.recall), pct(r.accuracy)];
}

/** The grouped folds' table, then the grouped and random totals side by side. */
function printKfold(kfold: KfoldResult, auc: number): void {
  say(`\n${paint(`KS k-fold: ${foldGroupingLabel(kfold)}`, "bold")}\n`);
  const header = ["fold", "n", "TP", "FN", "FP", "TN", "precision", "recall", "accuracy"];
  say(`${table(header, [...kfold.rows.map((r) => foldCells(String(r.fold), r)), foldCells("total", kfold.total)])}\n`);
  const random = kfold.random;
  if (random === undefined) return;
  say(`\n${paint("Grouped folds (the figure to quote) and, beside them, random folds", "bold")}\n`);
  say(
    `${table(
      ["folds", "n", "TP", "FN", "FP", "TN", "precision", "recall", "accuracy", "AUC"],
      [
        [...foldCells("grouped by attack session", kfold.total), Number(auc.toFixed(4))],
        [...foldCells("random per trace (LEAKY)", random.total), Number(random.auc.toFixed(4))],
      ],
    )}\n`,
  );
  say(`  ${LEAKY_FOLDS}; the gap to the grouped figure is what that leak adds.\n`);
}

/** The tables on the terminal. */
export function printEval(result: EvalResult, targets: PrintTargets): void {
  printProtocol(result);
  printModels(result);
  if (result.kfold !== undefined) printKfold(result.kfold, result.models[0]?.auc ?? Number.NaN);
  say(`\n${num(result.totalSeconds, 1)} s in all (loading ${num(result.loadSeconds, 1)} s)`);
  if (targets.json !== undefined) say(`; JSON: ${targets.json}`);
  if (targets.report !== undefined) say(`; report: ${targets.report}`);
  say("\n");
}
