// The work of `homeostat record` (registered in ../commands/record.ts).

import { rmSync, statSync } from "node:fs";
import path from "node:path";
import type { Command } from "commander";
import {
  processInfo,
  type StraceCapture,
  type StraceCaptureResult,
  startStraceCapture,
} from "../../capture/straceCapture.js";
import { HomeostatError } from "../../errors.js";
import { type BinaryTraceWriter, openBinaryTraceWriter } from "../../ingest/binaryTraceWriter.js";
import { Vocabulary } from "../../syscalls/vocabulary.js";
import { onStopSignals, refuseCommandAndPid, requireAfterDashes } from "../commandArgs.js";
import type { CliContext } from "../context.js";
import { abandonPartial, checkOutputPath, commitOutput, partialPathOf } from "../partialOutput.js";
import { num } from "../terminal.js";

/** `homeostat-<argv0>-<UTC timestamp>.hstr`, with argv0's base name reduced to safe characters. */
export function defaultOutName(argv0: string, when = new Date()): string {
  const base =
    path
      .basename(argv0)
      .replace(/[^A-Za-z0-9._-]+/g, "_")
      .replace(/^\.+/, "") || "program";
  const stamp = when
    .toISOString()
    .replace(/\.\d+Z$/, "Z")
    .replace(/[-:]/g, "");
  return `homeostat-${base}-${stamp}.hstr`;
}

export interface RecordOptions {
  out?: string;
  pid?: number;
  json?: boolean;
  args?: boolean;
}

/** How often buffered events are written out, so that even a hard kill leaves a readable (incomplete) file. */
const FLUSH_MS = 1000;

export async function runRecord(
  program: Command,
  command: string[],
  opts: RecordOptions,
  ctx: CliContext,
): Promise<void> {
  const out = outputOf(program, command, opts);
  const tmp = partialPathOf(out);
  const vocab = new Vocabulary();
  const writer = openBinaryTraceWriter(tmp, vocab);
  const capture = startCapture(command, opts, writer, vocab, tmp);
  let interrupted = false;
  const removeHandlers = onStopSignals(() => {
    interrupted = true;
    capture.stop();
  });
  const flusher = setInterval(() => {
    try {
      writer.flush();
    } catch {
      // a write error resurfaces at close()
    }
  }, FLUSH_MS);
  try {
    const result = await capture.done;
    writer.close();
    commitOutput(tmp, out);
    printSummary(summaryOf(capture, result, out, interrupted), result, opts);
    ctx.exitCode = result.exitCode;
  } catch (err) {
    abandonPartial(writer, tmp);
    throw err;
  } finally {
    clearInterval(flusher);
    removeHandlers();
  }
}

/** The arguments checked; the file the recording goes to, checked before the program starts. */
function outputOf(program: Command, command: string[], opts: RecordOptions): string {
  requireAfterDashes(program, command, "homeostat record [--out FILE] -- CMD [ARGS...]");
  refuseCommandAndPid(command, opts.pid);
  if (command.length === 0 && opts.pid === undefined) {
    throw new HomeostatError("E_USAGE", "nothing to record: give a command after `--`, or --pid PID");
  }
  const argv0 = command[0] ?? processInfo(opts.pid!).argv[0] ?? `pid${opts.pid}`;
  const out = opts.out ?? defaultOutName(argv0);
  // Before the program starts: a default name may collide with something that is not a regular file.
  checkOutputPath(out);
  return out;
}

/** Starts strace into `writer`; if it cannot start, the partial file goes. */
function startCapture(
  command: string[],
  opts: RecordOptions,
  writer: BinaryTraceWriter,
  vocab: Vocabulary,
  tmp: string,
): StraceCapture {
  try {
    return startStraceCapture({
      command: command.length > 0 ? command : undefined,
      pid: opts.pid,
      sink: writer,
      vocab,
      onMessage: (line) => process.stderr.write(`${line}\n`),
    });
  } catch (err) {
    writer.close();
    rmSync(tmp, { force: true });
    throw err;
  }
}

function summaryOf(capture: StraceCapture, result: StraceCaptureResult, out: string, interrupted: boolean) {
  return {
    out,
    command: capture.source.meta?.argv,
    pid: result.rootPid,
    exitCode: result.exitCode,
    ...(result.signal !== undefined ? { signal: result.signal } : {}),
    calls: result.calls,
    processes: result.streams,
    execs: result.execs,
    seconds: Number((result.endedAt - result.startedAt).toFixed(3)),
    bytesWritten: statSync(out).size,
    interrupted,
    skippedLines: result.skippedLines,
  };
}

function printSummary(summary: ReturnType<typeof summaryOf>, result: StraceCaptureResult, opts: RecordOptions): void {
  if (opts.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
  else {
    const fate = result.signal !== undefined ? `killed by ${result.signal}` : `exit status ${result.exitCode}`;
    process.stderr.write(
      `homeostat: recorded ${num(summary.calls)} calls from ${num(summary.processes)} processes/threads ` +
        `(${fate}${summary.interrupted ? ", interrupted" : ""}) in ${summary.seconds}s to ${summary.out}\n`,
    );
  }
}
