// Live capture with strace(1): runs a command under `strace -f -ttt -q -o FIFO -- CMD ARGS...` (or attaches with
// `-p PID`) and streams strace's text through the strace parser into an EventSink while the program runs. This is
// the data-collection step of Forrest et al. (1996): one system-call stream per process (stream = pid/tid), with
// exec notes naming the program each stream runs. Why the options, the FIFO and the stop sequence are what they
// are: docs/strace-capture.md. This file checks what to trace and starts the capture; the running capture is
// straceSession.ts, its stop sequence straceStop.ts.

import { HomeostatError } from "../errors.js";
import type { SourceInfo } from "../ingest/event.js";
import { findExecutable } from "./executables.js";
import { processInfo } from "./procIdentity.js";
import type { CaptureTarget, StraceCapture, StraceCaptureOptions } from "./straceCaptureOptions.js";
import { nowSeconds, StraceSession } from "./straceSession.js";
import { createTraceFifo } from "./traceFifo.js";

export { type ProcessInfo, processInfo } from "./procIdentity.js";
export type { StraceCapture, StraceCaptureOptions, StraceCaptureResult } from "./straceCaptureOptions.js";

export const STRACE_MISSING = "strace is not installed: apt-get install strace";

/** The strace binary to use, or E_DEPENDENCY. */
export function requireStrace(env: NodeJS.ProcessEnv = process.env): string {
  const found = findExecutable("strace", env.PATH);
  if (found === undefined) throw new HomeostatError("E_DEPENDENCY", STRACE_MISSING);
  return found;
}

/**
 * Starts tracing. Throws at once (before anything runs) for a missing strace (E_DEPENDENCY), a command that is not
 * found (E_NOT_FOUND), or a pid that does not exist; failures of strace itself reject `done` (E_PERMISSION when
 * ptrace is refused).
 */
export function startStraceCapture(options: StraceCaptureOptions): StraceCapture {
  const target = captureTarget(options);
  const fifo = createTraceFifo(target.env);
  const straceArgs = ["-f", "-ttt", "-q", "-o", fifo.path];
  if (target.command !== undefined) straceArgs.push("--", ...target.command);
  else straceArgs.push("-p", String(target.attachPid));
  const startedAt = nowSeconds();
  const source = sourceRecord(target, straceArgs, startedAt);
  const session = new StraceSession(options, target, fifo, straceArgs, source, startedAt);
  return { tracerPid: session.tracerPid, source, done: session.done, stop: () => session.stop() };
}

/** Checks what to trace: exactly one of a command found on PATH or a live pid other than ours, and strace. */
function captureTarget(options: StraceCaptureOptions): CaptureTarget {
  const env = options.env ?? process.env;
  const command = options.command !== undefined && options.command.length > 0 ? [...options.command] : undefined;
  const attachPid = options.pid;
  if ((command === undefined) === (attachPid === undefined)) {
    throw new HomeostatError("E_USAGE", "give either a command to run or a pid to attach to (not both)");
  }
  const strace = requireStrace(env);
  if (command !== undefined) {
    const argv0 = command[0]!;
    if (findExecutable(argv0, env.PATH) === undefined) {
      throw new HomeostatError("E_NOT_FOUND", `command not found or not executable: ${argv0}`);
    }
    return { strace, env, command, attachPid, attached: undefined };
  }
  const pid = attachPid!;
  if (pid === process.pid) throw new HomeostatError("E_USAGE", "homeostat cannot trace itself");
  return { strace, env, command, attachPid, attached: processInfo(pid) };
}

/** The source record of a capture: what runs, under which strace options, since when. */
function sourceRecord(target: CaptureTarget, straceArgs: string[], startedAt: number): SourceInfo {
  const { command, attachPid, attached } = target;
  const argv = command ?? attached!.argv;
  const argv0 = command !== undefined ? command[0]! : (attached!.argv[0] ?? attached!.comm ?? `pid${attachPid}`);
  return {
    path: `record:${argv0}`,
    format: "strace",
    meta: {
      argv,
      ...(attachPid !== undefined ? { pid: attachPid, attached: true } : {}),
      startedAt: new Date(startedAt * 1000).toISOString(),
      tracer: `strace ${straceArgs.slice(0, 4).join(" ")}`,
    },
  };
}
