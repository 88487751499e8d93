// The event model of host-wide capture backends (bpftrace system-wide, strace per command or pid), as pH and ebpH
// see a host: every system call of every task, with the executable each process runs, so that profiles can be kept
// per executable (Somayaji & Forrest 2000). Backends push plain numbers on the hot path (`syscall`) and small
// objects only for rare events (exec, fork, exit, loss), like the parsers' EventSink (src/ingest/event.ts).

/** An executable's identity: its path, and the device and inode of the file, so a replaced binary is a new one. */
export interface ExeIdentity {
  /** Absolute path when known (readlink /proc/PID/exe, or the path given to execve). */
  path: string;
  /** st_dev as stat(2) reports it (user-space encoding), 0 when unknown. */
  dev: number;
  /** st_ino, 0 when unknown. */
  ino: number;
}

/** The profile key of an executable: `path` plus device and inode (`/usr/bin/ls@2049:131`). */
export function exeKey(exe: ExeIdentity): string {
  return `${exe.path}@${exe.dev}:${exe.ino}`;
}

/** Where a loss of events happened: in the kernel (eBPF ring buffer) or inside homeostat (a bounded queue). */
export type LossSite = "kernel" | "capture" | "monitor";

/**
 * Receives host events. `pid` is the process (thread group) id, `tid` the thread; `nr` is the x86_64 system-call
 * number (the kernel's own, syscall_64.tbl). `time` is epoch seconds or NaN when the backend has none.
 */
export interface HostEventSink {
  syscall(pid: number, tid: number, nr: number, time: number): void;
  /** A task began executing a new program (after a successful execve). `exe` undefined when it could not be read. */
  exec(pid: number, tid: number, exe: ExeIdentity | undefined, time: number): void;
  /** A new task: a process (childPid === childTid) or a thread of `parentPid`'s process. */
  fork(parentPid: number, parentTid: number, childPid: number, childTid: number, time: number): void;
  /** A task ended. */
  exit(pid: number, tid: number, time: number): void;
  /** Events lost at `site` (count of events, as reported by the backend). */
  lost(count: number, site: LossSite, time: number): void;
}

/** What a host capture backend reports when it ends. */
export interface HostCaptureStats {
  /** Backend name, e.g. "bpftrace" or "strace". */
  backend: string;
  /** Syscall events delivered to the sink. */
  syscalls: number;
  /** Syscall events the kernel side counted (bpftrace's in-kernel counter), when the backend has one. */
  kernelSyscalls?: number;
  /** Events the backend reported lost (kernel ring buffer). */
  lost: number;
  /** Lines of backend output that could not be parsed (expected 0). */
  skippedLines: number;
  startedAt: number;
  endedAt: number;
}

/** A running host capture. */
export interface HostCapture {
  readonly backend: string;
  /** Resolves when the backend has stopped and every event has reached the sink. */
  readonly done: Promise<HostCaptureStats>;
  /** Stops the capture (idempotent); `done` resolves after the output is drained. */
  stop(): void;
}
