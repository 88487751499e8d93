// Reads bpftrace's output of the capture program (bpftraceScript.ts) into a HostEventSink: batch lines
// `B pid tid n w0 .. w7` of 16-bit call numbers, `E`/`F`/`X` lines for exec, fork and exit, and bpftrace's own
// `Lost N events`, `Attaching N probes...` and `@kernel_syscalls: N` lines (docs/ebpf-capture.md).

import * as byteScan from "../ingest/byteScan.js";
import * as script from "./bpftraceScript.js";
import { type ExeResolver, kernelDevToUserDev, procExeIdentity } from "./execIdentity.js";
import type { HostEventSink } from "./hostEvents.js";

// Bound to module constants rather than used as imported names (see ingest/byteScan.ts).
const { isDigit, latin1 } = byteScan;
const { BATCH, WORDS } = script;

const NL = 0x0a;
const SP = 0x20;

/** Longest line the parser accepts; an exec line with a 200-byte name escaped is under 1 KiB. */
export const MAX_LINE_BYTES = 4096;

export interface BpftraceParserOptions {
  sink: HostEventSink;
  /** How exec lines are named (default procExeIdentity; tests pass a pure one). */
  resolveExe?: ExeResolver;
  /** Called once when the program's BEGIN line arrives: every probe is attached. */
  onReady?: () => void;
  /** Lines longer than this are skipped (default MAX_LINE_BYTES). */
  maxLineBytes?: number;
}

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
    const i0 = i;
    let v = 0;
    for (; i < e && isDigit(b[i]!); i++) v = v * 10 + (b[i]! - 0x30);
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
      const half = words[k >> 1]!; // word k>>2, half (k>>1)&1: index 2*(k>>2) + ((k>>1)&1) === k>>1
      const nr = k & 1 ? half >>> 16 : half & 0xffff;
      sink.syscall(pid, tid, nr === 0xffff ? -1 : nr, time);
    }
    this.syscalls += count;
    return true;
  }

  private rare(text: string, time: number): void {
    const f = text.split(" ");
    if (!this.rareLine(f, text, time)) this.skip(text);
  }

  /** Delivers a line that is not a batch; false when it is malformed or unknown. */
  private rareLine(f: string[], text: string, time: number): boolean {
    switch (f[0]) {
      case "E":
        return f.length >= 7 && this.execLine(f, text, time);
      case "F":
        return f.length === 5 && this.forkLine(f, time);
      case "X":
        return f.length === 3 && this.exitLine(f, time);
      case "Lost":
        return f.length === 3 && f[2] === "events" && this.lostLine(f, time);
      case "@kernel_syscalls:":
        return f.length === 2 && this.countLine(f);
      case "Attaching":
        return f.length === 3 && /^probes?\.\.\.$/.test(f[2]!) && this.attachLine(f);
      default:
        return text === "R" && this.readyLine();
    }
  }

  /** `E pid tid old_tid ino s_dev name`. */
  private execLine(f: string[], text: string, time: number): boolean {
    const [pid, tid, oldTid, ino, kdev] = [f[1], f[2], f[3], f[4], f[5]].map(decimal);
    if (pid === undefined || tid === undefined || oldTid === undefined || ino === undefined || kdev === undefined) {
      return false;
    }
    // The name is the rest of the line: %r never prints a newline, but a name may hold spaces.
    const escaped = text.slice(f.slice(0, 6).join(" ").length + 1);
    const filename = unescapeName(escaped);
    // A thread other than the leader exec'd: it took over the leader's pid, and its old tid ended.
    if (oldTid !== tid) this.sink.exit(pid, oldTid, time);
    this.sink.exec(pid, tid, this.resolveExe(pid, kernelDevToUserDev(kdev), ino, filename), time);
    this.execs++;
    return true;
  }

  /** `F parent_pid parent_tid child_pid child_tid`. */
  private forkLine(f: string[], time: number): boolean {
    const [ppid, ptid, cpid, ctid] = [f[1], f[2], f[3], f[4]].map(decimal);
    if (ppid === undefined || ptid === undefined || cpid === undefined || ctid === undefined) return false;
    this.sink.fork(ppid, ptid, cpid, ctid, time);
    this.forks++;
    return true;
  }

  /** `X pid tid`. */
  private exitLine(f: string[], time: number): boolean {
    const [pid, tid] = [f[1], f[2]].map(decimal);
    if (pid === undefined || tid === undefined) return false;
    this.sink.exit(pid, tid, time);
    this.exits++;
    return true;
  }

  /** `Lost N events`: N records (batches or task lines) the kernel dropped. */
  private lostLine(f: string[], time: number): boolean {
    const n = decimal(f[1]);
    if (n === undefined) return false;
    this.lost += n;
    this.sink.lost(n, "kernel", time);
    return true;
  }

  /** `@kernel_syscalls: N`: printed by END, then again as 0 by bpftrace's dump of maps at exit, so it only grows. */
  private countLine(f: string[]): boolean {
    const n = decimal(f[1]);
    if (n === undefined) return false;
    this.kernelSyscalls = Math.max(this.kernelSyscalls ?? 0, n);
    return true;
  }

  /** `Attaching N probes...`. */
  private attachLine(f: string[]): boolean {
    const n = decimal(f[1]);
    if (n === undefined) return false;
    this.probes = n;
    return true;
  }

  /** `R`, printed by BEGIN: every probe is attached. */
  private readyLine(): boolean {
    if (!this.ready) {
      this.ready = true;
      this.onReady?.();
    }
    return true;
  }
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
