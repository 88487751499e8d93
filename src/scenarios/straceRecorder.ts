// One recording under strace: `strace -f -ttt -q -o FILE -- CMD ARGS...`, the flags of homeostat's own capture
// (src/capture/straceCapture.ts), writing strace's raw text to the recording's .strace file. -f follows every
// process the program starts, so one file holds the whole recording, as LID-DS records a whole container. strace
// leads a process group of its own (processGroups.ts); stopping signals the traced processes, never strace, so
// that strace writes their last calls and exits by itself once they are gone.

import type { ChildProcess } from "node:child_process";
import { requireStrace } from "../capture/straceCapture.js";
import { HomeostatError } from "../errors.js";
import { descendantsOf, exited, type ProcessGroups, signalProcess } from "./processGroups.js";

/** The flags every recording is made with (before `-o FILE -- CMD`). */
export const STRACE_FLAGS: readonly string[] = ["-f", "-ttt", "-q"];

export interface TraceOptions {
  tracePath: string;
  /** The program and its arguments (an argument vector, no shell). */
  command: readonly string[];
  cwd: string;
  env?: NodeJS.ProcessEnv;
  /** The program's stdin: a pipe the scenario writes to, or /dev/null. */
  stdin?: "pipe" | "ignore";
}

/** A program running under strace. */
export interface TracedProgram {
  /** strace itself; the program's stdin, stdout and stderr are its. */
  readonly child: ChildProcess;
  /** strace's pid, the traced program's process group. */
  readonly pgid: number;
  /** The last few KiB the program wrote to stderr, for error messages. */
  stderrTail(): string;
  /** Sends `signal` to every traced process (strace's live descendants). */
  signalTracees(signal: NodeJS.Signals): void;
  /** Waits for strace to exit; past `timeoutMs`, SIGKILL to the whole group. Never throws. */
  finish(timeoutMs?: number): Promise<void>;
}

/** Starts `command` under strace in a process group of its own. E_DEPENDENCY when strace is missing. */
export function startTraced(groups: ProcessGroups, options: TraceOptions): TracedProgram {
  const strace = requireStrace(options.env ?? process.env);
  const args = [...STRACE_FLAGS, "-o", options.tracePath, "--", ...options.command];
  const child = groups.spawn(strace, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: [options.stdin ?? "ignore", "pipe", "pipe"],
  });
  if (child.pid === undefined) {
    throw new HomeostatError("E_DEPENDENCY", `cannot run strace for ${options.command[0]}`);
  }
  const pgid = child.pid;
  let tail = "";
  child.stderr!.setEncoding("utf8");
  child.stderr!.on("data", (s: string) => {
    tail = (tail + s).slice(-4096);
  });
  child.on("error", () => {});
  return {
    child,
    pgid,
    stderrTail: () => tail.trim(),
    signalTracees(signal) {
      for (const pid of descendantsOf(pgid)) signalProcess(pid, signal);
    },
    async finish(timeoutMs = 10_000) {
      try {
        await exited(child, timeoutMs, "strace");
      } catch {
        groups.kill(pgid);
        await exited(child, 5_000, "strace").catch(() => undefined);
      }
      groups.kill(pgid);
    },
  };
}
