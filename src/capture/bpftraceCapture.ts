// System-wide capture through eBPF with bpftrace(8): every system call of every task on the host, with the fork,
// exec and exit of each task, the way pH (Somayaji & Forrest 2000) and ebpH (Findlay 2020) see a host, so that
// sequences can be kept per thread and profiles per executable (the dev:inode of the file a process runs).
//
// Why batches, not one line per call: bpftrace 0.17 formats every printf in user space, writes it with its own
// write(2), and is woken for every perf record. Measured here (2 cores, kernel 6.18, `dd bs=1` as the load), one
// line per call delivered 140-200k calls/s and slowed the program 13-20x. So the kernel side gathers up to BATCH
// (32) call numbers of one thread per CPU and prints them as one line `B pid tid n w0 .. w7` (hex 64-bit words,
// call i in bits 16*(i%4) of word i/4): 32x fewer records, writes and wakeups, 500-680k calls/s delivered, no loss
// at the default ring buffer. Per call the program makes two map updates (the call's slot and the batch state,
// pid << 32 | tid << 6 | count); map updates are what it costs beyond the tracepoint itself, so words are packed
// only when a batch is printed. A batch holds one thread only, and it is printed before anything else that CPU
// reports: when another thread makes a call, at every context switch (so a thread's batch is out before it can
// run on another CPU), before that CPU's exec, fork and exit lines (so they follow the calls that caused them),
// when it is full, and from a 10 Hz per-CPU timer (a thread that made a few calls and then computes without
// sleeping is not kept waiting). @kernel_syscalls adds up the calls of the printed batches, delivered or lost;
// batches still open when bpftrace stops (at most BATCH-1 calls per CPU) are in neither count. A call number
// outside 0..65534 (-1 from ptrace, x32's 0x40000000 bit) is delivered as -1.
//
// Order: bpftrace reads one perf buffer per CPU, so lines of different CPUs interleave in the order it drains
// them, not the order they happened: a child's first calls may come before its parent's fork line. A thread's
// batch is printed when it leaves a CPU, but once it runs on another CPU its next batch can still be drained
// first: under a load that migrates tasks a lot (4 dd and 200 short processes on 2 CPUs) 13 of 53,094 batch lines
// came before an earlier line of the same thread. Consumers must accept calls of a tid they have not seen forked,
// and the rare swapped pair of batches.
//
// Time: every event gets the time its chunk of output arrived (Date.now()). Printing nsecs per batch would cost
// bpftrace more formatting and still not order CPUs; arrival time is what a live monitor acts on.
//
// Excluding ourselves: homeostat's own calls (and bpftrace's) would feed back: each call we read makes more calls.
// Both are filtered in the kernel by pid (the thread group, so all threads). bpftrace learns its own pid from the
// shell it is exec'd by: `sh -c 'exec bpftrace -e PROGRAM "$$"'` passes the shell's pid, which becomes bpftrace's.
// Only calls are filtered: forks, execs and exits of every process are reported (homeostat's children included).
//
// Exec identity: at sched_process_exec the task's mm->exe_file is the new program's file, so its inode and its
// superblock's device name it, also for a script (#!), where it is the interpreter: the inode is trusted, and a
// path is found for it (procExeIdentity): /proc/PID/exe while the process runs that dev:inode, else the name given
// to execve or the interpreter its #! line names, when that is the file. The kernel's s_dev (major<<20|minor) is
// converted to stat(2)'s st_dev encoding. The name is printed with bpftrace's %r (non-printable bytes as \xNN),
// so a file name with a newline cannot forge output lines; a literal backslash in a name is not escaped by %r and
// may decode wrongly (the inode is unaffected). Names are read up to 200 bytes (BPFTRACE_STRLEN's maximum).
//
// The numbers are the kernel's for the calling convention used: a 32-bit (compat) task's calls arrive with i386
// numbers, not told apart here.
//
// Losses: bpftrace reports perf-buffer overruns as `Lost N events` on stdout; N counts records (a batch of up to
// 32 calls, or one exec/fork/exit line), passed on as sink.lost(N, "kernel"); kernelSyscalls - syscalls is the
// number of calls they held (plus what was still in the buffers when bpftrace stopped). The kernel reports an
// overrun with the next record it writes to that CPU's buffer, so a loss is told late, or, on a CPU that stays
// quiet until the end, only by that difference. Between bpftrace and the sink nothing is lost: the sink runs
// synchronously in the pipe's data handler, so a slow sink fills the pipe and blocks bpftrace, and the overflow
// shows up as kernel loss, where it is counted.
//
// bpftrace 0.17 with a newer kernel's BTF resolves struct inode and super_block to empty structs unless its
// type resolution may iterate (bpftrace issue #2500): BPFTRACE_MAX_TYPE_RES_ITERATIONS is set for that.

