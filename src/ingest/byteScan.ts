// Byte-level scanning shared by the text parsers (strace, LID-DS, and capture's bpftrace output): character
// classes, bounded searches and in-place number parsing. Everything works on (bytes, start, end) of undecoded
// input, so that a parser's hot loop never builds a string or allocates.
//
// Parsers bind these helpers to module constants (`import * as byteScan`, then `const { isDigit } = byteScan`) and
// declare the ASCII codes they compare with: V8 compiles a module's own constants into its loops, while an imported
// binding is loaded and checked again at every use, which the parse benchmark shows.

const SP = 0x20;

/** The latin1 bytes of a constant marker, for matchAt. */
export function bytesOf(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, "latin1"));
}

export function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

export function isOctalDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x37;
}

export function isIdentStart(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f;
}

export function isIdent(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f || (c >= 0x30 && c <= 0x39);
}

/** The value of a hex digit of either case, or -1. */
export function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

/** The index of the first `byte` in b[from, end), or -1 (bounded, unlike indexOf on a whole chunk). */
export function findByte(b: Uint8Array, byte: number, from: number, end: number): number {
  for (let i = from; i < end; i++) if (b[i] === byte) return i;
  return -1;
}

/** Whether b[p, end) starts with `word`. */
export function matchAt(b: Uint8Array, p: number, end: number, word: Uint8Array): boolean {
  if (p + word.length > end) return false;
  for (let i = 0; i < word.length; i++) if (b[p + i] !== word[i]) return false;
  return true;
}

/** Whether b[p, end) starts with the ASCII text `word`. */
export function asciiAt(b: Uint8Array, p: number, end: number, word: string): boolean {
  if (p + word.length > end) return false;
  for (let i = 0; i < word.length; i++) if (b[p + i] !== word.charCodeAt(i)) return false;
  return true;
}

/** The index of the first non-space at or after i (end when none). */
export function skipSpaces(b: Uint8Array, i: number, end: number): number {
  while (i < end && b[i] === SP) i++;
  return i;
}

/** The end of the token at i: the first space at or after it (end when none). */
export function tokenEnd(b: Uint8Array, i: number, end: number): number {
  while (i < end && b[i] !== SP) i++;
  return i;
}

/** The end of the run of decimal digits at i (i itself when there is none). */
export function digitsEnd(b: Uint8Array, i: number, end: number): number {
  while (i < end && isDigit(b[i]!)) i++;
  return i;
}

/** The value of the decimal digits b[start, end) (callers bound the length; float64 beyond 2^53). */
export function decimalValue(b: Uint8Array, start: number, end: number): number {
  let v = 0;
  for (let i = start; i < end; i++) v = v * 10 + (b[i]! - 0x30);
  return v;
}

/** Two decimal digits at p (both before end) as a number, or -1. */
export function twoDigits(b: Uint8Array, p: number, end: number): number {
  if (p + 1 >= end) return -1;
  const a = b[p]!;
  const c = b[p + 1]!;
  if (!isDigit(a) || !isDigit(c)) return -1;
  return (a - 0x30) * 10 + (c - 0x30);
}

export function latin1(b: Uint8Array, start: number, end: number): string {
  return Buffer.from(b.buffer, b.byteOffset + start, end - start).toString("latin1");
}

export function utf8(b: Uint8Array, start: number, end: number): string {
  return Buffer.from(b.buffer, b.byteOffset + start, end - start).toString("utf8");
}

/** Non-empty lines in head[0, end) (counting stops at a million). */
export function nonEmptyLines(head: Uint8Array, end: number): number {
  let nonEmpty = 0;
  let start = 0;
  for (let i = 0; i <= end && nonEmpty < 1_000_000; i++) {
    if (i === end || head[i] === 10) {
      if (i > start) nonEmpty++;
      start = i + 1;
    }
  }
  return nonEmpty;
}
