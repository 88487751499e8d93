// t-stide, stide with a frequency threshold (Warrender, Forrest & Pearlmutter 1999, "Detecting Intrusions Using
// System Calls: Alternative Data Models"): a window never seen in training is a mismatch, and so is a window seen
// so rarely that its relative frequency, count / (all training windows), is below `threshold` (0.001% in the paper).
//
// The threshold is relative to the total number of training windows at scoring time: training more traces (or
// merging a profile) raises the total, so a window that was common enough can become rare and the reverse. It is
// applied as a whole-number minimum count computed once per change of the database, so the per-call test is one
// integer compare, and that count is exactly the smallest c with c / total >= threshold.

import type { DetectorFactory, DetectorOptions } from "./detector.js";
import { numberOption, realRange, resolveOptions } from "./detectorOptions.js";
import { STIDE_OPTIONS, Stide } from "./stide.js";
import type { WindowTableTuning } from "./windowTable.js";

export const TSTIDE_OPTIONS = {
  k: STIDE_OPTIONS.k,
  threshold: {
    default: 0.00001,
    help: "windows whose share of all training windows is below this are anomalous too (0..1; 0.00001 = 0.001%)",
    range: realRange(0, 1),
  },
} as const;

/** The smallest whole count c with c / total >= threshold (windows counted fewer times are rare). */
export function rareCountLimit(threshold: number, total: number): number {
  if (total <= 0 || threshold <= 0) return 0;
  let c = Math.ceil(threshold * total);
  while (c > 0 && (c - 1) / total >= threshold) c--;
  while (c / total < threshold) c++;
  return c;
}

export class TStide extends Stide {
  override readonly kind: string = "tstide";
  readonly threshold: number;

  constructor(options: DetectorOptions, tuning?: WindowTableTuning) {
    super(options, true, tuning);
    this.threshold = numberOption("tstide", options, "threshold", TSTIDE_OPTIONS.threshold.range);
  }

  protected override kindName(): string {
    return "tstide";
  }

  protected override refresh(): void {
    this.minCount = rareCountLimit(this.threshold, this.table.total);
  }

  /** Stored windows seen fewer times than this are anomalous (0 before training). */
  get rareBelow(): number {
    return this.minCount;
  }
}

export const tStideFactory: DetectorFactory<TStide> = {
  kind: "tstide",
  description:
    "t-stide (Warrender et al. 1999): stide that also flags windows rarer than a share of all training windows",
  optionHelp: TSTIDE_OPTIONS,
  create(options) {
    return new TStide(resolveOptions("tstide", TSTIDE_OPTIONS, options));
  },
  deserialize(options, bytes) {
    return new TStide(resolveOptions("tstide", TSTIDE_OPTIONS, options)).load(bytes);
  },
};
