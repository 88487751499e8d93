// The contract every trace format implements: sniff a file's first bytes, then parse a byte stream chunk by chunk
// into an EventSink. Parsers are push-based (write/end) so that the same code serves files, archive members and a
// live strace pipe, in bounded memory.

import { type ErrorCode, HomeostatError, ParseError, excerptOfBytes } from "../errors.js";
import type { Vocabulary } from "../syscalls/vocabulary.js";
import type { EventSink } from "./event.js";

export type FormatName = "strace" | "unm" | "adfa" | "lidds2021" | "lidds2019" | "homeostat";

export const FORMAT_NAMES: readonly FormatName[] = ["strace", "unm", "adfa", "lidds2021", "lidds2019", "homeostat"];

export interface ParserOptions {
  /** Display path of the input, for error messages. */
  file: string;
  vocab: Vocabulary;
  sink: EventSink;
  /** Skip malformed lines (counting them) instead of failing. */
  lenient?: boolean;
  /** Keep each call's raw argument text (off by default: it costs an allocation per call). */
  keepArgs?: boolean;
  /** Longest accepted line, in bytes (default 4 MiB): a longer one is an E_LIMIT error, in bounded memory. */
  maxLineBytes?: number;
  /** Called for each line skipped in lenient mode. */
  onSkip?: (err: ParseError) => void;
  /** The stream id for formats without one in the data (strace -ff files carry the pid in the file name). */
  defaultStream?: number;
}

export interface TraceParser {
  /** Parses the next chunk. Throws ParseError (or HomeostatError E_LIMIT) on bad input unless lenient. */
  write(chunk: Uint8Array): void;
  /** Parses what remains buffered; throws on a truncated final record. */
  end(): void;
}

export interface TraceFormat {
  readonly name: FormatName;
  readonly description: string;
  /**
   * How likely the input is in this format (0 = surely not, 1 = surely), from its first bytes (up to 64 KiB)
   * and its path. Must not throw.
   */
  sniff(head: Uint8Array, path: string): number;
  createParser(options: ParserOptions): TraceParser;
}

/** The sniff score a format must reach to be taken for an input's. */
export const SURE_ENOUGH = 0.5;

/** A format's sniff score for a head; a sniff that throws scores 0. */
export function sniffScore(format: TraceFormat, head: Uint8Array, path: string): number {
  try {
    return format.sniff(head, path);
  } catch {
    return 0;
  }
}

/**
 * The most likely of `formats` for a head (its first bytes, up to 64 KiB) and path: the highest sniff score, the
 * first of equal scores winning, or undefined when none reaches SURE_ENOUGH.
 */
export function mostLikelyFormat(
  formats: Iterable<TraceFormat>,
  head: Uint8Array,
  path: string,
): TraceFormat | undefined {
  let best: TraceFormat | undefined;
  let bestScore = 0;
  for (const f of formats) {
    const s = sniffScore(f, head, path);
    if (s > bestScore) {
      best = f;
      bestScore = s;
    }
  }
  return bestScore >= SURE_ENOUGH ? best : undefined;
}

export const DEFAULT_MAX_LINE_BYTES = 4 * 1024 * 1024;

/**
 * Splits chunks into lines (LF, with a CR before it dropped) without decoding them, handing each line to
 * `onLine(bytes, start, end, lineNumber)`. A line split across chunks is reassembled in a carry buffer; a line
 * longer than `maxLineBytes` raises E_LIMIT as soon as that is known, so memory stays bounded.
 */
export class LineSplitter {
  private carry: Uint8Array = new Uint8Array(0);
  private carryLen = 0;
  private lineNo = 0;

  constructor(
    private readonly file: string,
    private readonly onLine: (bytes: Uint8Array, start: number, end: number, line: number) => void,
    private readonly maxLineBytes = DEFAULT_MAX_LINE_BYTES,
  ) {}

  /** Lines seen so far. */
  get lines(): number {
    return this.lineNo;
  }

  /** Splits `chunk`; an error without a place raised while handling a line is located at that line. */
  write(chunk: Uint8Array): void {
    // One try per chunk, not per line: the hot loop stays as it is.
    try {
      this.split(chunk);
    } catch (err) {
      throw locateError(err, this.file, this.lineNo);
    }
  }

