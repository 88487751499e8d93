// How the CLI reports failure: one line on stderr, exit code 2 for usage and input errors, no stack trace unless
// --debug. Exit code 1 is reserved for "anomalies found" where that is the command's question.

import { isHomeostatError } from "../errors.js";

export const EXIT_OK = 0;
export const EXIT_ANOMALY = 1;
export const EXIT_USAGE = 2;
export const EXIT_INTERNAL = 70;

export function reportError(err: unknown, debug: boolean): number {
  if (isHomeostatError(err)) {
    process.stderr.write(`homeostat: error [${err.code}]: ${err.oneLine()}\n`);
    if (debug && err.stack) process.stderr.write(`${err.stack}\n`);
    return EXIT_USAGE;
  }
  const e = err as Error;
  process.stderr.write(`homeostat: internal error: ${e?.message ?? String(err)}\n`);
  if (debug && e?.stack) process.stderr.write(`${e.stack}\n`);
  else process.stderr.write("homeostat: run again with --debug for a stack trace, and please report it\n");
  return EXIT_INTERNAL;
}
