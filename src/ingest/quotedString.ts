// C-style quoted strings as strace prints them (strace's string_quote: \n \t \r \v \f, \" and \\, \xHH, and octal
// \ooo for other bytes), decoded back to the text they quote. Used for the few strings homeostat keeps, such as
// the program path of an execve.

import * as byteScan from "./byteScan.js";

// Bound to module constants rather than used as imported names (see byteScan.ts).
const { hexValue, isOctalDigit } = byteScan;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** Decodes the quoted string that opens at b[p] (a `"`); undefined when it is not one or is not closed by end. */
export function decodeQuoted(b: Uint8Array, p: number, end: number): string | undefined {
  if (b[p] !== QUOTE) return undefined;
  const out: number[] = [];
  let i = p + 1;
  while (i < end) {
    const c = b[i]!;
    if (c === QUOTE) return Buffer.from(out).toString("utf8");
    if (c !== BACKSLASH) {
      out.push(c);
      i++;
      continue;
    }
    const d = b[i + 1];
    if (d === undefined || i + 1 >= end) return undefined;
    i = decodeEscape(b, d, i + 2, end, out);
  }
  return undefined;
}

/** Decodes the escape `\d...` whose letter d is before i; pushes its byte and returns the index after it. */
function decodeEscape(b: Uint8Array, d: number, i: number, end: number, out: number[]): number {
  const simple = simpleEscape(d);
  if (simple >= 0) {
    out.push(simple);
    return i;
  }
  if (d === 0x78) return hexEscape(b, i, end, out);
  if (isOctalDigit(d)) return octalEscape(b, d, i, end, out);
  out.push(d);
  return i;
}

/** The byte of \n \t \r \v \f, or -1. */
function simpleEscape(d: number): number {
  switch (d) {
    case 0x6e: // n
      return 10;
    case 0x74: // t
      return 9;
    case 0x72: // r
      return 13;
    case 0x76: // v
      return 11;
    case 0x66: // f
      return 12;
    default:
      return -1;
  }
}

/** `\xHH`: up to two hex digits from i. */
function hexEscape(b: Uint8Array, i: number, end: number, out: number[]): number {
  let v = 0;
  let k = 0;
  while (k < 2 && i < end && hexValue(b[i]!) >= 0) {
    v = v * 16 + hexValue(b[i]!);
    i++;
    k++;
  }
  out.push(v & 0xff);
  return i;
}

/** `\ooo`: the first octal digit d, then up to two more from i. */
function octalEscape(b: Uint8Array, d: number, i: number, end: number, out: number[]): number {
  let v = d - 0x30;
  let k = 1;
  while (k < 3 && i < end && isOctalDigit(b[i]!)) {
    v = v * 8 + (b[i]! - 0x30);
    i++;
    k++;
  }
  out.push(v & 0xff);
  return i;
}
