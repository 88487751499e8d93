// `homeostat convert INPUT... --out FILE`: turns traces of any format homeostat reads into its compact binary
// trace format (docs/binary-trace-format.md), keeping each source's labels, streams, timestamps and notes.

import { renameSync, statSync } from "node:fs";
import type { Command } from "commander";
import { HomeostatError } from "../../errors.js";
import { openBinaryTraceWriter } from "../../ingest/binaryTraceWriter.js";
import { isFormatName, readTraces } from "../../ingest/reader.js";
import { Vocabulary } from "../../syscalls/vocabulary.js";
import type { CliContext } from "../main.js";
import { abandonPartial } from "../partialOutput.js";
import { num, progress } from "../terminal.js";

export function registerConvert(program: Command, ctx: CliContext): void {
  program
    .command("convert")
    .description("convert traces (any readable format, folders, archives) into homeostat's binary trace format")
    .argument("<path...>", "trace files, folders or archives")
    .requiredOption("-o, --out <file>", "output file (.hstr)")
    .option("-f, --format <format>", "force the input format")
    .option("--args", "keep raw syscall arguments (bigger files)")
    .option("--lenient", "skip malformed lines and report how many were skipped")
    .option("--json", "print a JSON summary on stdout")
    .action(
      async (
        paths: string[],
        opts: { out: string; format?: string; args?: boolean; lenient?: boolean; json?: boolean },
      ) => {
        if (opts.format !== undefined && !isFormatName(opts.format)) {
          throw new HomeostatError("E_USAGE", `unknown --format "${opts.format}"`);
        }
        const vocab = new Vocabulary();
        // Written beside the target and renamed at the end, so a failed conversion never leaves a half file
        // under the name the user asked for (and never clobbers an existing good one).
        const tmp = `${opts.out}.partial-${process.pid}`;
        const writer = openBinaryTraceWriter(tmp, vocab);
        const bar = progress("converting", 1, !opts.json);
        try {
          const report = await readTraces(paths, {
            vocab,
            sink: writer,
            ...(opts.format !== undefined && isFormatName(opts.format) ? { format: opts.format } : {}),
            lenient: opts.lenient ?? false,
            keepArgs: opts.args ?? false,
            onProgress: (p) => bar.update(p.entries, p.entries + 1),
          });
          writer.close();
          renameSync(tmp, opts.out);
          const summary = {
            out: opts.out,
            entries: report.entries,
            bytesRead: report.bytes,
            calls: writer.callCount,
            bytesWritten: statSync(opts.out).size,
            skippedLines: report.skippedLines,
          };
          if (opts.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
          else {
            process.stdout.write(
              `wrote ${opts.out}: ${num(summary.calls)} calls from ${num(summary.entries)} files, ` +
                `${num(summary.bytesWritten)} bytes (read ${num(summary.bytesRead)})\n`,
            );
          }
          ctx.exitCode = 0;
        } catch (err) {
          abandonPartial(writer, tmp);
          throw err;
        } finally {
          bar.stop();
        }
      },
    );
}
