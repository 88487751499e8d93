// What the two LID-DS sysdig text parsers (liddsParser.ts, lidds2021; lidds2019Parser.ts) share: lines split and
// trimmed, errors located, events handed to the SysdigCallAssembler, and the scan for the direction token that
// both layouts find their thread id (and, in 2021, the syscall) by. A subclass parses one line's fields; the
// state lives in fields so that a line costs no allocation.

import * as byteScan from "./byteScan.js";
import { badLine, LineSplitter, lineError, type ParserOptions, type TraceParser } from "./format.js";
import { SysdigCallAssembler, type SysdigCallOptions } from "./sysdigCalls.js";

// Bound to module constants rather than used as imported names (see byteScan.ts).
const { skipSpaces, tokenEnd } = byteScan;

const SP = 32;
const MAX_FIELDS_SCANNED = 64;

export abstract class SysdigTextParser implements TraceParser {
  protected readonly assembler: SysdigCallAssembler;
  private readonly splitter: LineSplitter;
  private errorMessage = "";
  /** Where findDirection found the direction token, and the one and two tokens before it (start, end). */
  protected dirAt = -1;
  protected tok1Start = -1;
  protected tok1End = -1;
  protected tok2Start = -1;
  protected tok2End = -1;

  constructor(
    private readonly options: ParserOptions,
    calls: SysdigCallOptions,
  ) {
    this.assembler = new SysdigCallAssembler(options.vocab, options.sink, options.keepArgs === true, calls);
    this.splitter = new LineSplitter(options.file, this.onLine, options.maxLineBytes);
  }

  write(chunk: Uint8Array): void {
    this.splitter.write(chunk);
  }

  end(): void {
    this.splitter.end();
    this.assembler.finish();
  }

  /**
   * Parses one line (trailing spaces removed) into the assembler; returns 0, or the 1-based column of an error
   * whose message fail() recorded.
   */
  protected abstract parseLine(bytes: Uint8Array, start: number, end: number): number;

  private readonly onLine = (bytes: Uint8Array, start: number, end: number, line: number): void => {
    // Trailing spaces: LID-DS lines end with one.
    while (end > start && bytes[end - 1] === SP) end--;
    if (end === start) return;
    const col = this.parseLine(bytes, start, end);
    if (col > 0) badLine(this.options, lineError(this.options.file, line, col, this.errorMessage, bytes, start, end));
  };

  /** Records `message` for the error at `column`, and returns the column. */
  protected fail(column: number, message: string): number {
    this.errorMessage = message;
    return column;
  }

  /**
   * Finds the first lone direction token (`>` or `<`) after the process name that starts at `nameStart` with
   * `before` (1 or 2) tokens between them: a name may contain spaces, so its fields are found from the direction
   * back. Leaves the direction and the tokens before it in dirAt, tok1*, tok2*; false when there is none.
   */
  protected findDirection(bytes: Uint8Array, nameStart: number, end: number, before: 1 | 2): boolean {
    let prev2s = -1;
    let prev2e = -1;
    let prev1s = -1;
    let prev1e = -1;
    let fields = 0;
    let p = nameStart;
    while (p < end && fields < MAX_FIELDS_SCANNED) {
      const e = tokenEnd(bytes, p, end);
      if (e - p === 1 && (bytes[p] === 62 || bytes[p] === 60) && (before === 1 ? prev1s : prev2s) > nameStart) {
        this.dirAt = p;
        this.tok1Start = prev1s;
        this.tok1End = prev1e;
        this.tok2Start = prev2s;
        this.tok2End = prev2e;
        return true;
      }
      prev2s = prev1s;
      prev2e = prev1e;
      prev1s = p;
      prev1e = e;
      fields++;
      p = skipSpaces(bytes, e, end);
    }
    return false;
  }

  /** The end of the process name that starts at `nameStart` and is followed by the token at `next`. */
  protected nameEnd(bytes: Uint8Array, nameStart: number, next: number): number {
    let commEnd = next;
    while (commEnd > nameStart && bytes[commEnd - 1] === SP) commEnd--;
    return commEnd;
  }
}