import { spawn } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync, readSync } from "node:fs";
import { cpus } from "node:os";
import { HomeostatError, type ErrorCode } from "../errors.js";
import type { ExeIdentity, HostCapture, HostCaptureStats, HostEventSink } from "./hostEvents.js";
import { identifyFile, identifyProcess } from "./procIdentity.js";
import { findExecutable } from "./straceCapture.js";

/** Calls per batch line: eight 64-bit words of four 16-bit call numbers. */
export const BATCH = 32;
/** 64-bit words per batch line, four call numbers each. */
const WORDS = BATCH / 4;
/** Bits of the batch state (pid << 32 | tid << COUNT_BITS | count) that hold the count, up to BATCH. */
const COUNT_BITS = 6;
const COUNT_MASK = (1 << COUNT_BITS) - 1;
/** The tid of the batch state: pid_max is at most 2^22. */
const TID_OF_STATE = `(($s >> ${COUNT_BITS}) & 0x3fffff)`;
/** Default perf ring buffer per CPU, in 4 KiB pages (bpftrace's own default is 64). */
export const DEFAULT_RING_BUFFER_PAGES = 1024;
/** Longest line the parser accepts; an exec line with a 200-byte name escaped is under 1 KiB. */
export const MAX_LINE_BYTES = 4096;
/** bpftrace's limit for string and buffer reads (BPFTRACE_STRLEN). */
const NAME_BYTES = 200;
/** Every reason eBPF capture cannot run ends by offering the per-command backend. */
export const STRACE_OFFER = "use --backend strace to watch a command or --pid instead";

// ------------------------------------------------------------------------------------------------ device numbers

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

// ------------------------------------------------------------------------------------------------ the program

export interface BpftraceScriptOptions {
  /** Processes (thread groups) whose calls are not captured, besides bpftrace itself (positional $1). */
  excludePids?: readonly number[];
}

function pidList(pids: readonly number[] | undefined): number[] {
  const out: number[] = [];
  for (const p of pids ?? []) {
    if (!Number.isInteger(p) || p < 1 || p > 0x7fffffff) {
      throw new HomeostatError("E_USAGE", `not a process id: ${p}`);
    }
    if (!out.includes(p)) out.push(p);
  }
  return out;
}

/**
 * Prints the batch of this CPU (state in $s; calls in @b[cpu * BATCH + slot]) and adds
 * its calls to @kernel_syscalls. The slots past the count hold stale numbers and are left out.
 */
function flushCode(indent: string): string {
  const words = Array.from({ length: WORDS }, (_, w) => `$w${w}`);
  const lines = [`$k = cpu * ${BATCH};`, `$w0 = @b[$k]; ${words.slice(1).map((w) => `${w} = 0;`).join(" ")}`];
  for (let j = 1; j < BATCH; j++) {
    const w = `$w${j >> 2}`;
    // `$w | @b[...]`, never a bare `@b[...]`: bpftrace 0.17 types a map read before its first write as none.
    lines.push(`if ($c > ${j}) { ${w} = ${w} | (@b[$k + ${j}] << ${16 * (j & 3)}); }`);
  }
  lines.push(
    `printf("B %d %d %d${" %lx".repeat(WORDS)}\\n", $s >> 32, ${TID_OF_STATE}, $c, ${words.join(", ")});`,
    "@kernel_syscalls = sum($c);",
  );
  return lines.map((l) => indent + l).join("\n");
}

/**
 * The bpftrace program. Its positional parameter $1 is bpftrace's own pid (see the module header); `excludePids`
 * are written into the filter as literals. Per call it makes two map updates (the slot and the state): map
 * updates are what the kernel side costs beyond the tracepoint itself, so the batch is packed only when printed.
 */
