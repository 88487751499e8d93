// Exec identity: which program a task began to run, as pH does it (one profile per executable). At
// sched_process_exec the kernel names the file by its inode and its superblock's device; this module turns that
// device number into stat(2)'s encoding and finds a path for the file (docs/ebpf-capture.md, "Exec identity").

import { closeSync, openSync, readSync } from "node:fs";
import type { ExeIdentity } from "./hostEvents.js";
import { identifyFile, identifyProcess } from "./procIdentity.js";

/** The kernel's internal dev_t (s_dev: major << 20 | minor) as stat(2)'s st_dev (glibc's makedev encoding). */
export function kernelDevToUserDev(kdev: number): number {
  const major = Math.floor(kdev / 0x100000);
  const minor = kdev % 0x100000;
  const minorHigh = minor - (minor & 0xff);
  // Plain arithmetic, not shifts: the result can pass 2^31.
  return (minor & 0xff) + (major & 0xfff) * 0x100 + minorHigh * 0x1000 + Math.floor(major / 0x1000) * 0x100000000;
}

/** stat(2)'s st_dev as the kernel's internal dev_t (the inverse of kernelDevToUserDev; majors above 4095 do not
 * exist in the kernel's 32-bit dev_t, so the high word is ignored). */
export function userDevToKernelDev(udev: number): number {
  const lo = udev % 0x100000000;
  const major = Math.floor(lo / 0x100) & 0xfff;
  const minor = (lo & 0xff) + (Math.floor(lo / 0x1000) & 0xfff00);
  return major * 0x100000 + minor;
}

/** Names an executable from an exec line: `filename` is what execve was given (possibly cut at 200 bytes). */
export type ExeResolver = (pid: number, dev: number, ino: number, filename: string) => ExeIdentity | undefined;

/**
 * The path of the file dev:ino that `pid` began to run: /proc/PID/exe while the process still runs it; else the
 * name given to execve when that file is dev:ino, or the interpreter its `#!` line names (a script's process runs
 * its interpreter, followed as the kernel does, 4 levels deep), so a program gets the same path whether or not it
 * outlived the event; else the name as given.
 */
export function procExeIdentity(pid: number, dev: number, ino: number, filename: string): ExeIdentity | undefined {
  if (ino !== 0) {
    const now = identifyProcess(pid);
    if (now !== undefined && now.ino === ino && now.dev === dev) return now;
    // A relative name was relative to the process's directory, not ours.
    if (filename.startsWith("/")) {
      const file = fileWithInode(filename, dev, ino, 0);
      if (file !== undefined) return file;
    }
  }
  if (filename === "" && ino === 0) return undefined;
  return { path: filename, dev, ino };
}

function fileWithInode(file: string, dev: number, ino: number, depth: number): ExeIdentity | undefined {
  const id = identifyFile(file);
  if (id === undefined) return undefined;
  if (id.dev === dev && id.ino === ino) return id;
  if (depth >= 4) return undefined;
  const interpreter = shebang(id.path);
  return interpreter === undefined ? undefined : fileWithInode(interpreter, dev, ino, depth + 1);
}

/** The interpreter a `#!` line names, or undefined. */
function shebang(file: string): string | undefined {
  let fd = -1;
  try {
    fd = openSync(file, "r");
    const head = Buffer.alloc(256);
    const n = readSync(fd, head, 0, head.length, 0);
    const m = /^#![ \t]*([^ \t\n]+)/.exec(head.toString("latin1", 0, n));
    return m?.[1];
  } catch {
    return undefined;
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}
