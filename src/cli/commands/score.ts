// `homeostat score --profile PROFILE INPUT...`: scores traces against a trained profile, one line per trace
// (a table, or JSON lines with --json). With --threshold, traces scoring above it are alarms and the exit code
// is 1 when there is any (the question "did anything look anomalous?"). The work is in ../actions/score.ts, loaded
// when the command runs.

import type { Command } from "commander";
import type { ScoreFlags } from "../actions/score.js";
import { TRACE_SCORE_NAMES } from "../../detect/traceScore.js";
import type { CliContext } from "../context.js";
import { addInputOptions } from "../inputOptions.js";
import { FRAME_MAX, intOption, numberOption, THRESHOLD_MAX } from "../numberOptions.js";

export function registerScore(program: Command, ctx: CliContext): void {
  const cmd = program
    .command("score")
    .description("score traces against a profile: anomalies, locality frame counts, per-trace scores")
    .argument("<path...>", "traces to score: files, folders or archives")
    .requiredOption("-p, --profile <file>", "profile written by `homeostat train`")
    .option("--frame <calls>", "locality frame length in calls (default 20)", intOption("frame", 1, FRAME_MAX))
    .option("--score <name>", `per-trace score: ${TRACE_SCORE_NAMES.join(", ")} (default: by model)`)
    .option(
      "--threshold <value>",
      "alarm when a trace's score is above this; exit 1 if any trace alarms",
      numberOption("threshold", 0, THRESHOLD_MAX),
    )
    .option("--json", "one JSON object per trace on stdout");
  addInputOptions(cmd).action(async (paths: string[], flags: ScoreFlags) => {
    // Named devices and FIFOs are refused at once, before the action and its parsers load.
    (await import("../../ingest/inputPaths.js")).checkNamedInputs(paths);
    return (await import("../actions/score.js")).runScore(paths, flags, ctx);
  });
}
