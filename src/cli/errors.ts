// How the CLI reports failure: one line on stderr, no stack trace unless --debug, and an exit code by the class of
// the failure, so that a script can tell "fix the command or its input" from "fix this machine" from "a bug":
//   0 success; 1 anomalies found (where that is the command's question);
//   2 usage or input: the command line, or a file or data set it names, is wrong;
//   3 environment: a tool, a permission, space or a kernel feature this machine lacks, or a resource another process
//     holds;
//   70 internal: anything that is not a HomeostatError (EX_SOFTWARE of sysexits.h), with a stack under --debug.
// EXIT_CLASS below is the one table from error code to class; `homeostat --help` and README.md print it.

import { type ErrorCode, type HomeostatError, isHomeostatError } from "../errors.js";

export const EXIT_OK = 0;
export const EXIT_ANOMALY = 1;
export const EXIT_USAGE = 2;
export const EXIT_ENVIRONMENT = 3;
export const EXIT_INTERNAL = 70;

/**
 * The class of each failure: "input" (exit 2), "environment" (exit 3), or "file" for E_IO, which is input when the
 * error names a file (one the user gave could not be read or written: name another) and environment otherwise (a
 * pipe, socket or child process failed).
 */
export type FailureClass = "input" | "environment" | "file";

export const EXIT_CLASS: Readonly<Record<ErrorCode, FailureClass>> = {
  E_USAGE: "input",
  E_PARSE: "input",
  E_FORMAT: "input",
  E_NOT_FOUND: "input",
  E_LIMIT: "input",
  E_ARCHIVE: "input",
  E_CHECKSUM: "input",
  E_VERSION: "input",
  E_VOCAB: "input",
  E_MODEL: "input",
  E_IO: "file",
  E_DEPENDENCY: "environment",
  E_PERMISSION: "environment",
  E_NO_SPACE: "environment",
  E_LOCKED: "environment",
};

/** The exit code of a failure: by EXIT_CLASS for a HomeostatError (70 for a code outside it), 70 for anything else. */
export function exitCodeOf(err: unknown): number {
  if (!isHomeostatError(err)) return EXIT_INTERNAL;
  const cls: FailureClass | undefined = Object.hasOwn(EXIT_CLASS, err.code) ? EXIT_CLASS[err.code] : undefined;
  switch (cls) {
    case "input":
      return EXIT_USAGE;
    case "environment":
      return EXIT_ENVIRONMENT;
    case "file":
      return (err as HomeostatError).location.file !== undefined ? EXIT_USAGE : EXIT_ENVIRONMENT;
    default:
      return EXIT_INTERNAL;
  }
}

/** Words joined by ", ", wrapped at `width` columns under `indent`. */
function wrapCodes(words: readonly string[], indent: string, width = 80): string[] {
  const lines: string[] = [];
  let line = "";
  for (const [i, w] of words.entries()) {
    const piece = i < words.length - 1 ? `${w},` : w;
    if (line !== "" && indent.length + line.length + 1 + piece.length > width) {
      lines.push(`${indent}${line}`);
      line = piece;
    } else line = line === "" ? piece : `${line} ${piece}`;
  }
  if (line !== "") lines.push(`${indent}${line}`);
  return lines;
}

/** The exit codes for `homeostat --help`, from the same table. */
export function exitCodesHelp(): string {
  const codes = (cls: FailureClass): string[] =>
    (Object.keys(EXIT_CLASS) as ErrorCode[]).filter((c) => EXIT_CLASS[c] === cls);
  const indent = "      ";
  return [
    "",
    "Exit codes:",
    "  0   success",
    "  1   anomalies found, where that is the question (detect, score --threshold,",
    "      watch; demo: the exploit missed or a false alarm)",
    "  2   usage or input: the command line is wrong, or a file or data set it names:",
    ...wrapCodes([...codes("input"), "E_IO naming a file"], indent),
    "  3   environment: a missing tool or kernel feature, no permission, a full",
    "      file system, or a resource another process holds:",
    ...wrapCodes([...codes("environment"), "E_IO of a pipe, socket or child process"], indent),
    "  70  internal error: a bug (--debug shows the stack trace; please report it)",
    "",
  ].join("\n");
}

export function reportError(err: unknown, debug: boolean): number {
  if (isHomeostatError(err)) {
    process.stderr.write(`homeostat: error [${err.code}]: ${err.oneLine()}\n`);
    if (debug && err.stack) process.stderr.write(`${err.stack}\n`);
    return exitCodeOf(err);
  }
  const e = err as Error;
  process.stderr.write(`homeostat: internal error: ${e?.message ?? String(err)}\n`);
  if (debug && e?.stack) process.stderr.write(`${e.stack}\n`);
  else process.stderr.write("homeostat: run again with --debug for a stack trace, and please report it\n");
  return EXIT_INTERNAL;
}
