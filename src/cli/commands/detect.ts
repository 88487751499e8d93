// `homeostat detect --profile PROFILE [--threshold T] -- CMD [ARGS...]`: runs a command under capture and scores
// it call by call against a profile, printing each alarm as it fires with the offending window as syscall names.
// `--static` scores it instead against a static analysis of CMD's executable (Wagner & Dean 2001): every call the
// binary cannot make alarms. Exit 1 when any alarm fired (the question is "did it behave abnormally?"), 0 when
// none did, 2 on bad input. A profile whose call names look learnt on another ABI than the program's (ADFA-LD's
// i386 against x86_64) gets one warning line on stderr (../abiWarning.ts): it would alarm within a few calls. The
// work is in ../actions/detect.ts, loaded when the command runs.

import type { Command } from "commander";
import type { DetectOptions } from "../actions/detect.js";
import type { CliContext } from "../context.js";
import { FRAME_MAX, intOption, numberOption, THRESHOLD_MAX } from "../numberOptions.js";

export function registerDetect(program: Command, ctx: CliContext): void {
  program
    .command("detect")
    .description("run a program under capture and score it live against a profile; print alarms as they fire")
    .usage("--profile PROFILE | --static [options] -- CMD [ARGS...]")
    .argument("[command...]", "the program and its arguments, after `--`")
    .option("-p, --profile <file>", "profile written by `homeostat train` or `homeostat static --out`")
    .option(
      "--static",
      "instead of a profile, analyse CMD's executable (`homeostat static`) and alarm at every call it cannot make",
    )
    .option(
      "--digraph",
      "with --static: also alarm at a call that cannot follow the one before (Wagner & Dean's digraph)",
    )
    .option("--no-cache", "with --static: analyse every object afresh, without the build-id cache")
    .option("--cache-dir <dir>", "with --static: build-id cache of per-object summaries")
    .option(
      "--measure <name>",
      "what alarms: lfc (anomalous calls among the last --frame, Hofmeyr 1998), signal (one call's signal), " +
        "windowMean (mean signal over the last --window calls)",
      "lfc",
    )
    .option(
      "--threshold <value>",
      "alarm when the measure rises above this (default 0 for lfc: any call the profile never saw in its context; " +
        "raise it to tolerate isolated anomalies, as Hofmeyr's LFC thresholds do; required for other measures)",
      numberOption("threshold", 0, THRESHOLD_MAX),
    )
    .option("--frame <calls>", "locality frame length in calls (default 20)", intOption("frame", 1, FRAME_MAX))
    .option("--window <calls>", "window of the windowMean measure (default 20)", intOption("window", 1, FRAME_MAX))
    .option("--json", "one JSON object per alarm, then a summary object, on stdout")
    .allowUnknownOption()
    .action(async (command: string[], opts: DetectOptions, cmd: Command) =>
      (await import("../actions/detect.js")).runDetect(program, command, opts, cmd, ctx),
    );
}
