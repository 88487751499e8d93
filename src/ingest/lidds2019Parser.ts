// The LID-DS 2019 recording format (Grimmer et al., "A Modern and Sophisticated Host Based Intrusion Detection
// Data Set", D-A-CH Security 2019): one `<recording>.txt` per run, sysdig text with one event per line,
//   <event_number> <HH:MM:SS.nnnnnnnnn> <cpu> <user_id> <process_name> <tid> <direction> <syscall> [args...]
//   36587 00:15:56.976976340 6 999 mysqld 1 > write fd=36(<4t>172.17.0.1:37032->172.17.0.13:3306) size=11
// (field order as LID-DS's own 2019 loader and its test lines read it; the direction comes BEFORE the syscall
// here, after it in 2021). Scheduler `switch` events, which LID-DS's loader drops, are sysdig meta events and
// never calls (sysdigCalls.ts). Enter/exit events become one call each, per thread, exactly as in 2021.
//
// Time: the 2019 text carries only the time of day, no date. Calls are timed in seconds since the first event of
// the file (the recording start), which is also the clock of runs.csv's exploit_start_time (seconds after the
// recording began), so LID-DS 2019 attack times compare directly. A time of day more than 12 hours below the
// previous one is taken as a wrap past midnight.

import * as byteScan from "./byteScan.js";
import type { ParserOptions, TraceFormat, TraceParser } from "./format.js";
import { parseTid, sniffLines } from "./liddsParser.js";
import { isEventName, type SysdigCallOptions } from "./sysdigCalls.js";
import { SysdigTextParser } from "./sysdigTextParser.js";

// Bound to module constants rather than used as imported names (see byteScan.ts).
const { skipSpaces, tokenEnd, twoDigits } = byteScan;

const SP = 32;
const DAY = 86_400;

/** Creates a LID-DS 2019 parser; `calls` chooses how enter/exit events count (see sysdigCalls.ts). */
export function createLidds2019Parser(options: ParserOptions, calls: SysdigCallOptions = {}): TraceParser {
  return new Lidds2019Parser(options, calls);
}

class Lidds2019Parser extends SysdigTextParser {
  /** The first time of day of the file, the last one, and the days it wrapped past midnight (in seconds). */
  private first = Number.NaN;
  private lastTod = Number.NaN;
  private dayOffset = 0;
  /** The time of day of the line being parsed, set by readHeader. */
  private tod = 0;

  protected parseLine(bytes: Uint8Array, start: number, end: number): number {
    const nameStart = this.readHeader(bytes, start, end);
    return nameStart < 0 ? -nameStart : this.readCall(bytes, start, nameStart, end);
  }

  /**
   * <event_number> <HH:MM:SS.fraction> <cpu> <user_id>, the time of day into `tod`; returns where the process
   * name starts, or minus the column of an error.
   */
  private readHeader(bytes: Uint8Array, start: number, end: number): number {
    let i = start;
    while (i < end && bytes[i]! >= 48 && bytes[i]! <= 57) i++;
    if (i === start || i - start > 20 || i >= end || bytes[i] !== SP) return -this.fail(1, "expected an event number");
    i = skipSpaces(bytes, i, end);
    const timeStart = i;
    this.tod = timeOfDay(bytes, i, tokenEnd(bytes, i, end));
    if (Number.isNaN(this.tod)) {
      return -this.fail(timeStart - start + 1, "expected a time of day HH:MM:SS.nnnnnnnnn");
    }
    i = skipSpaces(bytes, tokenEnd(bytes, i, end), end);
    const cpuStart = i;
    i = tokenEnd(bytes, i, end);
    if (i === cpuStart || parseTid(bytes, cpuStart, i) < 0) {
      return -this.fail(cpuStart - start + 1, "expected a cpu number");
    }
    i = skipSpaces(bytes, i, end);
    const uidStart = i;
    i = tokenEnd(bytes, i, end);
    if (i === uidStart) return -this.fail(uidStart - start + 1, "expected a user id");
    return skipSpaces(bytes, i, end);
  }

  /** <process_name ...> <tid> <direction> <syscall> [args], the name starting at `nameStart`. */
  private readCall(bytes: Uint8Array, start: number, nameStart: number, end: number): number {
    // The first lone direction token after a name and a tid.
    if (!this.findDirection(bytes, nameStart, end, 1)) {
      return this.fail(nameStart - start + 1, "expected `<process_name> <tid> <direction> <syscall>`");
    }
    const tid = parseTid(bytes, this.tok1Start, this.tok1End);
    if (tid < 0) return this.fail(this.tok1Start - start + 1, "expected a thread id");
    const dirAt = this.dirAt;
    const sysStart = skipSpaces(bytes, dirAt + 1, end);
    const sysEnd = tokenEnd(bytes, sysStart, end);
    if (!isEventName(bytes, sysStart, sysEnd)) return this.fail(sysStart - start + 1, "expected a syscall name");
    const commEnd = this.nameEnd(bytes, nameStart, this.tok1Start);
    const time = this.elapsed(this.tod);
    const argsStart = skipSpaces(bytes, sysEnd, end);
    this.assembler.event(bytes, tid, nameStart, commEnd, sysStart, sysEnd, bytes[dirAt] === 62, time, argsStart, end);
    return 0;
  }

  /** Seconds since the file's first event, of a time of day (a drop of over 12 hours wraps past midnight). */
  private elapsed(tod: number): number {
    if (Number.isNaN(this.first)) {
      this.first = tod;
    } else if (tod < this.lastTod - DAY / 2) {
      this.dayOffset += DAY;
    }
    this.lastTod = tod;
    return tod + this.dayOffset - this.first;
  }
}

/** Seconds since midnight from `HH:MM:SS` with an optional `.fraction` of up to 9 digits; NaN if malformed. */
function timeOfDay(bytes: Uint8Array, start: number, end: number): number {
  const len = end - start;
  if (len < 8 || len > 18 || bytes[start + 2] !== 58 || bytes[start + 5] !== 58) return Number.NaN;
  const h = twoDigits(bytes, start, end);
  const m = twoDigits(bytes, start + 3, end);
  const s = twoDigits(bytes, start + 6, end);
  if (h < 0 || m < 0 || s < 0 || h > 23 || m > 59 || s > 60) return Number.NaN;
  let frac = 0;
  if (len > 8) {
    if (bytes[start + 8] !== 46 || len === 9) return Number.NaN;
    let scale = 1;
    for (let k = start + 9; k < end; k++) {
      const c = bytes[k]!;
      if (c < 48 || c > 57) return Number.NaN;
      frac = frac * 10 + (c - 48);
      scale *= 10;
    }
    frac /= scale;
  }
  return h * 3600 + m * 60 + s + frac;
}

const LINE_2019 =
  /^\d{1,20} +\d\d:\d\d:\d\d(?:\.\d{1,9})? +\d{1,10} +\S+ +.+? +\d{1,10} +[<>] +(?:[A-Za-z0-9_]{1,64}|<NA>)(?: |$)/;

export const lidds2019Format: TraceFormat = {
  name: "lidds2019",
  description: "LID-DS 2019 sysdig text (.txt): <n> <HH:MM:SS.ns> <cpu> <uid> <comm> <tid> <dir> <syscall> [args]",
  sniff(head: Uint8Array, path: string): number {
    const score = sniffLines(head, LINE_2019);
    return score > 0 && path.endsWith(".txt") ? 0.95 : score;
  },
  createParser(options: ParserOptions): TraceParser {
    return createLidds2019Parser(options);
  },
};
