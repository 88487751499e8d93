// What /proc says about a running task, for attributing system calls to executables as pH does (one profile per
// program): the executable's path, device and inode (stat of /proc/PID/exe follows the link to the file itself,
// even when it was deleted or replaced since), and a thread's process (Tgid); and, for a capture that attaches to a
// process, its command line and name.

import {
  closeSync,
  existsSync,
  fstatSync,
  openSync,
  readFileSync,
  readlinkSync,
  readSync,
  realpathSync,
  statSync,
} from "node:fs";
import { isAbsolute, join } from "node:path";
import { HomeostatError } from "../errors.js";
import type { ExeIdentity } from "./hostEvents.js";

/**
 * The executable `pid` runs, or undefined (gone, a kernel thread, or not readable). The path and the file must be
 * of the same moment: the process may exec between two reads of /proc (a shell's child about to become `cat`), and
 * a profile keyed by cat's path with the shell's inode is neither program's. So the link is opened (which opens the
 * executable file itself) and both are read from that one descriptor; where it cannot be opened, the file is stated
 * before and after the path is read and taken only when both agree.
 */
export function identifyProcess(pid: number): ExeIdentity | undefined {
  const link = `/proc/${pid}/exe`;
  let fd: number;
  try {
    fd = openSync(link, "r");
  } catch {
    return identifyByStats(link);
  }
  try {
    const st = fstatSync(fd);
    const path = readlinkSync(`/proc/self/fd/${fd}`).replace(/ \(deleted\)$/, "");
    return { path, dev: st.dev, ino: st.ino };
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

function identifyByStats(link: string): ExeIdentity | undefined {
  try {
    for (let attempt = 0; attempt < 8; attempt++) {
      const before = statSync(link);
      const path = readlinkSync(link).replace(/ \(deleted\)$/, "");
      const after = statSync(link);
      if (before.ino === after.ino && before.dev === after.dev) return { path, dev: after.dev, ino: after.ino };
    }
    return undefined;
  } catch {
    return undefined;
  }
}

/** The identity of an executable file by path (resolved as /proc/PID/exe would show it), or undefined. */
export function identifyFile(path: string): ExeIdentity | undefined {
  try {
    const real = realpathSync(path);
    const st = statSync(real);
    return { path: real, dev: st.dev, ino: st.ino };
  } catch {
    return undefined;
  }
}

/** How deep the kernel follows `#!` interpreters that are scripts themselves (fs/exec.c allows 5 rewrites). */
const MAX_INTERPRETERS = 4;

/**
 * The executable that an exec of `file` by task `tid` ran, from the file rather than from /proc/PID/exe: when the
 * capture lags behind the traced programs (strace's output is read after the fact), /proc may already show a later
 * exec (env that has become true), and the calls between the two execs would be charged to the wrong program. A
 * script runs its `#!` interpreter, followed as the kernel does; a relative path is resolved in the task's working
 * directory. undefined when the file cannot be read.
 */
export function identifyExecTarget(tid: number, file: string): ExeIdentity | undefined {
  let target = inCwdOf(tid, file);
  for (let depth = 0; depth <= MAX_INTERPRETERS; depth++) {
    const interpreter = shebangOf(target);
    if (interpreter === undefined) return identifyFile(target);
    target = inCwdOf(tid, interpreter);
  }
  return undefined;
}

/** `file` as the task sees it: a relative path in its working directory (in ours when the task is gone already). */
function inCwdOf(tid: number, file: string): string {
  if (isAbsolute(file)) return file;
  const there = join(`/proc/${tid}/cwd`, file);
  return existsSync(there) ? there : file;
}

/** The interpreter a `#!` line names, or undefined for any other file (or one that cannot be read). */
function shebangOf(file: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(file, "r");
  } catch {
    return undefined;
  }
  try {
    const head = Buffer.alloc(256);
    const n = readSync(fd, head, 0, head.length, 0);
    if (n < 3 || head[0] !== 0x23 || head[1] !== 0x21) return undefined;
    const line = head.toString("latin1", 2, n).split("\n", 1)[0]!.trim();
    const interpreter = line.split(/[ \t]/, 1)[0];
    return interpreter !== undefined && interpreter.length > 0 ? interpreter : undefined;
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** The process (thread group) of task `tid`, or undefined when the task is gone. */
export function threadGroupOf(tid: number): number | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${tid}/status`, "latin1");
  } catch {
    return undefined;
  }
  const at = text.indexOf("\nTgid:");
  if (at < 0) return undefined;
  const n = Number.parseInt(text.slice(at + 6, text.indexOf("\n", at + 6)).trim(), 10);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

/** Whether task `tid` still exists. */
export function taskAlive(tid: number): boolean {
  try {
    statSync(`/proc/${tid}`);
    return true;
  } catch {
    return false;
  }
}

export interface ProcessInfo {
  pid: number;
  argv: string[];
  /** The executable (readlink /proc/PID/exe), when readable. */
  exe: string | undefined;
  comm: string | undefined;
}

/** What /proc says about a running process; E_NOT_FOUND when there is no such process. */
export function processInfo(pid: number): ProcessInfo {
  if (!Number.isInteger(pid) || pid < 1) throw new HomeostatError("E_USAGE", `not a process id: ${pid}`);
  const dir = `/proc/${pid}`;
  if (!existsSync(dir)) throw new HomeostatError("E_NOT_FOUND", `no process with pid ${pid}`);
  const read = (f: string): string | undefined => {
    try {
      return readFileSync(`${dir}/${f}`, "utf8");
    } catch {
      return undefined;
    }
  };
  const cmdline = read("cmdline") ?? "";
  const argv = cmdline.split("\0");
  if (argv.length > 0 && argv[argv.length - 1] === "") argv.pop();
  let exe: string | undefined;
  try {
    exe = readlinkSync(`${dir}/exe`);
  } catch {
    exe = undefined;
  }
  return { pid, argv, exe, comm: read("comm")?.trim() };
}