  private split(chunk: Uint8Array): void {
    let start = 0;
    const n = chunk.length;
    if (this.carryLen > 0) {
      const nl = chunk.indexOf(10);
      if (nl < 0) {
        this.append(chunk, 0, n);
        return;
      }
      this.append(chunk, 0, nl);
      this.emit(this.carry, 0, this.carryLen);
      this.carryLen = 0;
      start = nl + 1;
    }
    for (;;) {
      const nl = chunk.indexOf(10, start);
      if (nl < 0) break;
      if (nl - start > this.maxLineBytes) this.tooLong(chunk, start);
      this.emit(chunk, start, nl);
      start = nl + 1;
    }
    if (start < n) this.append(chunk, start, n);
  }

  end(): void {
    if (this.carryLen > 0) {
      try {
        this.emit(this.carry, 0, this.carryLen);
      } catch (err) {
        throw locateError(err, this.file, this.lineNo);
      }
      this.carryLen = 0;
    }
  }

  private emit(bytes: Uint8Array, start: number, end: number): void {
    this.lineNo++;
    if (end > start && bytes[end - 1] === 13) end--;
    this.onLine(bytes, start, end, this.lineNo);
  }

  private append(chunk: Uint8Array, start: number, end: number): void {
    const len = end - start;
    if (this.carryLen + len > this.maxLineBytes) {
      this.tooLong(this.carryLen > 0 ? this.carry : chunk, this.carryLen > 0 ? 0 : start);
    }
    if (this.carryLen + len > this.carry.length) {
      const next = new Uint8Array(Math.min(this.maxLineBytes + 1, Math.max(256, (this.carryLen + len) * 2)));
      next.set(this.carry.subarray(0, this.carryLen));
      this.carry = next;
    }
    this.carry.set(chunk.subarray(start, end), this.carryLen);
    this.carryLen += len;
  }

  private tooLong(bytes: Uint8Array, start: number): never {
    throw new HomeostatError("E_LIMIT", `line longer than ${this.maxLineBytes} bytes`, {
      file: this.file,
      line: this.lineNo + 1,
      column: 1,
      excerpt: excerptOfBytes(bytes, start, start + 40, 40),
    });
  }
}

/** A ParseError at a line, with an excerpt of that line. */
export function lineError(
  file: string,
  line: number,
  column: number,
  message: string,
  bytes: Uint8Array,
  start: number,
  end: number,
): ParseError {
  return new ParseError(message, { file, line, column, excerpt: excerptOfBytes(bytes, start, end) });
}

/**
 * Reports a bad line: throws in strict mode, counts and skips it in lenient mode. Parsers call this so that
 * lenient handling is the same everywhere.
 */
export function badLine(options: ParserOptions, err: ParseError): void {
  if (!options.lenient) throw err;
  options.onSkip?.(err);
}

// Errors raised below a parser do not know where in the input they happened: the vocabulary's overflow (E_VOCAB,
// more than 65,535 distinct tokens) is thrown by src/syscalls, which never sees a file. Parsers (and LineSplitter)
// catch what they call and give such an error the file and line they were reading.
// Only errors about the input's content are the input's: a sink's failure to write (E_IO) is about its output, and
// naming the input would change its exit class (src/cli/errors.ts: E_IO naming a file is a usage error).
const CONTENT_CODES: ReadonlySet<ErrorCode> = new Set(["E_VOCAB", "E_LIMIT", "E_PARSE"]);

/**
 * `err` located at `file` (and `line`, when the format has lines) if it is a HomeostatError about the input's
 * content that names no file; anything else unchanged. The original error stays reachable as the cause.
 */
export function locateError(err: unknown, file: string, line?: number): unknown {
  if (!(err instanceof HomeostatError) || err.location.file !== undefined || !CONTENT_CODES.has(err.code)) return err;
  return new HomeostatError(
    err.code,
    err.message,
    { ...err.location, file, ...(line !== undefined ? { line } : {}) },
    {
      cause: err,
    },
  );
}
