// What input enumeration hands out (an entry: a display path, layout parts and a byte stream) and what it is told
// (limits, where to report skipped paths), shared by the folder walk (inputs.ts) and the archive readers
// (inputArchives.ts).

import type { InputBudget, InputLimits } from "./inputLimits.js";
import type { WholeFile } from "./regularFile.js";

export interface InputEntry {
  /** Display path: `file`, or `archive.zip:member/path` (nested: `a.tar:b.zip:c.sc`). */
  path: string;
  /** Path components from the root the user named (folders, archive members), for dataset layout rules. */
  parts: string[];
  /** Size in bytes when known beforehand. */
  size?: number;
  /** Sidecar JSON text (`<stem>.json` beside the entry), when there is one. */
  sidecar?: { path: string; text: string };
  /** A `runs.csv` in the entry's folder (LID-DS 2019 scenarios label their recordings there). */
  runsCsv?: { path: string; text: string };
  /** Whether the user named this file directly (then it is read whatever its name). */
  explicit: boolean;
  /** The entry's bytes. Must be consumed (or abandoned) before the next entry is requested. */
  open(): AsyncIterable<Uint8Array>;
  /**
   * A small regular file's bytes read whole at once, or undefined when it is too large (then `open` streams it):
   * the fast path for folders of thousands of short traces, free of per-chunk promises.
   */
  readWhole?(): WholeFile | undefined;
}

export interface SkippedInput {
  path: string;
  reason: string;
}

export interface InputOptions {
  limits?: Partial<InputLimits>;
  /** Called for each path deliberately not read, with the reason. */
  onSkip?: (skipped: SkippedInput) => void;
}

/** One enumeration's limits, running budget and callbacks, passed down the walk. */
export interface InputContext {
  limits: InputLimits;
  budget: InputBudget;
  options: InputOptions;
}

/** Largest sidecar (`.json`, `runs.csv` rows aside) read into memory. */
export const SIDECAR_MAX = 1024 * 1024;
