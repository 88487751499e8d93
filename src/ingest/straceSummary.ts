// The `-c`/`-C` summary tables strace prints after (or instead of) a trace: `% time     seconds  usecs/call ...`
// up to the `total` row. They are not calls, so the parser recognises and skips them.

import * as byteScan from "./byteScan.js";

// Bound to module constants rather than used as imported names (see byteScan.ts).
const { asciiAt, findByte, isDigit, skipSpaces } = byteScan;

const TAB = 0x09;
const SP = 0x20;
const PERCENT = 0x25;
const LPAREN = 0x28;
const DOT = 0x2e;

/** Whether the line is a summary table's header. */
export function isSummaryHeader(b: Uint8Array, s: number, e: number): boolean {
  const p = skipSpaces(b, s, e);
  if (asciiAt(b, p, e, "% time")) return true;
  // -U may reorder columns: a header is lowercase words only, among them `calls` or `syscall`.
  let words = false;
  for (let i = p; i < e; i++) {
    const c = b[i]!;
    if (!((c >= 0x61 && c <= 0x7a) || c === SP || c === 0x2f || c === PERCENT || c === TAB)) return false;
    if (c === 0x63 && (asciiAt(b, i, e, "calls") || asciiAt(b, i - 3, e, "syscall"))) words = true;
    if (c === 0x73 && asciiAt(b, i, e, "syscall")) words = true;
  }
  return words;
}

/** Whether the parser is inside a summary table, from its header to its `total` row. */
export class SummaryTable {
  active = false;

  /** Enters a table when the line is a header; returns whether it is. */
  start(b: Uint8Array, s: number, e: number): boolean {
    if (!isSummaryHeader(b, s, e)) return false;
    this.active = true;
    return true;
  }

  /** Handles a line that may belong to a table; returns false when it does not (it is parsed as trace). */
  line(b: Uint8Array, s: number, e: number): boolean {
    if (!this.active) return this.start(b, s, e);
    // A call line means the table is over (it had no `total` row); the table ends with its `total` row.
    if (findByte(b, LPAREN, s, e) >= 0) {
      this.active = false;
      return false;
    }
    let q = e;
    while (q > s && (b[q - 1] === SP || isDigit(b[q - 1]!) || b[q - 1] === DOT)) q--;
    const p = skipSpaces(b, s, e);
    if (asciiAt(b, q - 5, e, "total") || asciiAt(b, p, e, "total")) this.active = false;
    return true;
  }
}