export function bpftraceScript(options: BpftraceScriptOptions = {}): string {
  const filter = ["pid != $1", ...pidList(options.excludePids).map((p) => `pid != ${p}`)].join(" && ");
  const flushIfAny = [
    "  $s = @s[cpu];",
    `  $c = $s & ${COUNT_MASK};`,
    "  if ($c > 0) {",
    flushCode("    "),
    "    @s[cpu] = 0;",
    "  }",
  ].join("\n");
  return [
    'BEGIN { printf("R\\n"); }',
    `tracepoint:raw_syscalls:sys_enter /${filter}/ {`,
    "  $s = @s[cpu];",
    `  $c = $s & ${COUNT_MASK};`,
    `  if ($c > 0 && ${TID_OF_STATE} != tid) {`,
    flushCode("    "),
    "    $c = 0;",
    "  }",
    "  $v = args->id;",
    "  if ($v < 0 || $v > 65534) { $v = 65535; }",
    `  @b[cpu * ${BATCH} + $c] = $v;`,
    "  $c = $c + 1;",
    `  $s = (pid << 32) | (tid << ${COUNT_BITS}) | $c;`,
    `  if ($c == ${BATCH}) {`,
    flushCode("    "),
    "    $s = 0;",
    "  }",
    "  @s[cpu] = $s;",
    "}",
    "tracepoint:sched:sched_switch, profile:hz:10 {",
    flushIfAny,
    "}",
    // Two programs on one tracepoint run in the order they were attached, which is the order here: the flush
    // first. One program with both would pass the 512-byte BPF stack (the name buffer and the batch's words).
    "tracepoint:sched:sched_process_exec {",
    flushIfAny,
    "}",
    "tracepoint:sched:sched_process_exec {",
    "  $i = curtask->mm->exe_file->f_inode;",
    '  printf("E %d %d %d %lu %u %r\\n", pid, tid, args->old_pid, $i->i_ino, $i->i_sb->s_dev,',
    `    buf(args->filename, ${NAME_BYTES}));`,
    "}",
    // task_newtask, not sched_process_fork: it has clone_flags, so a thread (CLONE_THREAD) gets its process's pid.
    "tracepoint:task:task_newtask {",
    flushIfAny,
    '  printf("F %d %d %d %d\\n", pid, tid, (args->clone_flags & 0x10000) ? pid : args->pid, args->pid);',
    "}",
    "tracepoint:sched:sched_process_exit {",
    flushIfAny,
    '  printf("X %d %d\\n", pid, tid);',
    "}",
    // Cleared so that bpftrace's dump of every map at exit prints nothing but `@kernel_syscalls: 0`.
    "END {",
    "  print(@kernel_syscalls);",
    "  clear(@kernel_syscalls); clear(@s); clear(@b);",
    "}",
    "",
  ].join("\n");
}

// ------------------------------------------------------------------------------------------------ exec paths

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

// ------------------------------------------------------------------------------------------------ the parser

export interface BpftraceParserOptions {
  sink: HostEventSink;
  /** How exec lines are named (default procExeIdentity; tests pass a pure one). */
  resolveExe?: ExeResolver;
  /** Called once when the program's BEGIN line arrives: every probe is attached. */
  onReady?: () => void;
  /** Lines longer than this are skipped (default MAX_LINE_BYTES). */
  maxLineBytes?: number;
}

const SP = 0x20;
const NL = 0x0a;

/**
 * Streams bpftrace's stdout (in chunks split anywhere) into a HostEventSink. Batch lines are decoded straight from
 * the chunk's bytes with no allocation; only a line split across chunks is copied, into one reused buffer. Rare
 * lines (exec, fork, exit, losses, counts) are decoded as strings. A malformed line is counted, never thrown.
 */
export class BpftraceOutputParser {
  /** Call events delivered to the sink. */
  syscalls = 0;
  /** Records bpftrace reported lost (`Lost N events`). */
  lost = 0;
  /** The in-kernel count of calls that passed the filter (from END), when seen. */
  kernelSyscalls: number | undefined;
  skippedLines = 0;
  execs = 0;
  forks = 0;
  exits = 0;
  /** Probes bpftrace said it attaches (`Attaching N probes...`). */
  probes = 0;
  /** The BEGIN line arrived. */
  ready = false;
  /** The first few lines that could not be parsed (for diagnosis; at most 5, each cut to 200 characters). */
  readonly unknownLines: string[] = [];

  private readonly sink: HostEventSink;
  private readonly resolveExe: ExeResolver;
  private readonly onReady: (() => void) | undefined;
  private readonly maxLine: number;
  private readonly carry: Uint8Array;
  private carryLen = 0;
  /** Inside a line already longer than maxLine: dropped up to its newline. */
  private overlong = false;
  /** lo, hi 32-bit halves of the words of the batch being decoded. */
  private readonly words = new Uint32Array(2 * WORDS);
  private num = 0;

