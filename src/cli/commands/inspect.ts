// `homeostat inspect PATH...`: what is in a set of traces: counts, lengths, groups by split and attack type, the
// most frequent syscalls and categories. The first command a user runs on a new data set. The work is in
// ../actions/inspect.ts, loaded when the command runs.

import type { Command } from "commander";
import type { InspectFlags } from "../actions/inspect.js";
import type { CliContext } from "../context.js";
import { addMaxInputBytesOption } from "../inputOptions.js";
import { COUNT_MAX, intOption } from "../numberOptions.js";

export function registerInspect(program: Command, ctx: CliContext): void {
  const cmd = program
    .command("inspect")
    .description("summarise traces: counts, lengths, groups (split, attack type), top syscalls and categories")
    .argument("<path...>", "trace files, folders or archives (.gz, .tar, .tar.gz, .zip)")
    .option("-f, --format <format>", "force the input format (strace, unm, adfa, lidds2021, lidds2019, homeostat)")
    .option("--json", "print one JSON object on stdout")
    .option("--lenient", "skip malformed lines and report how many were skipped")
    .option("--top <n>", "how many top syscalls and categories to list", intOption("top", 0, COUNT_MAX), 10)
    .addHelpText(
      "after",
      "\nExamples:\n  homeostat inspect ../shared/datasets/adfa-ld\n  homeostat inspect --json trace.strace | jq .syscalls",
    );
  addMaxInputBytesOption(cmd).action(async (paths: string[], opts: InspectFlags) => {
    // Named devices and FIFOs are refused at once, before the action and its parsers load.
    (await import("../../ingest/inputPaths.js")).checkNamedInputs(paths);
    return (await import("../actions/inspect.js")).runInspect(paths, opts, ctx);
  });
}
