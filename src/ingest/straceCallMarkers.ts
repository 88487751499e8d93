// The markers strace writes around a call line's arguments when the call does not complete on one line:
// `name(args <unfinished ...>`, `<... name resumed>args) = ret`, `name(args <detached ...>`, and strace 6's
// `execve(args <pid changed to N ...>` (an execve by a non-leader thread, which takes over the leader's pid).

import * as byteScan from "./byteScan.js";

// Bound to module constants rather than used as imported names (see byteScan.ts).
const { asciiAt, bytesOf, decimalValue, isDigit, matchAt } = byteScan;

const DOT = 0x2e;
const GT = 0x3e;

const UNFINISHED = bytesOf(" <unfinished ...>");
const DETACHED = bytesOf(" <detached ...>");
const RESUMED = bytesOf(" resumed>");
const PID_CHANGED = bytesOf(" <pid changed to ");

/** Where ` <unfinished ...>` ends b[from, e), or -1. */
export function unfinishedAt(b: Uint8Array, from: number, e: number): number {
  return endsWithMark(b, e, UNFINISHED, from) ? e - UNFINISHED.length : -1;
}

/** Where ` <detached ...>` ends b[from, e), or -1. */
export function detachedAt(b: Uint8Array, from: number, e: number): number {
  return endsWithMark(b, e, DETACHED, from) ? e - DETACHED.length : -1;
}

/** The index after ` resumed>` at p, or -1 when it is not there. */
export function resumedEnd(b: Uint8Array, p: number, e: number): number {
  return matchAt(b, p, e, RESUMED) ? p + RESUMED.length : -1;
}

/** The index after a ` <unfinished ...>` at p (a resumed call's arguments start with it), else p. */
export function skipUnfinished(b: Uint8Array, p: number, e: number): number {
  return matchAt(b, p, e, UNFINISHED) ? p + UNFINISHED.length : p;
}

/** Where ` <pid changed to N ...>` ends b[from, e), or -1. */
export function pidChangedAt(b: Uint8Array, from: number, e: number): number {
  if (b[e - 1] !== GT || b[e - 2] !== DOT || !asciiAt(b, e - 5, e, " ...>")) return -1;
  let k = e - 5;
  let digits = 0;
  while (k > from && isDigit(b[k - 1]!) && digits < 10) {
    k--;
    digits++;
  }
  const start = k - PID_CHANGED.length;
  if (digits === 0 || start < from || !matchAt(b, start, e, PID_CHANGED)) return -1;
  return start;
}

/** The N of the ` <pid changed to N ...>` that pidChangedAt found at `at` in a line ending at e. */
export function pidChangedTarget(b: Uint8Array, at: number, e: number): number {
  return decimalValue(b, at + PID_CHANGED.length, e - 5);
}

function endsWithMark(b: Uint8Array, e: number, marker: Uint8Array, from: number): boolean {
  const n = marker.length;
  if (e - n < from) return false;
  // The last byte is `>` for unfinished, detached and -T lines alike; the one before tells them apart.
  if (b[e - 2] !== marker[n - 2]) return false;
  for (let i = 0; i < n; i++) if (b[e - n + i] !== marker[i]) return false;
  return true;
}
