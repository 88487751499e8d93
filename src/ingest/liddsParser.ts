// The LID-DS 2021 `.sc` format (Grimmer et al., "Dataset Report: LID-DS 2021", CRITIS 2022): sysdig text output
// written by LID-DS's exporter with the field list
//   %evt.rawtime %user.uid %proc.pid %proc.name %thread.tid %syscall.type %evt.dir %evt.args
// i.e. one event per line,
//   <timestamp_ns> <user_id> <pid> <process_name> <tid> <syscall> <direction> [args...]
//   1631078867467776775 33 2902774 apache2 2902774 read > fd=13(<f>/dev/urandom) size=512
// Streams are threads (stream = tid). Enter/exit events become one call each as sysdigCalls.ts describes: a call
// is timestamped at its enter and carries the return value of its exit. Time is seconds since the epoch. The
// 19-digit nanosecond count exceeds 2^53, so its seconds and nanoseconds are parsed apart and joined as
// seconds + ns / 1e9, within float64 resolution (about 0.24 us at 1.6e9 s) of the exact value.
//
// A process name may contain spaces (Linux comm allows them), so fields after the pid are found from the
// direction token back: `<tid> <syscall> <dir>` are the three tokens ending at the first lone `>`/`<` token.

import * as byteScan from "./byteScan.js";
import type { ParserOptions, TraceFormat, TraceParser } from "./format.js";
import { hasEventDirection } from "./formatHints.js";
import { isEventName, type SysdigCallOptions } from "./sysdigCalls.js";
import { SysdigTextParser } from "./sysdigTextParser.js";

// Bound to module constants rather than used as imported names (see byteScan.ts).
const { skipSpaces, tokenEnd } = byteScan;

const SP = 32;

/** Creates a LID-DS 2021 parser; `calls` chooses how enter/exit events count (see sysdigCalls.ts). */
export function createLidds2021Parser(options: ParserOptions, calls: SysdigCallOptions = {}): TraceParser {
  return new Lidds2021Parser(options, calls);
}

class Lidds2021Parser extends SysdigTextParser {
  /** The time of the line being parsed, set by readTimestamp. */
  private time = 0;

  protected parseLine(bytes: Uint8Array, start: number, end: number): number {
    let i = this.readTimestamp(bytes, start, end);
    if (i < 0) return this.fail(1, "expected a timestamp in nanoseconds");
    // <user_id> <pid>: any non-blank tokens.
    i = skipSpaces(bytes, i, end);
    const uidStart = i;
    i = tokenEnd(bytes, i, end);
    if (i === uidStart) return this.fail(i - start + 1, "expected a user id");
    i = skipSpaces(bytes, i, end);
    const pidStart = i;
    i = tokenEnd(bytes, i, end);
    if (i === pidStart) return this.fail(i - start + 1, "expected a process id");
    return this.readCall(bytes, start, skipSpaces(bytes, i, end), end);
  }

  /** <timestamp_ns> into `time`; returns the end of its digits, or -1. */
  private readTimestamp(bytes: Uint8Array, start: number, end: number): number {
    let i = start;
    while (i < end && bytes[i]! >= 48 && bytes[i]! <= 57) i++;
    const tsEnd = i;
    if (tsEnd === start || tsEnd - start > 20 || (i < end && bytes[i] !== SP)) return -1;
    const split = Math.max(start, tsEnd - 9);
    let seconds = 0;
    for (let k = start; k < split; k++) seconds = seconds * 10 + (bytes[k]! - 48);
    let nanos = 0;
    for (let k = split; k < tsEnd; k++) nanos = nanos * 10 + (bytes[k]! - 48);
    this.time = seconds + nanos / 1e9;
    return tsEnd;
  }

  /** <process_name ...> <tid> <syscall> <direction> [args], the name starting at `nameStart`. */
  private readCall(bytes: Uint8Array, start: number, nameStart: number, end: number): number {
    // The first lone direction token with two tokens and a non-empty name before it.
    if (!this.findDirection(bytes, nameStart, end, 2)) {
      return this.fail(nameStart - start + 1, "expected `<process_name> <tid> <syscall> <direction>`");
    }
    const tid = parseTid(bytes, this.tok2Start, this.tok2End);
    if (tid < 0) return this.fail(this.tok2Start - start + 1, "expected a thread id");
    const sysStart = this.tok1Start;
    const sysEnd = this.tok1End;
    if (!isEventName(bytes, sysStart, sysEnd)) return this.fail(sysStart - start + 1, "expected a syscall name");
    // The process name runs from nameStart to the space before the tid.
    const commEnd = this.nameEnd(bytes, nameStart, this.tok2Start);
    const dirAt = this.dirAt;
    const argsStart = skipSpaces(bytes, dirAt + 1, end);
    this.assembler.event(
      bytes,
      tid,
      nameStart,
      commEnd,
      sysStart,
      sysEnd,
      bytes[dirAt] === 62,
      this.time,
      argsStart,
      end,
    );
    return 0;
  }
}

/** A thread id: decimal digits below 2^31, or -1. */
export function parseTid(bytes: Uint8Array, start: number, end: number): number {
  if (end <= start || end - start > 10) return -1;
  let v = 0;
  for (let k = start; k < end; k++) {
    const c = bytes[k]!;
    if (c < 48 || c > 57) return -1;
    v = v * 10 + (c - 48);
  }
  return v <= 0x7fffffff ? v : -1;
}

const LINE_2021 = /^\d{10,20} +\S+ +\S+ +.+? +\d{1,10} +(?:[A-Za-z0-9_]{1,64}|<NA>) +[<>](?: |$)/;

/**
 * Scores the first complete lines of `head` against a line pattern (shared by both LID-DS formats, whose patterns
 * both require an event direction: see hasEventDirection).
 */
export function sniffLines(head: Uint8Array, pattern: RegExp): number {
  // A head that cannot match is refused before any line is decoded (a folder of number lists is thousands of
  // sniffs, each of which would decode a whole one-line head).
  if (!hasEventDirection(head)) return 0;
  try {
    // A full head whose last line is cut: that line is not judged. Only the lines looked at are decoded.
    const lastNl = head.lastIndexOf(10);
    const end = lastNl >= 0 && lastNl < head.length - 1 && head.length >= 65_536 ? lastNl : head.length;
    let seen = 0;
    for (let start = 0; start < end && seen < 10;) {
      let stop = head.indexOf(10, start);
      if (stop < 0 || stop > end) stop = end;
      const raw = Buffer.from(head.buffer, head.byteOffset + start, stop - start).toString("latin1");
      start = stop + 1;
      const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
      if (line.trim().length === 0) continue;
      if (!pattern.test(line)) return 0;
      seen++;
    }
    return seen > 0 ? 0.9 : 0;
  } catch {
    return 0;
  }
}

export const lidds2021Format: TraceFormat = {
  name: "lidds2021",
  description: "LID-DS 2021 sysdig text (.sc): <ns> <uid> <pid> <comm> <tid> <syscall> <dir> [args], per thread",
  sniff(head: Uint8Array, path: string): number {
    const score = sniffLines(head, LINE_2021);
    return score > 0 && path.endsWith(".sc") ? 0.95 : score;
  },
  createParser(options: ParserOptions): TraceParser {
    return createLidds2021Parser(options);
  },
};
