// Where tests find the repository and the shared datasets. The datasets live outside the repository
// (../shared/datasets beside the clone); a user's clone has none, so tests that need them skip with a reason.

import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const DATASETS_DIR = path.resolve(REPO_ROOT, "../shared/datasets");
export const ADFA_DIR = path.join(DATASETS_DIR, "adfa-ld");
export const LIDDS_DIR = path.join(DATASETS_DIR, "lid-ds");
export const BIN = path.join(REPO_ROOT, "bin/homeostat");

/** undefined when the folder exists, else the reason to print when skipping. */
export function missing(dir: string): string | undefined {
  if (existsSync(dir)) return undefined;
  return `skipped: ${dir} is absent (datasets live in ../shared/datasets beside the clone; see README)`;
}

/** Prints why a dataset-dependent test is skipped, and returns whether to skip. */
export function skipWithout(dir: string): boolean {
  const reason = missing(dir);
  if (reason !== undefined) console.log(reason);
  return reason !== undefined;
}