  constructor(options: BpftraceParserOptions) {
    this.sink = options.sink;
    this.resolveExe = options.resolveExe ?? procExeIdentity;
    this.onReady = options.onReady;
    this.maxLine = options.maxLineBytes ?? MAX_LINE_BYTES;
    this.carry = new Uint8Array(this.maxLine);
  }

  /** Parses a chunk; `time` (epoch seconds) is given to every event completed by it. */
  write(chunk: Uint8Array, time: number = Date.now() / 1000): void {
    const n = chunk.length;
    let start = 0;
    if (this.carryLen > 0 || this.overlong) {
      const nl = chunk.indexOf(NL);
      if (nl < 0) {
        this.keep(chunk, 0, n);
        return;
      }
      this.keep(chunk, 0, nl);
      if (this.overlong) this.skip(undefined);
      else this.line(this.carry, 0, this.carryLen, time);
      this.carryLen = 0;
      this.overlong = false;
      start = nl + 1;
    }
    while (start < n) {
      const nl = chunk.indexOf(NL, start);
      if (nl < 0) {
        this.keep(chunk, start, n);
        return;
      }
      if (nl - start > this.maxLine) this.skip(undefined);
      else this.line(chunk, start, nl, time);
      start = nl + 1;
    }
  }

  /** The output ended: a last line without its newline was cut short (bpftrace killed), so it is skipped. */
  end(): void {
    if (this.carryLen > 0 || this.overlong) this.skip(undefined);
    this.carryLen = 0;
    this.overlong = false;
  }

  private keep(chunk: Uint8Array, from: number, to: number): void {
    if (this.overlong) return;
    const len = to - from;
    if (this.carryLen + len > this.maxLine) {
      this.overlong = true;
      this.carryLen = 0;
      return;
    }
    this.carry.set(chunk.subarray(from, to), this.carryLen);
    this.carryLen += len;
  }

  private skip(text: string | undefined): void {
    this.skippedLines++;
    if (text !== undefined && this.unknownLines.length < 5) this.unknownLines.push(text.slice(0, 200));
  }

  private line(b: Uint8Array, s: number, e: number, time: number): void {
    if (e === s) return; // bpftrace prints blank lines after a map
    if (b[s] === 0x42 && b[s + 1] === SP) {
      if (!this.batch(b, s + 2, e, time)) this.skip(latin1(b, s, e));
      return;
    }
    this.rare(latin1(b, s, e), time);
  }

  /** Decimal digits at i (at most 10): the value in this.num, the index after them, or -1. */
  private dec(b: Uint8Array, i: number, e: number): number {
    let v = 0;
    const i0 = i;
    while (i < e) {
      const c = b[i]!;
      if (c < 0x30 || c > 0x39) break;
      v = v * 10 + (c - 0x30);
      i++;
    }
    if (i === i0 || i - i0 > 10) return -1;
    this.num = v;
    return i;
  }

  /** `pid tid n w0 .. w7` from index i; false when malformed (nothing delivered then). */
  private batch(b: Uint8Array, i: number, e: number, time: number): boolean {
    i = this.dec(b, i, e);
    if (i < 0 || b[i] !== SP) return false;
    const pid = this.num;
    i = this.dec(b, i + 1, e);
    if (i < 0 || b[i] !== SP) return false;
    const tid = this.num;
    i = this.dec(b, i + 1, e);
    if (i < 0 || b[i] !== SP) return false;
    const count = this.num;
    if (count < 1 || count > BATCH) return false;
    const words = this.words;
    for (let w = 0; w < WORDS; w++) {
      i++;
      let lo = 0;
      let hi = 0;
      const i0 = i;
      while (i < e) {
        const c = b[i]!;
        let d: number;
        if (c >= 0x30 && c <= 0x39) d = c - 0x30;
        else if (c >= 0x61 && c <= 0x66) d = c - 0x57;
        else break;
        hi = ((hi << 4) | (lo >>> 28)) >>> 0;
        lo = ((lo << 4) | d) >>> 0;
        i++;
      }
      if (i === i0 || i - i0 > 16) return false;
      if (w < WORDS - 1 ? b[i] !== SP : i !== e) return false;
      words[w * 2] = lo;
      words[w * 2 + 1] = hi;
    }
    const sink = this.sink;
    for (let k = 0; k < count; k++) {
      const half = words[(k >> 1)]!; // word k>>2, half (k>>1)&1: index 2*(k>>2) + ((k>>1)&1) === k>>1
      const nr = k & 1 ? half >>> 16 : half & 0xffff;
      sink.syscall(pid, tid, nr === 0xffff ? -1 : nr, time);
    }
    this.syscalls += count;
    return true;
  }

