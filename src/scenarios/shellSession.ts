// A driver shell under strace: /bin/sh (dash on Debian, which reads its input in blocks, not a byte at a time as
// bash does from a pipe) reading one command at a time from a pipe, as a user's session or a CI job would run a
// program's commands. After each command the shell prints a marker with the command's exit status, so that the
// build knows each action's result and output, and takes the attack's time just before writing the attack's
// command. Each command's stdin is /dev/null and its stderr goes with its stdout.

import { HomeostatError } from "../errors.js";
import type { ProcessGroups } from "./processGroups.js";
import { startTraced, type TracedProgram } from "./straceRecorder.js";

export interface ShellResult {
  status: number;
  output: string;
}

/** Quotes `s` for a POSIX shell. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
}

/** The command line that runs `command` as the session's `n`-th command and then prints its marker. */
export function markedCommand(command: string, n: number): string {
  return `{ ${command}\n} </dev/null 2>&1; printf '\\n__HS_DONE_%s__ %d\\n' ${n} $?\n`;
}

/** The `n`-th command's result in the shell's output so far, or undefined while its marker has not arrived. */
export function findMarker(text: string, n: number): ShellResult | undefined {
  const m = new RegExp(`\\n__HS_DONE_${n}__ (\\d+)\\n`).exec(text);
  return m === null ? undefined : { status: Number(m[1]), output: text.slice(0, m.index) };
}

export class ShellSession {
  private text = "";
  private count = 0;
  private waiter: (() => void) | undefined;
  private ended = false;

  private constructor(readonly traced: TracedProgram) {
    const { child } = traced;
    child.stdout!.setEncoding("utf8");
    child.stdout!.on("data", (s: string) => {
      this.text += s;
      this.wake();
    });
    child.once("exit", () => {
      this.ended = true;
      this.wake();
    });
    child.stdin!.on("error", () => {});
  }

  /** Starts /bin/sh under strace, writing the trace to `tracePath`. */
  static start(groups: ProcessGroups, tracePath: string, cwd: string, env: NodeJS.ProcessEnv): ShellSession {
    const traced = startTraced(groups, { tracePath, command: ["/bin/sh"], cwd, env, stdin: "pipe" });
    return new ShellSession(traced);
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  /** Runs one command line in the shell; resolves with its exit status and output. */
  async run(command: string, timeoutMs = 60_000): Promise<ShellResult> {
    const n = ++this.count;
    this.text = "";
    this.traced.child.stdin!.write(markedCommand(command, n));
    const until = Date.now() + timeoutMs;
    for (;;) {
      const done = findMarker(this.text, n);
      if (done !== undefined) return done;
      if (this.ended) throw new HomeostatError("E_IO", `the shell exited during: ${command.slice(0, 120)}`);
      const left = until - Date.now();
      if (left <= 0) throw new HomeostatError("E_IO", `a command took over ${timeoutMs} ms: ${command.slice(0, 120)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /** Runs a command that must succeed (exit status 0); E_IO with its output otherwise. */
  async must(command: string, timeoutMs?: number): Promise<string> {
    const r = await this.run(command, timeoutMs);
    if (r.status !== 0) {
      throw new HomeostatError(
        "E_IO",
        `command failed (exit ${r.status}): ${command.slice(0, 160)}: ${r.output.trim().slice(-300)}`,
      );
    }
    return r.output;
  }

  /** Ends the shell (end of input) and waits for the trace to be complete. */
  async close(): Promise<void> {
    this.traced.child.stdin!.end();
    await this.traced.finish(15_000);
  }
}
