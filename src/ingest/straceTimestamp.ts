// The timestamps of strace's line leader: -t `HH:MM:SS` and -tt `HH:MM:SS.frac` (time of day, +86400 per
// midnight the trace crosses), -ttt `epoch.frac`, -r `   delta` (right-aligned; summed into seconds since the
// first line), and -t with -r's `(+relative)` suffix. Layout as strace's printleader writes it
// (docs/strace-format.md).

import * as byteScan from "./byteScan.js";

// Bound to module constants rather than used as imported names (see byteScan.ts).
const { findByte, isDigit, twoDigits } = byteScan;

const SP = 0x20;
const LPAREN = 0x28;
const RPAREN = 0x29;
const PLUS = 0x2b;
const DOT = 0x2e;
const COLON = 0x3a;

/** -ttt values below this without -r padding are still read as absolute (epoch) times. */
const EPOCH_MIN = 1e8;
const POW10: Float64Array = (() => {
  const p = new Float64Array(24);
  p[0] = 1;
  for (let i = 1; i < p.length; i++) p[i] = p[i - 1]! * 10;
  return p;
})();

/** Reads the timestamps of a trace's lines in order, keeping what the next line's time depends on. */
export class StraceClock {
  /** The time of the last timestamp read, in seconds. */
  time = Number.NaN;
  /** After a failed read: where the problem is, and what it is. */
  failAt = 0;
  failMessage = "";

  // -t/-tt wrap at midnight (dayOffset); -r deltas are summed (relTime).
  private dayOffset = 0;
  private lastTod = -1;
  private relTime = 0;
  private sawPaddedRelative = false;
  /** The value of the digits fraction() read last. */
  private frac = 0;

  /**
   * Parses the timestamp at p (a digit); `padded` says it was right-aligned (-r). Sets time and returns the index
   * after it, or -1 with failAt/failMessage set.
   */
  read(b: Uint8Array, p: number, e: number, padded: boolean): number {
    const start = p;
    let v = 0;
    for (; p < e && isDigit(b[p]!); p++) v = v * 10 + (b[p]! - 0x30);
    if (p - start > 15) return this.fail(start, "timestamp too long");
    p = b[p] === COLON && p < e ? this.timeOfDay(b, p + 1, e, v) : this.secondsCount(b, start, p, e, v, padded);
    if (p < 0) return -1;
    if (p >= e || b[p] !== SP) return this.fail(p, "expected a space after the timestamp");
    return this.relativeSuffix(b, p, e);
  }

  /** -t / -tt from the minutes at p, `hours` already read; the index after it or -1. */
  private timeOfDay(b: Uint8Array, p: number, e: number, hours: number): number {
    const m = twoDigits(b, p, e);
    if (m < 0 || b[p + 2] !== COLON) return this.fail(p, "bad time of day");
    p += 3;
    const sec = twoDigits(b, p, e);
    if (sec < 0 || hours > 23 || m > 59 || sec > 60) return this.fail(p, "bad time of day");
    p += 2;
    let t = hours * 3600 + m * 60 + sec;
    if (b[p] === DOT && p < e) {
      const f = this.fraction(b, p + 1, e);
      if (f < 0) return this.fail(p, "bad time of day");
      t += this.frac;
      p = f;
    }
    if (t + this.dayOffset < this.lastTod - 43_200) this.dayOffset += 86_400; // the trace crossed midnight
    t += this.dayOffset;
    this.lastTod = t;
    this.time = t;
    return p;
  }

  /** -ttt epoch.frac or -r delta, whose whole seconds `v` end at p; the index after it or -1. */
  private secondsCount(b: Uint8Array, start: number, p: number, e: number, v: number, padded: boolean): number {
    let t = v;
    if (b[p] === DOT && p < e) {
      const f = this.fraction(b, p + 1, e);
      if (f < 0) return this.fail(p, "bad timestamp");
      t += this.frac;
      p = f;
    } else if (p - start < 6) {
      // A bare integer here is not a strace leader (-ttt and -r always print a fraction).
      return this.fail(start, "not strace output: expected a system call");
    }
    if (padded) this.sawPaddedRelative = true;
    if (padded || (t < EPOCH_MIN && this.sawPaddedRelative)) {
      this.relTime += t;
      this.time = this.relTime;
    } else {
      this.time = t;
    }
    return p;
  }

  /** -t with -r: `(+     0.000123) ` after the absolute time, skipped (the absolute time wins). */
  private relativeSuffix(b: Uint8Array, p: number, e: number): number {
    let q = p;
    while (q < e && b[q] === SP) q++;
    if (b[q] === LPAREN && b[q + 1] === PLUS && q + 1 < e) {
      const close = findByte(b, RPAREN, q, Math.min(e, q + 41));
      if (close < 0) return this.fail(q, "bad `(+relative)` timestamp");
      return close + 1;
    }
    return p;
  }

  /** Fraction digits from p: sets frac, returns the index after them, or -1 when there are none (or too many). */
  private fraction(b: Uint8Array, p: number, e: number): number {
    const start = p;
    let f = 0;
    for (; p < e && isDigit(b[p]!); p++) f = f * 10 + (b[p]! - 0x30);
    const n = p - start;
    if (n === 0 || n > 18) return -1;
    this.frac = f / POW10[n]!;
    return p;
  }

  private fail(at: number, message: string): number {
    this.failAt = at;
    this.failMessage = message;
    return -1;
  }
}
