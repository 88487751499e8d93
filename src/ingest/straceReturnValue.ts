// The end of an strace call line: the `)` that closes the arguments and the ` = RET` after it, where RET is `?`,
// a decimal, `0x` hex or `0` octal (umask) number, optionally followed by a -y/-Y `<decoration>` and free text
// (errno, aux, -T duration). How the `)` is found without scanning every line from its start is in
// docs/strace-format.md ("Hot path").

import * as byteScan from "./byteScan.js";

// Bound to module constants rather than used as imported names (see byteScan.ts).
const { hexValue, isDigit, isIdent, isOctalDigit } = byteScan;

const TAB = 0x09;
const SP = 0x20;
const QUOTE = 0x22;
const RPAREN = 0x29;
const DASH = 0x2d;
const LT = 0x3c;
const EQ = 0x3d;
const GT = 0x3e;
const QMARK = 0x3f;
const BACKSLASH = 0x5c;

/** Finds and reads the return values of call lines; holds the memo that keeps quote searches linear. */
export class ReturnValueScanner {
  /** The return value parse() read last (NaN for `?`). */
  value = Number.NaN;

  // nextQuote's memo: the array it searched and the next match positions in it.
  private scanArray: Uint8Array | undefined;
  private quotePos = -1;
  private quoteFrom = 0;

  /** The contents of the array last searched may have changed (a refilled chunk, a rejoined line). */
  forget(): void {
    this.scanArray = undefined;
  }

  /**
   * The ')' that closes the argument list: the last `)` outside quoted strings and `<...>` decorations followed
   * by spaces and `= `, or -1. Linear in the line length.
   */
  findClose(b: Uint8Array, p: number, e: number): number {
    const fast = this.closeFromEnd(b, p, e);
    return fast >= 0 ? fast : closeFromStart(b, p, e);
  }

  /**
   * Parses `) = RET...` from the close paren: sets value; returns the index after the number, or -(index of the
   * problem). One function, not one per number base: this runs for every call line.
   */
  parse(b: Uint8Array, close: number, e: number): number {
    let p = close + 1;
    while (b[p] === SP) p++;
    p += 2; // "= "
    const start = p;
    let c = b[p];
    if (c === QMARK && p < e) {
      this.value = Number.NaN;
      p++;
    } else {
      const neg = c === DASH;
      if (neg) c = b[++p];
      if (c === undefined || p >= e || c < 0x30 || c > 0x39) return -start;
      let v = 0;
      if (c === 0x30 && (b[p + 1] === 0x78 || b[p + 1] === 0x58) && p + 1 < e) {
        const h = p + 2;
        for (p = h; p < e; p++) {
          const x = hexValue(b[p]!);
          if (x < 0) break;
          v = v * 16 + x;
        }
        if (p === h) return -start;
      } else if (c === 0x30 && p + 1 < e && isDigit(b[p + 1]!)) {
        for (p++; p < e && isOctalDigit(b[p]!); p++) v = v * 8 + (b[p]! - 0x30); // umask's 022
      } else {
        for (; p < e && isDigit(b[p]!); p++) v = v * 10 + (b[p]! - 0x30);
      }
      this.value = neg ? -v : v;
    }
    if (p < e) {
      const d = b[p]!;
      if (d !== SP && d !== LT && d !== TAB) return -p;
    }
    return p;
  }

  /**
   * The fast path of findClose: the last `) = ` from the line's end is the answer when it is outside strings
   * (checked by hopping from quote to quote with the native search) and not inside a decoration of the return
   * value; -1 sends the line to the linear scan. After the `) = `, the first `>` must close a `<` opened after it
   * too (`= 3</path>`, ` <0.000012>`): scanning leftwards, `unclosed` tells whether the leftmost `>` so far lacks
   * a `<` to its left.
   */
  private closeFromEnd(b: Uint8Array, p: number, e: number): number {
    let unclosed = b[e - 1] === GT;
    for (let i = e - 2; i > p; i--) {
      const c = b[i];
      if (c !== EQ || b[i + 1] !== SP || b[i - 1] !== SP) {
        if (c === GT) unclosed = true;
        else if (c === LT) unclosed = false;
        continue;
      }
      let j = i - 2;
      while (j >= p && b[j] === SP) j--;
      if (j < p || b[j] !== RPAREN || unclosed) return -1;
      return this.outsideStrings(b, p, j) ? j : -1;
    }
    return -1;
  }

  /**
   * Whether position j lies outside the quoted strings that start at or after p. A quote preceded by an odd run
   * of backslashes is escaped: inside a string it does not close it, outside one (a -y path) it opens nothing.
   */
  private outsideStrings(b: Uint8Array, p: number, j: number): boolean {
    let pos = p;
    for (;;) {
      let open = this.nextQuote(b, pos);
      while (open <= j && escaped(b, open, p)) open = this.nextQuote(b, open + 1);
      if (open > j) return true;
      let close = this.nextQuote(b, open + 1);
      while (close < b.length && escaped(b, close, p)) close = this.nextQuote(b, close + 1);
      if (close > j) return false;
      pos = close + 1;
    }
  }

  /**
   * The first `"` at or after pos (b.length when none). Searches come at increasing positions of one array per
   * write, so remembering the last answer keeps the native searches linear per chunk rather than per line.
   */
  private nextQuote(b: Uint8Array, pos: number): number {
    if (b !== this.scanArray || pos < this.quoteFrom || this.quotePos < pos) {
      this.scanArray = b;
      const q = b.indexOf(QUOTE, pos);
      this.quotePos = q < 0 ? b.length : q;
      this.quoteFrom = pos;
    }
    return this.quotePos;
  }
}

/** Whether the quote at q is escaped: preceded (not before `from`) by an odd run of backslashes. */
function escaped(b: Uint8Array, q: number, from: number): boolean {
  let k = q - 1;
  while (k >= from && b[k] === BACKSLASH) k--;
  return ((q - 1 - k) & 1) === 1;
}

/**
 * The slow path of findClose, one scan from the arguments' start. A quoted string is skipped whole (strace
 * escapes `"` and `\` in it); so is a -y/-Y decoration such as `3</tmp/a) = b>` or `AT_FDCWD</x>` (strace escapes
 * `<` and `>` in it), which can also follow the return value. A backslash elsewhere escapes the next byte.
 */
function closeFromStart(b: Uint8Array, p: number, e: number): number {
  let close = -1;
  while (p < e) {
    const c = b[p]!;
    if (c === QUOTE) {
      p++;
      while (p < e) {
        const d = b[p]!;
        if (d === QUOTE) break;
        p += d === BACKSLASH ? 2 : 1;
      }
      p++;
    } else if (c === RPAREN) {
      let q = p + 1;
      while (q < e && b[q] === SP) q++;
      if (q > p + 1 && q + 1 < e && b[q] === EQ && b[q + 1] === SP) {
        close = p;
        p = q + 2;
      } else p = q;
    } else if (c === LT && p > 0 && isIdent(b[p - 1]!) && b[p + 1] !== LT) {
      // A decoration `3<...>` / `AT_FDCWD<...>` (not a shift `1<<28`): skip to its `>` when there is one
      // (-yy writes socket peers as `TCP:[a:1->b:2]`, the one unescaped `>` inside).
      let q = p + 1;
      while (q < e && (b[q] !== GT || b[q - 1] === DASH)) q++;
      p = q < e ? q + 1 : p + 1;
    } else if (c === BACKSLASH) p += 2;
    else p++;
  }
  return close;
}
