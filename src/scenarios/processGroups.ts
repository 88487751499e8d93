// Every process a scenarios build starts runs in a process group of its own (spawned detached), and every group is
// remembered until it is gone, so that a build never leaves a server, a shell or a tracer behind: on success, on a
// failed recording and on an interrupt alike, killAll() sends SIGKILL to each group that is still there. Servers
// bind 127.0.0.1 only; nothing here calls setsid, so everything a program starts stays in its group.

import { type ChildProcess, spawn, type SpawnOptions } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { HomeostatError } from "../errors.js";

/** Sends `signal` to a process group; false when it is gone. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/** Sends `signal` to one process; false when it is gone. */
export function signalProcess(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** Live descendants of `pid`, from /proc/PID/task/TID/children, parents before children. */
export function descendantsOf(pid: number): number[] {
  const out: number[] = [];
  const stack = [pid];
  while (stack.length > 0 && out.length < 65_536) {
    const p = stack.pop()!;
    let tasks: string[];
    try {
      tasks = readdirSync(`/proc/${p}/task`);
    } catch {
      continue;
    }
    for (const t of tasks) {
      let text = "";
      try {
        text = readFileSync(`/proc/${p}/task/${t}/children`, "utf8");
      } catch {
        continue;
      }
      for (const c of text.trim().split(/\s+/)) {
        const child = Number(c);
        if (c !== "" && Number.isInteger(child) && child > 0 && !out.includes(child)) {
          out.push(child);
          stack.push(child);
        }
      }
    }
  }
  return out;
}

/** The groups one build (or one recording within it: a child registry, also known to its parent) started. */
export class ProcessGroups {
  private readonly groups = new Set<number>();

  constructor(private readonly parent?: ProcessGroups) {}

  /** Spawns `command` as the leader of a new process group, remembered until killAll(). */
  spawn(command: string, args: readonly string[], options: SpawnOptions = {}): ChildProcess {
    const child = spawn(command, args, { ...options, detached: true });
    if (child.pid !== undefined) this.add(child.pid);
    child.once("error", () => {
      if (child.pid !== undefined) this.forget(child.pid);
    });
    return child;
  }

  private add(pgid: number): void {
    this.groups.add(pgid);
    this.parent?.add(pgid);
  }

  private forget(pgid: number): void {
    this.groups.delete(pgid);
    this.parent?.forget(pgid);
  }

  /** SIGKILL to every group still there; the set is emptied. */
  killAll(): void {
    for (const pgid of [...this.groups]) this.kill(pgid);
  }

  /** SIGKILL to one group, forgotten afterwards. */
  kill(pgid: number): void {
    signalGroup(pgid, "SIGKILL");
    this.forget(pgid);
  }

  get size(): number {
    return this.groups.size;
  }
}

/** Resolves when `child` has exited (at once if it has); rejects with E_IO after `timeoutMs`. */
export function exited(child: ChildProcess, timeoutMs: number, what: string): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.off("exit", onExit);
      reject(new HomeostatError("E_IO", `${what} did not exit within ${timeoutMs} ms`));
    }, timeoutMs);
    const onExit = (code: number | null): void => {
      clearTimeout(timer);
      resolve(code);
    };
    child.once("exit", onExit);
  });
}
