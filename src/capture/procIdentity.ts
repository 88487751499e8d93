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
  realpathSync,
  statSync,
} from "node:fs";
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
