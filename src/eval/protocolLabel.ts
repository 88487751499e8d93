// How an eval result names its protocol to readers: the terminal table's title and the report's header use these
// words, so that a figure obtained under a variant (the LID-DS split of ADFA-LD, dedupe) or with leaky random folds
// can never be read as a strict one. Plain strings; the callers escape and print them.

import type { EvalProtocol, KfoldResult } from "./evalResult.js";

/** The label of random folds wherever they are shown beside grouped ones. */
export const LEAKY_FOLDS =
  "random folds, LEAKY: traces of one attack session sit in both the training and the test folds";

/** The protocol's name with its variants: "adfa-ld", "adfa-ld (lidds-500+dedupe)". */
export function protocolLabel(p: EvalProtocol): string {
  return p.variant !== undefined ? `${p.name} (${p.variant})` : p.name;
}

/** Whether the figures are the strict protocol's, in a few words. */
export function strictnessLabel(p: EvalProtocol): string {
  if (p.name === "ks-kfold") return "supervised cross-validation, not a train/test split";
  return p.strict ? "strict (the data set's own split)" : "NOT the strict protocol";
}

/** The title above the results table: the protocol, and whether it is the strict one. */
export function protocolTitle(p: EvalProtocol): string {
  return `protocol ${protocolLabel(p)}: ${strictnessLabel(p)}`;
}

/** Sentences on what a variant changed, for the terminal and the report header (none for a strict protocol). */
export function protocolCaveats(p: EvalProtocol): string[] {
  const out: string[] = [];
  const moved = p.trainingFromValidation;
  if (moved !== undefined) {
    out.push(
      `${moved.count} validation traces (${moved.first} to ${moved.last} by file name) were moved into training ` +
        "and out of the test set, as the LID-DS library's ADFA-LD loader does; these figures are not comparable " +
        "with strict ADFA-LD results.",
    );
  }
  if (p.dedupe !== undefined) {
    out.push(
      `${p.dedupe.removed} test traces identical to a training trace were removed (${p.dedupe.normal} normal, ` +
        `${p.dedupe.attack} attack).`,
    );
  }
  return out;
}

/** How the k-fold table's folds were drawn, in one line. */
export function foldGroupingLabel(kfold: Pick<KfoldResult, "grouping" | "attackGroups" | "k">): string {
  return kfold.grouping === "attack-session"
    ? `${kfold.k} folds grouped by attack session (${kfold.attackGroups} sessions, each wholly in one fold; ` +
        "normal traces split per trace)"
    : `${kfold.k} stratified folds drawn trace by trace (no attack sessions known)`;
}