  private rare(text: string, time: number): void {
    const f = text.split(" ");
    const head = f[0];
    if (head === "E" && f.length >= 7) {
      const [pid, tid, oldTid, ino, kdev] = [f[1], f[2], f[3], f[4], f[5]].map(decimal);
      if (pid !== undefined && tid !== undefined && oldTid !== undefined && ino !== undefined && kdev !== undefined) {
        // The name is the rest of the line: %r never prints a newline, but a name may hold spaces.
        const escaped = text.slice(f.slice(0, 6).join(" ").length + 1);
        const filename = unescapeName(escaped);
        // A thread other than the leader exec'd: it took over the leader's pid, and its old tid ended.
        if (oldTid !== tid) this.sink.exit(pid, oldTid, time);
        this.sink.exec(pid, tid, this.resolveExe(pid, kernelDevToUserDev(kdev), ino, filename), time);
        this.execs++;
        return;
      }
    } else if (head === "F" && f.length === 5) {
      const [ppid, ptid, cpid, ctid] = [f[1], f[2], f[3], f[4]].map(decimal);
      if (ppid !== undefined && ptid !== undefined && cpid !== undefined && ctid !== undefined) {
        this.sink.fork(ppid, ptid, cpid, ctid, time);
        this.forks++;
        return;
      }
    } else if (head === "X" && f.length === 3) {
      const [pid, tid] = [f[1], f[2]].map(decimal);
      if (pid !== undefined && tid !== undefined) {
        this.sink.exit(pid, tid, time);
        this.exits++;
        return;
      }
    } else if (head === "Lost" && f.length === 3 && f[2] === "events") {
      const n = decimal(f[1]);
      if (n !== undefined) {
        this.lost += n;
        this.sink.lost(n, "kernel", time);
        return;
      }
    } else if (head === "@kernel_syscalls:" && f.length === 2) {
      const n = decimal(f[1]);
      if (n !== undefined) {
        // Printed by END, then again as 0 by bpftrace's dump of maps at exit: the count only grows.
        this.kernelSyscalls = Math.max(this.kernelSyscalls ?? 0, n);
        return;
      }
    } else if (head === "Attaching" && f.length === 3 && /^probes?\.\.\.$/.test(f[2]!)) {
      const n = decimal(f[1]);
      if (n !== undefined) {
        this.probes = n;
        return;
      }
    } else if (text === "R") {
      if (!this.ready) {
        this.ready = true;
        this.onReady?.();
      }
      return;
    }
    this.skip(text);
  }
}

function latin1(b: Uint8Array, s: number, e: number): string {
  return Buffer.from(b.buffer, b.byteOffset + s, e - s).toString("latin1");
}

function decimal(s: string | undefined): number | undefined {
  if (s === undefined || !/^\d{1,20}$/.test(s)) return undefined;
  return Number(s);
}

/** bpftrace's %r of a name buffer back to the name: \xNN escapes decoded, cut at the first NUL, read as UTF-8. */
export function unescapeName(escaped: string): string {
  const bytes = Buffer.alloc(escaped.length);
  let n = 0;
  for (let i = 0; i < escaped.length; i++) {
    const c = escaped.charCodeAt(i);
    if (c === 0x5c && escaped[i + 1] === "x" && /^[0-9a-fA-F]{2}$/.test(escaped.slice(i + 2, i + 4))) {
      const v = Number.parseInt(escaped.slice(i + 2, i + 4), 16);
      if (v === 0) break;
      bytes[n++] = v;
      i += 3;
    } else bytes[n++] = c & 0xff;
  }
  return bytes.toString("utf8", 0, n);
}

