// `homeostat inspect PATH...`: what is in a set of traces: counts, lengths, groups by split and attack type, the
// most frequent syscalls and categories, and the cleaning facts (duplicates within and across splits, label
// conflicts, degenerate traces). --report FILE.html adds a page with category-bigram heatmaps per label, the bigrams
// that separate the labels, and per-label distributions. The first command a user runs on a new data set. The work
// is in ../actions/inspect.ts, loaded when the command runs.

import type { Command } from "commander";
import type { InspectFlags } from "../actions/inspect.js";
import type { CliContext } from "../context.js";
import { addMaxInputBytesOption } from "../inputOptions.js";
import { COUNT_MAX, FRAME_MAX, intOption } from "../numberOptions.js";

export function registerInspect(program: Command, ctx: CliContext): void {
  const cmd = program
    .command("inspect")
    .description(
      "summarise traces: counts, lengths, groups (split, attack type), top syscalls and categories, and cleaning " +
        "facts (duplicates, cross-split copies, label conflicts, degenerate traces)",
    )
    .argument("<path...>", "trace files, folders or archives (.gz, .tar, .tar.gz, .zip)")
    .option("-f, --format <format>", "force the input format (strace, unm, adfa, lidds2021, lidds2019, homeostat)")
    .option("--json", "print one JSON object on stdout")
    .option("--lenient", "skip malformed lines and report how many were skipped")
    .option("--top <n>", "how many top syscalls and categories to list", intOption("top", 0, COUNT_MAX), 10)
    .option(
      "--window <calls>",
      "traces shorter than this many calls are reported as degenerate (default 6, stide's window)",
      intOption("window", 1, FRAME_MAX),
    )
    .option(
      "--report <file>",
      "also write a self-contained HTML page: category-bigram heatmaps per label and attack type, the bigrams that " +
        "separate the labels (KS statistic), length and syscall distributions, the cleaning facts",
    )
    .option(
      "--max-held-calls <calls>",
      "distinct calls held to confirm duplicates call by call; past it, matches rest on the 64-bit hash and are " +
        "counted as unconfirmed (default 100000000)",
      intOption("max-held-calls", 1, Number.MAX_SAFE_INTEGER),
    )
    .addHelpText(
      "after",
      "\nExamples:\n  homeostat inspect ../shared/datasets/adfa-ld\n  homeostat inspect --json trace.strace | jq .syscalls" +
        "\n  homeostat inspect --json adfa-ld | jq .cleaning.splits\n  homeostat inspect --report adfa.html adfa-ld",
    );
  addMaxInputBytesOption(cmd).action(async (paths: string[], opts: InspectFlags) => {
    // Named devices and FIFOs are refused at once, before the action and its parsers load.
    (await import("../../ingest/inputPaths.js")).checkNamedInputs(paths);
    return (await import("../actions/inspect.js")).runInspect(paths, opts, ctx);
  });
}
