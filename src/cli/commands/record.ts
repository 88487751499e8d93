// `homeostat record [--out FILE] -- CMD [ARGS...]` and `homeostat record --pid PID [--out FILE]`: traces a program
// with strace (src/capture/straceCapture.ts) straight into homeostat's binary trace format. The program keeps
// homeostat's stdio, so the summary goes to stderr (or, with --json, to stdout after the program is done), and
// homeostat exits with the program's own exit status. Ctrl-C ends the capture with a complete file. The work is in
// ../actions/record.ts, loaded when the command runs.

import type { Command } from "commander";
import type { RecordOptions } from "../actions/record.js";
import type { CliContext } from "../context.js";
import { intOption, PID_MAX } from "../numberOptions.js";

export function registerRecord(program: Command, ctx: CliContext): void {
  program
    .command("record")
    .description("run a program (or attach to one) under strace, writing its system calls to a binary trace")
    .usage("[options] -- CMD [ARGS...]  |  record --pid PID [options]")
    .argument("[command...]", "the program and its arguments, after `--`")
    .option("-o, --out <file>", "output file (default homeostat-<program>-<time>.hstr)")
    .option("-p, --pid <pid>", "attach to a running process and its threads instead", intOption("pid", 1, PID_MAX))
    .option("--json", "print the summary as JSON on stdout")
    // The traced program's own flags are operands after `--`; unknown flags before it reach the action, which
    // explains the `--` rule instead of commander rejecting them one by one.
    .allowUnknownOption()
    .action(async (command: string[], opts: RecordOptions) =>
      (await import("../actions/record.js")).runRecord(program, command, opts, ctx),
    );
}