/** The escaping bpftrace's %r applies to a buffer: printable ASCII as is, every other byte as \xNN. */
export function escapeName(bytes: Uint8Array): string {
  let s = "";
  for (const c of bytes) s += c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, "0")}`;
  return s;
}

// ------------------------------------------------------------------------------------------------ availability

interface Unavailable {
  code: ErrorCode;
  reason: string;
}

const CAP_SYS_ADMIN = 21n;
const CAP_PERFMON = 38n;
const CAP_BPF = 39n;

function effectiveCaps(): bigint | undefined {
  try {
    const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync("/proc/self/status", "utf8"));
    return m ? BigInt(`0x${m[1]}`) : undefined;
  } catch {
    return undefined;
  }
}

function hasCap(caps: bigint, cap: bigint): boolean {
  return ((caps >> cap) & 1n) === 1n;
}

/** The kernel's active lockdown mode (the bracketed word of /sys/kernel/security/lockdown), when there is one. */
function lockdownMode(): string | undefined {
  try {
    return /\[(\w+)\]/.exec(readFileSync("/sys/kernel/security/lockdown", "utf8"))?.[1];
  } catch {
    return undefined;
  }
}

const TRACEFS_EVENTS = ["/sys/kernel/tracing/events", "/sys/kernel/debug/tracing/events"];

function sentence(what: string): string {
  return `${what}; ${STRACE_OFFER}`;
}

const TRACEFS_REASON = sentence(
  "tracefs is not mounted, so the kernel's tracepoints cannot be found (mount it: `mount -t tracefs tracefs /sys/kernel/tracing`)",
);
const PERMISSION_REASON = sentence(
  "system-wide eBPF capture needs root (or the CAP_BPF and CAP_PERFMON capabilities): run homeostat as root",
);

function check(env: NodeJS.ProcessEnv): Unavailable | { bpftrace: string } {
  const bpftrace = findExecutable("bpftrace", env.PATH);
  if (bpftrace === undefined) {
    return { code: "E_DEPENDENCY", reason: sentence("bpftrace is not installed (apt-get install bpftrace)") };
  }
  const caps = effectiveCaps();
  const root = process.getuid?.() === 0;
  const capable =
    caps !== undefined
      ? hasCap(caps, CAP_SYS_ADMIN) || (hasCap(caps, CAP_BPF) && hasCap(caps, CAP_PERFMON))
      : root;
  if (!capable) return { code: "E_PERMISSION", reason: PERMISSION_REASON };
  // Integrity lockdown leaves eBPF reads and tracefs alone; confidentiality forbids both.
  if (lockdownMode() === "confidentiality") {
    return {
      code: "E_PERMISSION",
      reason: sentence(
        "the kernel is locked down in confidentiality mode (/sys/kernel/security/lockdown), which forbids eBPF programs to read kernel memory and use tracefs",
      ),
    };
  }
  if (!existsSync("/sys/kernel/btf/vmlinux")) {
    return {
      code: "E_DEPENDENCY",
      reason: sentence(
        "the kernel has no BTF type information (/sys/kernel/btf/vmlinux is missing; it needs a kernel built with CONFIG_DEBUG_INFO_BTF=y), which bpftrace needs to read each process's executable",
      ),
    };
  }
  if (!TRACEFS_EVENTS.some((dir) => existsSync(`${dir}/raw_syscalls/sys_enter`))) {
    return { code: "E_DEPENDENCY", reason: TRACEFS_REASON };
  }
  return { bpftrace };
}

/** Undefined when system-wide eBPF capture can run here; otherwise one sentence saying why and what to do. */
export function bpftraceUnavailableReason(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const c = check(env);
  return "reason" in c ? c.reason : undefined;
}

// ------------------------------------------------------------------------------------------------ the capture

export interface BpftraceCaptureOptions {
  sink: HostEventSink;
  /** More processes whose calls are not captured (homeostat's own pid and bpftrace's always are). */
  excludePids?: readonly number[];
  /** Perf ring buffer per CPU in 4 KiB pages, a power of two (default DEFAULT_RING_BUFFER_PAGES, scaled down on
   * hosts with more than 64 CPUs so that the buffers stay within 256 MiB). */
  ringBufferPages?: number;
  /** Environment of bpftrace and where it is looked up (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** bpftrace's stderr, line by line (its harmless RLIMIT_MEMLOCK warning left out). */
  onMessage?: (line: string) => void;
  /** Milliseconds stop() waits after SIGINT (bpftrace then runs END) before SIGKILL (default 5000). */
  graceMs?: number;
  /** How exec lines are named (default procExeIdentity). */
  resolveExe?: ExeResolver;
}

export interface BpftraceCapture extends HostCapture {
  /** bpftrace's pid. */
  readonly tracerPid: number;
  /** Resolves when every probe is attached (events from then on are captured); rejects like `done` when
   * bpftrace fails to start. */
  readonly ready: Promise<void>;
}

/** One more than the highest CPU id the kernel may use (/sys/devices/system/cpu/possible, e.g. `0-63`). */
function cpuIdLimit(): number {
  try {
    const ids = readFileSync("/sys/devices/system/cpu/possible", "utf8").match(/\d+/g)?.map(Number) ?? [];
    if (ids.length > 0) return Math.max(...ids) + 1;
  } catch {
    // not Linux's sysfs: the CPUs Node sees
  }
  return Math.max(1, cpus().length);
}

function defaultPages(): number {
  const n = Math.max(1, cpus().length);
  let pages = DEFAULT_RING_BUFFER_PAGES;
  while (pages > 16 && pages * 4096 * n > 256 * 1024 * 1024) pages /= 2;
  return pages;
}

const HARMLESS = /couldn't set RLIMIT_MEMLOCK|available_filter_functions/;

/**
 * Starts capturing every system call on the host. Throws at once when eBPF capture cannot run here (E_DEPENDENCY
 * or E_PERMISSION, with bpftraceUnavailableReason's sentence); a bpftrace that fails to start rejects `ready` and
 * `done` with one diagnosed sentence.
 */
export function startBpftraceCapture(options: BpftraceCaptureOptions): BpftraceCapture {
  const env = options.env ?? process.env;
  const pages = options.ringBufferPages ?? defaultPages();
  if (!Number.isInteger(pages) || pages < 1 || (pages & (pages - 1)) !== 0 || pages > 1 << 20) {
    throw new HomeostatError("E_USAGE", `the ring buffer size must be a power of two of pages, not ${pages}`);
  }
  const script = bpftraceScript({ excludePids: [process.pid, ...(options.excludePids ?? [])] });
  const found = check(env);
  if ("reason" in found) throw new HomeostatError(found.code, found.reason);

  let readyResolve!: () => void;
  let readyReject!: (err: unknown) => void;
  const ready = new Promise<void>((resolve, reject) => {
    readyResolve = resolve;
    readyReject = reject;
  });
  // A caller that only awaits `done` must not see an unhandled rejection of `ready`.
  ready.catch(() => undefined);

  const parser = new BpftraceOutputParser({
    sink: options.sink,
    resolveExe: options.resolveExe,
    onReady: () => readyResolve(),
  });

  const startedAt = Date.now() / 1000;
  // `exec` keeps the shell's pid, so "$$" is bpftrace's own pid: its positional parameter $1.
  const child = spawn("/bin/sh", ["-c", 'exec "$0" "$@" "$$"', found.bpftrace, "-e", script], {
    env: {
      ...env,
      BPFTRACE_PERF_RB_PAGES: String(pages),
      BPFTRACE_STRLEN: String(NAME_BYTES),
      BPFTRACE_MAX_TYPE_RES_ITERATIONS: "4",
      // @b holds BATCH slots per CPU; bpftrace's default of 4096 keys would do for 256 CPUs only.
      BPFTRACE_MAP_KEYS_MAX: String(Math.max(4096, cpuIdLimit() * BATCH)),
    },
    stdio: ["ignore", "pipe", "pipe"],
    // Its own session: a terminal's Ctrl-C must not end it behind homeostat's back; only stop() does. If
    // homeostat dies, bpftrace's next write to the closed pipe ends it.
    detached: true,
  });
  const tracerPid = child.pid ?? -1;

  const messages: string[] = [];
  let failure: unknown;
  let stopped = false;
  let exited = false;
  let timer: NodeJS.Timeout | undefined;

  const kill = (signal: NodeJS.Signals): void => {
    if (exited || tracerPid < 0) return;
    try {
      process.kill(tracerPid, signal);
    } catch {
      // already gone
    }
  };
  const stop = (): void => {
    if (exited) return;
    if (stopped) {
      // A second request: skip the grace period.
      if (timer !== undefined) clearTimeout(timer);
      kill("SIGKILL");
      return;
    }
    stopped = true;
    kill("SIGINT");
    timer = setTimeout(() => kill("SIGKILL"), options.graceMs ?? 5000);
  };

  child.stdout!.on("data", (chunk: Buffer) => {
    if (failure !== undefined) return; // drained and dropped while bpftrace is being stopped
    try {
      parser.write(chunk, Date.now() / 1000);
    } catch (err) {
      failure = err;
      stop();
    }
  });

  let carry = "";
  child.stderr!.setEncoding("utf8");
  const message = (line: string): void => {
    if (messages.length < 100) messages.push(line);
    if (!HARMLESS.test(line)) options.onMessage?.(line);
  };
  child.stderr!.on("data", (s: string) => {
    carry += s;
    let nl = carry.indexOf("\n");
    while (nl >= 0) {
      message(carry.slice(0, nl));
      carry = carry.slice(nl + 1);
      nl = carry.indexOf("\n");
    }
  });

  const finished = new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>(
    (resolve) => {
      child.on("error", (error) => {
        exited = true;
        resolve({ code: null, signal: null, error });
      });
      // "close" comes after stdout and stderr have ended: every line has been parsed.
      child.on("close", (code, signal) => {
        exited = true;
        resolve({ code, signal });
      });
    },
  );

  const done = (async (): Promise<HostCaptureStats> => {
    const { code, signal, error } = await finished;
    if (timer !== undefined) clearTimeout(timer);
    if (carry !== "") message(carry);
    parser.end();
    if (failure === undefined && error !== undefined) {
      failure = new HomeostatError("E_DEPENDENCY", sentence(`cannot run bpftrace (${error.message})`), {}, {
        cause: error,
      });
    }
    if (failure === undefined && !parser.ready && !stopped) failure = diagnoseBpftraceStart(code, signal, messages);
    if (failure === undefined && !stopped) {
      failure = new HomeostatError(
        "E_DEPENDENCY",
        sentence(`bpftrace ended on its own (${exitText(code, signal)}${firstError(messages, ": ")})`),
      );
    }
    if (failure !== undefined) {
      readyReject(failure);
      throw failure;
    }
    // Stopped before it was ready: nothing was captured, which is not an error.
    readyResolve();
    const stats: HostCaptureStats = {
      backend: "bpftrace",
      syscalls: parser.syscalls,
      lost: parser.lost,
      skippedLines: parser.skippedLines,
      startedAt,
      endedAt: Date.now() / 1000,
    };
    if (parser.kernelSyscalls !== undefined) stats.kernelSyscalls = parser.kernelSyscalls;
    return stats;
  })();

  return { backend: "bpftrace", tracerPid, ready, done, stop };
}

function exitText(code: number | null, signal: NodeJS.Signals | null): string {
  return signal !== null ? `killed by ${signal}` : `exit status ${code ?? "?"}`;
}

/** The first ERROR line of bpftrace's stderr (without the harmless ones), prefixed, or "". */
function firstError(messages: readonly string[], prefix: string): string {
  const line =
    messages.find((l) => /ERROR/.test(l) && !HARMLESS.test(l)) ??
    messages.find((l) => l.trim() !== "" && !HARMLESS.test(l));
  return line === undefined ? "" : `${prefix}${line.replace(/^.*?ERROR:\s*/, "").trim()}`;
}

/** Why bpftrace ended before its probes were attached, in one sentence, from its exit and its stderr lines. */
export function diagnoseBpftraceStart(
  code: number | null,
  signal: NodeJS.Signals | null,
  messages: readonly string[],
): HomeostatError {
  const text = messages.filter((l) => !HARMLESS.test(l)).join("\n");
  const first = firstError(messages, "");
  const why = first === "" ? "" : ` (${first})`;
  if (/tracepoint not found|Could not read symbols|No such file or directory.*tracing/i.test(text)) {
    return new HomeostatError("E_DEPENDENCY", TRACEFS_REASON);
  }
  if (/Operation not permitted|EPERM|Permission denied|must be run as root/i.test(text)) {
    return new HomeostatError(
      "E_PERMISSION",
      sentence(
        `the kernel refused bpftrace's eBPF program${why}: run homeostat as root, outside a container or in one with CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN`,
      ),
    );
  }
  if (/does not contain a field named|Unknown struct/.test(text)) {
    return new HomeostatError(
      "E_DEPENDENCY",
      sentence(`this bpftrace cannot read the kernel's types${why}: a newer bpftrace may`),
    );
  }
  return new HomeostatError(
    "E_DEPENDENCY",
    sentence(`bpftrace failed to start (${exitText(code, signal)}${firstError(messages, ": ")})`),
  );
}
