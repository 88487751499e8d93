// strace's own `strace: Process N attached|detached` messages. With the trace on stderr too, strace writes them
// straight into it, so one can land inside a call line (`clone(...|SIGCHLDstrace: Process 7 attached` + newline +
// `, child_tidptr=...) = 7`): the message is read, and the head of the cut line waits to be glued to the next.

import { excerptOfBytes, HomeostatError } from "../errors.js";
import * as byteScan from "./byteScan.js";

// Bound to module constants rather than used as imported names (see byteScan.ts).
const { asciiAt, decimalValue, digitsEnd, skipSpaces } = byteScan;

export const ATTACHED = 1;
export const DETACHED = 2;

/** Where `strace: Process N attached|detached|... threads` starts at the end of a line, or -1. */
export function embeddedMessageStart(b: Uint8Array, s: number, e: number): number {
  if (!(asciiAt(b, e - 8, e, "attached") || asciiAt(b, e - 8, e, "detached") || asciiAt(b, e - 7, e, "threads"))) {
    return -1;
  }
  for (let i = e - 24; i > s && i > e - 120; i--) {
    if (b[i] === 0x73 && asciiAt(b, i, e, "strace: Process ")) return i;
  }
  return -1;
}

/** The last `Process N attached|detached` message read, until the parser applies it and clears it. */
export class ProcessMessage {
  /** A message was read and not yet applied. */
  waiting = false;
  kind = 0;
  pid = 0;

  clear(): void {
    this.waiting = false;
    this.kind = 0;
  }

  /** Reads `Process N attached|detached` from p (after `strace:`); false for other messages, left unread. */
  read(b: Uint8Array, p: number, e: number): boolean {
    p = skipSpaces(b, p, e);
    if (!asciiAt(b, p, e, "Process ")) return false;
    const d0 = p + 8;
    const q = digitsEnd(b, d0, Math.min(e, d0 + 10));
    if (q === d0) return false;
    if (asciiAt(b, q, e, " attached")) this.kind = ATTACHED;
    else if (asciiAt(b, q, e, " detached")) this.kind = DETACHED;
    else return false;
    this.pid = decimalValue(b, d0, q);
    this.waiting = true;
    return true;
  }
}

/** The head of a line cut by an strace message, glued to the rest when that comes. */
export class CutLine {
  /** The head (then the whole line after join) from index 0. */
  buf = new Uint8Array(0);
  /** The head's length; 0 when no line waits. */
  len = 0;

  constructor(
    private readonly file: string,
    private readonly maxLineBytes: number,
  ) {}

  /** Keeps b[s, k) as the head unless it is already there (b is buf); true when buf's content changed. */
  keep(b: Uint8Array, s: number, k: number): boolean {
    const changed = b !== this.buf;
    if (changed) {
      if (k - s > this.buf.length) this.buf = new Uint8Array(Math.max(256, (k - s) * 2));
      this.buf.set(b.subarray(s, k), 0);
    }
    this.len = k - s;
    return changed;
  }

  /** Appends the rest b[s, e) to the head; returns the whole line's length in buf. E_LIMIT when too long. */
  join(b: Uint8Array, s: number, e: number, lineNo: number): number {
    const head = this.len;
    const total = head + (e - s);
    if (total > this.maxLineBytes) {
      throw new HomeostatError("E_LIMIT", `line longer than ${this.maxLineBytes} bytes`, {
        file: this.file,
        line: lineNo,
        column: 1,
        excerpt: excerptOfBytes(this.buf, 0, Math.min(head, 40), 40),
      });
    }
    if (total > this.buf.length) {
      const next = new Uint8Array(Math.max(256, total * 2));
      next.set(this.buf.subarray(0, head));
      this.buf = next;
    }
    this.buf.set(b.subarray(s, e), head);
    this.len = 0;
    return total;
  }
}
