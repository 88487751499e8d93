// ADFA-LD split variants as the LID-DS library draws them (Grimmer et al.; github.com/LID-DS/LID-DS,
// dataloader/dataloader_adfa_ld_2.py): its ADFA-LD loader adds the first `val_train_add` validation normals, in
// sorted file-name order, to the training data (500 by default; its stide example uses 2000), and tests on the rest.
// Figures under these variants are NOT those of the strict ADFA-LD protocol (Creech & Hu 2013: train on
// Training_Data_Master only), which stays the default: the detector has seen part of the validation set, whose
// traces repeat one another (docs/dataset-cleaning.md), so normal test traces get easier. They exist so that our
// detectors can be set beside results published with that library.
// Kept from our strict protocol on purpose: every remaining validation normal is a test normal and the calibration
// share is drawn from them (the library keeps the next 200 for its threshold and tests only the 400 after).

import { HomeostatError } from "../errors.js";
import type { TrainingFromValidation } from "./evalResult.js";
import type { EvalUnit } from "./experiment.js";

/** `eval --protocol` values: the strict protocol (default) and the LID-DS-style variants. */
export const SPLIT_PROTOCOLS = ["strict", "lidds-500", "lidds-2000"] as const;
export type SplitProtocol = (typeof SPLIT_PROTOCOLS)[number];

export function isSplitProtocol(name: string): name is SplitProtocol {
  return (SPLIT_PROTOCOLS as readonly string[]).includes(name);
}

/** How many validation normals the protocol moves into training (0 for the strict protocol). */
export function validationMovedToTraining(protocol: SplitProtocol): number {
  return protocol === "strict" ? 0 : Number(protocol.slice("lidds-".length));
}

/** The file name of a unit: its path after the last "/" (or after an archive's ":" when there is no "/"). */
export function fileNameOf(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash >= 0 ? path.slice(slash + 1) : path.slice(path.lastIndexOf(":") + 1);
}

/** Code-unit order, as Python's sort of ASCII file names (the library sorts its paths this way). */
function byFileName(a: EvalUnit, b: EvalUnit): number {
  const fa = fileNameOf(a.name);
  const fb = fileNameOf(b.name);
  if (fa !== fb) return fa < fb ? -1 : 1;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/**
 * The first `count` normal validation units in file-name order (moved into training), and the others in their
 * original order (kept for testing). Throws E_USAGE unless at least two units remain for testing (the calibration
 * hold-out needs two).
 */
export function takeFirstByFileName(
  validation: readonly EvalUnit[],
  count: number,
): { moved: EvalUnit[]; kept: EvalUnit[] } {
  if (!(Number.isInteger(count) && count > 0)) {
    throw new HomeostatError("E_USAGE", `the number of validation traces to train on must be > 0, got ${count}`);
  }
  if (validation.length - count < 2) {
    throw new HomeostatError(
      "E_USAGE",
      `lidds-${count} moves ${count} validation traces into training, but only ${validation.length} were found ` +
        "(at least 2 must remain for testing)",
    );
  }
  const moved = validation.slice().sort(byFileName).slice(0, count);
  const movedSet = new Set(moved);
  return { moved, kept: validation.filter((u) => !movedSet.has(u)) };
}

/** What the result document says about the moved traces. */
export function trainingFromValidation(moved: readonly EvalUnit[]): TrainingFromValidation {
  return {
    count: moved.length,
    order: "file-name",
    first: moved.length > 0 ? fileNameOf(moved[0]!.name) : "",
    last: moved.length > 0 ? fileNameOf(moved[moved.length - 1]!.name) : "",
  };
}

/** The one-sentence description of an ADFA-LD protocol, saying plainly when it is not the strict one. */
export function adfaProtocolDescription(protocol: SplitProtocol): string {
  if (protocol === "strict") {
    return (
      "ADFA-LD strict protocol (Creech & Hu 2013): train on Training_Data_Master only; test on " +
      "Validation_Data_Master (normal) and Attack_Data_Master (attacks)."
    );
  }
  const n = validationMovedToTraining(protocol);
  return (
    `NOT the strict ADFA-LD protocol: LID-DS library split (${protocol}): train on Training_Data_Master plus the ` +
    `first ${n} Validation_Data_Master traces by file name; test on the remaining validation traces (normal) and ` +
    "Attack_Data_Master (attacks)."
  );
}
