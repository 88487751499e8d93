// How a strace capture stops (docs/strace-capture.md, "Stopping"). Running a command: SIGINT to every traced
// process, SIGKILL to them after the grace period, then SIGKILL to strace. Attached to a process: SIGINT, SIGTERM,
// then SIGKILL to strace, which detaches (the process runs on). A second stop request skips the waiting.

import { readdirSync, readFileSync } from "node:fs";

/** What the stop sequence signals, as the capture knows it. */
export interface StopTarget {
  readonly tracerPid: number;
  /** Attached to a running process (rather than running a command). */
  readonly attached: boolean;
  /** Traced processes the trace shows alive. */
  readonly live: ReadonlySet<number>;
  /** Whether strace has exited (nothing is left to stop). */
  readonly exited: () => boolean;
  /** Milliseconds between SIGINT and SIGKILL. */
  readonly graceMs: number;
}

export class StraceStop {
  /** A stop was requested before the capture ended on its own. */
  stopped = false;
  private stage = 0;
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(private readonly target: StopTarget) {}

  /** Ends the capture; a second call skips the grace period. */
  request(): void {
    if (this.target.exited()) return;
    if (this.stopped) {
      this.clearTimers();
      this.escalate();
      return;
    }
    this.now();
  }

  /** Starts the stop sequence (or goes on with it) now. */
  now(): void {
    if (this.target.exited()) return;
    this.stopped = true;
    this.clearTimers();
    this.escalate();
  }

  /** Cancels the steps still waiting (strace has exited). */
  clearTimers(): void {
    for (const t of this.timers.splice(0)) clearTimeout(t);
  }

  /** The next stop step. */
  private escalate(): void {
    if (this.target.exited()) return;
    this.stage++;
    const stage = this.stage;
    const tracerPid = this.target.tracerPid;
    if (this.target.attached) {
      kill(tracerPid, stage === 1 ? "SIGINT" : stage === 2 ? "SIGTERM" : "SIGKILL");
    } else if (stage === 1) {
      for (const pid of this.tracees()) kill(pid, "SIGINT");
    } else if (stage === 2) {
      for (const pid of this.tracees()) kill(pid, "SIGKILL");
    } else {
      kill(tracerPid, "SIGKILL");
    }
    if (stage < 3) this.timers.push(setTimeout(() => this.escalate(), stage === 1 ? this.target.graceMs : 2000));
  }

  /** Traced processes to signal: those the trace shows alive, and strace's live descendants. */
  private tracees(): Set<number> {
    const tracerPid = this.target.tracerPid;
    const set = new Set<number>(this.target.live);
    if (tracerPid > 0) descendants(tracerPid, set);
    set.delete(process.pid);
    set.delete(tracerPid);
    return set;
  }
}

function kill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

/** Pids of the live descendants of `pid`, from /proc/PID/task/TID/children (empty where the kernel lacks it). */
function descendants(pid: number, out: Set<number>): void {
  const stack = [pid];
  while (stack.length > 0 && out.size < 1 << 16) {
    const p = stack.pop()!;
    let tasks: string[];
    try {
      tasks = readdirSync(`/proc/${p}/task`);
    } catch {
      continue;
    }
    for (const t of tasks) {
      let text: string;
      try {
        text = readFileSync(`/proc/${p}/task/${t}/children`, "utf8");
      } catch {
        continue;
      }
      for (const c of text.split(" ")) {
        const child = Number(c);
        if (c !== "" && Number.isInteger(child) && child > 0 && !out.has(child)) {
          out.add(child);
          stack.push(child);
        }
      }
    }
  }
}
