// The work of `homeostat convert` (registered in ../commands/convert.ts).

import { statSync } from "node:fs";
import { HomeostatError } from "../../errors.js";
import { openBinaryTraceWriter } from "../../ingest/binaryTraceWriter.js";
import { readTraces } from "../../ingest/reader.js";
import { Vocabulary } from "../../syscalls/vocabulary.js";
import type { CliContext } from "../context.js";
import { inputLimits, isFormatFlag } from "../inputOptions.js";
import { abandonPartial, commitOutput, partialPathOf } from "../partialOutput.js";
import { num, progress } from "../terminal.js";

export interface ConvertFlags {
  out: string;
  format?: string;
  args?: boolean;
  lenient?: boolean;
  json?: boolean;
  maxInputBytes?: number;
}

export async function runConvert(paths: string[], opts: ConvertFlags, ctx: CliContext): Promise<void> {
  if (opts.format !== undefined && !isFormatFlag(opts.format)) {
    throw new HomeostatError("E_USAGE", `unknown --format "${opts.format}"`);
  }
  const vocab = new Vocabulary();
  // Written beside the target and renamed at the end, so a failed conversion never leaves a half file
  // under the name the user asked for (and never clobbers an existing good one).
  const tmp = partialPathOf(opts.out);
  const writer = openBinaryTraceWriter(tmp, vocab);
  const bar = progress("converting", 1, !opts.json);
  try {
    const report = await readTraces(paths, {
      vocab,
      sink: writer,
      ...(opts.format !== undefined && isFormatFlag(opts.format) ? { format: opts.format } : {}),
      lenient: opts.lenient ?? false,
      keepArgs: opts.args ?? false,
      ...inputLimits(opts),
      onProgress: (p) => bar.update(p.entries, p.entries + 1),
    });
    writer.close();
    // Checked again at the rename: the output path must still be a regular file or nothing.
    commitOutput(tmp, opts.out);
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
}
