// The options through which each command names a file it writes. main.ts checks them all before any command runs
// (src/ingest/outputFile.ts: a regular file or nothing, in a folder that takes new files), so that a long `train`
// or `eval` does not fail at its end on an output it could never have written; the write itself checks again.
// The same table adds the rule to those commands' help. A test holds it to the commands' registered options.

import type { Command } from "commander";

/** Output options by command path (`profiles export`), as commander's attribute names. */
export const OUTPUT_OPTIONS: Readonly<Record<string, readonly string[]>> = {
  train: ["out"],
  convert: ["out"],
  eval: ["json", "report"],
  record: ["out"],
  static: ["out", "seccomp"],
  demo: ["report"],
  "profiles export": ["out"],
  watch: ["alerts"],
};

/** Output options for which `-` means standard output instead of a file. */
export const STDOUT_OUTPUTS: ReadonlySet<string> = new Set(["eval json", "profiles export out"]);

/** A command's names below the program: `train`, `profiles export`. */
export function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c?.parent != null; c = c.parent) names.unshift(c.name());
  return names.join(" ");
}

/** Throws the first refusal of an output path `cmd` was given (E_USAGE, E_NOT_FOUND, E_PERMISSION naming it). */
export async function checkOutputOptions(cmd: Command): Promise<void> {
  const where = commandPath(cmd);
  if (!Object.hasOwn(OUTPUT_OPTIONS, where)) return;
  // Loaded only for a command that writes a file: start-up of the others stays as small as it was.
  const { checkOutputPath } = await import("../ingest/outputFile.js");
  for (const key of OUTPUT_OPTIONS[where]!) {
    const value: unknown = cmd.getOptionValue(key);
    if (typeof value !== "string") continue;
    if (value === "-" && STDOUT_OUTPUTS.has(`${where} ${key}`)) continue;
    checkOutputPath(value);
  }
}

/** Output options appended to rather than replaced: their commands' help says so at the option. */
const APPENDED: ReadonlySet<string> = new Set(["watch alerts"]);

/** What every command that writes (replaces) a file says about it in its help. */
export const OUTPUT_HELP = [
  "",
  "Output files are only ever regular files: a new one is created, an existing one",
  "replaced whole (written beside it as NAME.partial-PID, renamed when complete).",
  "A device, FIFO, socket, directory or symbolic link at an output path is refused",
  "(not followed, not replaced) before the work starts.",
  "",
].join("\n");

/** Adds OUTPUT_HELP to the help of every command of OUTPUT_OPTIONS that `program` has and that replaces a file. */
export function addOutputHelp(program: Command): void {
  const visit = (cmd: Command): void => {
    for (const sub of cmd.commands) {
      const where = commandPath(sub);
      const outputs = Object.hasOwn(OUTPUT_OPTIONS, where) ? OUTPUT_OPTIONS[where]! : [];
      if (outputs.some((key) => !APPENDED.has(`${where} ${key}`))) sub.addHelpText("after", OUTPUT_HELP);
      visit(sub);
    }
  };
  visit(program);
}
