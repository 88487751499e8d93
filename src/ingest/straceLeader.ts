// The leader strace writes before a line's body (its printleader): a pid prefix (`[pid  1234] ` when strace -f
// writes to stderr, `1234  ` with -o FILE, `1234<comm> ` with --decode-pids=comm, or none), timestamps
// (straceTimestamp.ts), and -n `[ 59]` / -i `[00007f...]` brackets. Layout in docs/strace-format.md.

import * as byteScan from "./byteScan.js";
import { PID_MAX } from "./straceFileName.js";
import { StraceClock } from "./straceTimestamp.js";

// Bound to module constants rather than used as imported names (see byteScan.ts).
const { asciiAt, findByte, hexValue, isDigit, skipSpaces } = byteScan;

const SP = 0x20;
const LT = 0x3c;
const GT = 0x3e;
const QMARK = 0x3f;
const LBRACK = 0x5b;
const RBRACK = 0x5d;

export { PID_MAX };

/** Reads line leaders; the results of the last read are in its fields (nothing is allocated per line). */
export class StraceLeader {
  /** The pid of the prefix, or -1 when the line has none. */
  pid = -1;
  /** The line's time (NaN when it has no timestamp). */
  time = Number.NaN;
  /** After a failed read: where the problem is, and what it is. */
  failAt = 0;
  failMessage = "";

  private readonly clock = new StraceClock();
  /** Where a right-aligned -r field would start: after the pid and the padding strace gives it. */
  private pidFieldEnd = 0;

  /** Parses the leader of the line b[s, e); returns where the body starts, or -1 with failAt/failMessage set. */
  read(b: Uint8Array, s: number, e: number): number {
    this.pid = -1;
    this.pidFieldEnd = s;
    let p = s;
    const c = b[s]!;
    if (c === LBRACK && asciiAt(b, s, e, "[pid")) p = this.bracketedPid(b, s, e);
    else if (isDigit(c)) p = this.barePid(b, s, e);
    if (p < 0) return -1;
    // Spaces: alignment after the pid, or -r's right-aligned seconds.
    const spacesFrom = p;
    p = skipSpaces(b, p, e);
    this.time = Number.NaN;
    if (p < e && isDigit(b[p]!)) {
      const padded = p > Math.max(spacesFrom, this.pidFieldEnd);
      p = this.clock.read(b, p, e, padded);
      if (p < 0) return this.fail(this.clock.failAt, this.clock.failMessage);
      this.time = this.clock.time;
      p = skipSpaces(b, p, e);
    }
    return skipBrackets(b, p, e);
  }

  /** `[pid N] ` or `[pid N<comm>] ` at s; the index after it, or -1. */
  private bracketedPid(b: Uint8Array, s: number, e: number): number {
    const q = skipSpaces(b, s + 4, e);
    let p = q;
    let v = 0;
    for (; p < e && isDigit(b[p]!); p++) v = v * 10 + (b[p]! - 0x30);
    if (p === q || p - q > 7 || v > PID_MAX) return this.fail(q, "bad pid in `[pid N]` prefix");
    if (b[p] === LT) p = skipComm(b, p, e);
    if (p < 0 || b[p] !== RBRACK || b[p + 1] !== SP || p + 1 >= e) {
      return this.fail(Math.max(p, q), "bad `[pid N]` prefix");
    }
    this.pid = v;
    this.pidFieldEnd = p + 2;
    return p + 2;
  }

  /**
   * `N ` or `N<comm> ` at s; the index after the digits (or comm), s when the number is not a pid (an epoch time
   * without fraction), or -1.
   */
  private barePid(b: Uint8Array, s: number, e: number): number {
    let q = s;
    let v = 0;
    for (; q < e && isDigit(b[q]!); q++) v = v * 10 + (b[q]! - 0x30);
    const digits = q - s;
    const d = b[q];
    // A pid (at most PID_MAX_LIMIT = 2^22); a larger number before a space is an epoch time without fraction.
    if (!(q < e && (d === SP || d === LT) && digits <= 7 && v <= PID_MAX)) return s;
    if (d === LT) {
      q = skipComm(b, q, e);
      if (q < 0 || b[q] !== SP) return this.fail(s + digits, "bad `pid<comm>` prefix");
      this.pidFieldEnd = q + 1;
    } else {
      // strace pads a pid to 5 columns (`%-5u `) unless it prints the comm too; -r pads beyond that.
      this.pidFieldEnd = s + Math.max(5, digits) + 1;
    }
    this.pid = v;
    return q;
  }

  private fail(at: number, message: string): number {
    this.failAt = at;
    this.failMessage = message;
    return -1;
  }
}

/** Skips `<comm>` (--decode-pids=comm) from its `<`; returns the index after `>` or -1. */
function skipComm(b: Uint8Array, p: number, e: number): number {
  const q = findByte(b, GT, p + 1, Math.min(e, p + 65));
  return q < 0 ? -1 : q + 1;
}

/** Skips -n `[ 59] ` and -i `[00007f...] ` (`[????????????????]` when unknown): hex digits, x, ? and spaces. */
function skipBrackets(b: Uint8Array, p: number, e: number): number {
  while (p < e && b[p] === LBRACK) {
    let q = p + 1;
    while (q < e && (b[q] === SP || hexValue(b[q]!) >= 0 || b[q] === 0x78 || b[q] === QMARK)) q++;
    if (q >= e || b[q] !== RBRACK || q === p + 1) break;
    p = skipSpaces(b, q + 1, e);
  }
  return p;
}
