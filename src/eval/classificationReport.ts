// A classification report of binary predictions against binary labels: n, TP, FN, FP, TN, precision and recall,
// laid out like the table of Bushouse, "Characterization of System Calls" (Sandia Center for Cyber Defenders),
// plus F1, accuracy and the false-alarm rate. Undefined rates are NaN, as in confusion.ts.
//
// n is always computed as TP + FN + FP + TN, never taken as given: the paper's own table prints n = 574 over cells
// that sum to 576.

import type { Confusion, ConfusionRates } from "./confusion.js";
import { confusionOfPredictions, confusionRates } from "./confusion.js";

export interface ClassificationReport extends Confusion, ConfusionRates {
  n: number;
}

/** The report of a confusion matrix. */
export function reportOfConfusion(c: Confusion): ClassificationReport {
  return { n: c.tp + c.fn + c.fp + c.tn, ...c, ...confusionRates(c) };
}

/** The report of labels (1 = attack, 0 = normal) against predictions (1 = alarm, 0 = none). */
export function classificationReport(truth: ArrayLike<number>, predicted: ArrayLike<number>): ClassificationReport {
  return reportOfConfusion(confusionOfPredictions(truth, predicted));
}

function rate(x: number, digits: number): string {
  return Number.isNaN(x) ? "undefined" : x.toFixed(digits);
}

/** The report as a small text table (no trailing newline); rates with `digits` decimals (default 3). */
export function formatClassificationReport(r: ClassificationReport, digits = 3): string {
  const cells = [`${r.tp} TP`, `${r.fn} FN`, `${r.fp} FP`, `${r.tn} TN`];
  const w = Math.max(8, ...cells.map((c) => c.length)) + 2;
  const pad = (s: string) => s.padEnd(w);
  const head = `n = ${r.n}`;
  const lw = Math.max(head.length, "Actual positive".length) + 2;
  return [
    `${head.padEnd(lw)}Predicted`,
    `${"".padEnd(lw)}${pad("Positive")}Negative`,
    `${"Actual positive".padEnd(lw)}${pad(cells[0]!)}${cells[1]}`,
    `${"Actual negative".padEnd(lw)}${pad(cells[2]!)}${cells[3]}`,
    "",
    `Precision ${rate(r.precision, digits)}`,
    `Recall    ${rate(r.recall, digits)}`,
    `F1        ${rate(r.f1, digits)}`,
    `Accuracy  ${rate(r.accuracy, digits)}`,
  ].join("\n");
}
