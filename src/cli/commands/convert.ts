// `homeostat convert INPUT... --out FILE`: turns traces of any format homeostat reads into its compact binary
// trace format (docs/binary-trace-format.md), keeping each source's labels, streams, timestamps and notes. The work
// is in ../actions/convert.ts, loaded when the command runs.

import type { Command } from "commander";
import type { ConvertFlags } from "../actions/convert.js";
import type { CliContext } from "../context.js";
import { addMaxInputBytesOption } from "../inputOptions.js";

export function registerConvert(program: Command, ctx: CliContext): void {
  const cmd = program
    .command("convert")
    .description("convert traces (any readable format, folders, archives) into homeostat's binary trace format")
    .argument("<path...>", "trace files, folders or archives")
    .requiredOption("-o, --out <file>", "output file (.hstr)")
    .option("-f, --format <format>", "force the input format")
    .option("--args", "keep raw syscall arguments (bigger files)")
    .option("--lenient", "skip malformed lines and report how many were skipped")
    .option("--json", "print a JSON summary on stdout");
  addMaxInputBytesOption(cmd).action(async (paths: string[], opts: ConvertFlags) => {
    // Named devices and FIFOs are refused at once, before the action and its parsers load.
    (await import("../../ingest/inputPaths.js")).checkNamedInputs(paths);
    return (await import("../actions/convert.js")).runConvert(paths, opts, ctx);
  });
}
