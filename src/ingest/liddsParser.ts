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
import { badLine, LineSplitter, lineError, type ParserOptions, type TraceFormat, type TraceParser } from "./format.js";
import { isEventName, SysdigCallAssembler, type SysdigCallOptions } from "./sysdigCalls.js";

// Bound to module constants rather than used as imported names (see byteScan.ts).
const { skipSpaces, tokenEnd } = byteScan;

const SP = 32;
const MAX_FIELDS_SCANNED = 64;

/** Creates a LID-DS 2021 parser; `calls` chooses how enter/exit events count (see sysdigCalls.ts). */
export function createLidds2021Parser(options: ParserOptions, calls: SysdigCallOptions = {}): TraceParser {
  const assembler = new SysdigCallAssembler(options.vocab, options.sink, options.keepArgs === true, calls);
  const file = options.file;
  const onLine = (bytes: Uint8Array, start: number, end: number, line: number): void => {
    // Trailing spaces: LID-DS lines end with one.
    while (end > start && bytes[end - 1] === SP) end--;
    if (end === start) return;
    const col = parseLine(bytes, start, end);
    if (col > 0) badLine(options, lineError(file, line, col, errorMessage, bytes, start, end));
  };
  // Parses one line (trailing spaces removed) into the assembler; returns 0, or the 1-based column of an error
  // whose message it leaves in errorMessage.
  let errorMessage = "";
  const fail = (column: number, message: string): number => {
    errorMessage = message;
    return column;
  };
  const parseLine = (bytes: Uint8Array, start: number, end: number): number => {
    // <timestamp_ns>
    let i = start;
    while (i < end && bytes[i]! >= 48 && bytes[i]! <= 57) i++;
    const tsEnd = i;
    if (tsEnd === start || tsEnd - start > 20 || (i < end && bytes[i] !== SP)) {
      return fail(1, "expected a timestamp in nanoseconds");
    }
    const split = Math.max(start, tsEnd - 9);
    let seconds = 0;
    for (let k = start; k < split; k++) seconds = seconds * 10 + (bytes[k]! - 48);
    let nanos = 0;
    for (let k = split; k < tsEnd; k++) nanos = nanos * 10 + (bytes[k]! - 48);
    const time = seconds + nanos / 1e9;

    // <user_id> <pid>: any non-blank tokens.
    i = skipSpaces(bytes, i, end);
    const uidStart = i;
    i = tokenEnd(bytes, i, end);
    if (i === uidStart) return fail(i - start + 1, "expected a user id");
    i = skipSpaces(bytes, i, end);
    const pidStart = i;
    i = tokenEnd(bytes, i, end);
    if (i === pidStart) return fail(i - start + 1, "expected a process id");

    // <process_name ...> <tid> <syscall> <direction>: find the first lone direction token with two tokens and a
    // non-empty name before it.
    const nameStart = skipSpaces(bytes, i, end);
    let prev2s = -1;
    let prev2e = -1;
    let prev1s = -1;
    let prev1e = -1;
    let dirAt = -1;
    let fields = 0;
    let p = nameStart;
    while (p < end && fields < MAX_FIELDS_SCANNED) {
      const s = p;
      const e = tokenEnd(bytes, s, end);
      if (e - s === 1 && (bytes[s] === 62 || bytes[s] === 60) && prev2s > nameStart) {
        dirAt = s;
        break;
      }
      prev2s = prev1s;
      prev2e = prev1e;
      prev1s = s;
      prev1e = e;
      fields++;
      p = skipSpaces(bytes, e, end);
    }
    if (dirAt < 0) return fail(nameStart - start + 1, "expected `<process_name> <tid> <syscall> <direction>`");
    const tid = parseTid(bytes, prev2s, prev2e);
    if (tid < 0) return fail(prev2s - start + 1, "expected a thread id");
    if (!isEventName(bytes, prev1s, prev1e)) return fail(prev1s - start + 1, "expected a syscall name");
    // The process name runs from nameStart to the space before the tid.
    let commEnd = prev2s;
    while (commEnd > nameStart && bytes[commEnd - 1] === SP) commEnd--;
    const argsStart = skipSpaces(bytes, dirAt + 1, end);
    assembler.event(bytes, tid, nameStart, commEnd, prev1s, prev1e, bytes[dirAt] === 62, time, argsStart, end);
    return 0;
  };
  const splitter = new LineSplitter(file, onLine, options.maxLineBytes);
  return {
    write(chunk: Uint8Array): void {
      splitter.write(chunk);
    },
    end(): void {
      splitter.end();
      assembler.finish();
    },
  };
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

/** Scores the first complete lines of `head` against a line pattern (shared by both LID-DS formats). */
export function sniffLines(head: Uint8Array, pattern: RegExp): number {
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
