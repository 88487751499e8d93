// ADFA-LD traces (Creech & Hu 2013): one process's system calls per file, as decimal i386 syscall numbers separated
// by whitespace. The numbers are mapped through the kernel's i386 table (syscall_32.tbl), which is what ADFA-LD's
// Ubuntu 11.04 / kernel 2.6.38 host used (the asm-generic list shipped with some mirrors is the wrong table).
//
// The scanner works on bytes and keeps its state across chunk boundaries, so a number split between two chunks is
// read once; the per-call cost is a few byte compares and one typed-array read.

import { abiMapperFor, type AbiMapper, type AbiName } from "../syscalls/abi.js";
import { excerptOfBytes, ParseError } from "../errors.js";
import { badLine, locateError, type ParserOptions, type TraceFormat, type TraceParser } from "./format.js";

/** Largest syscall number accepted: far beyond any real table, small enough to reject garbage quickly. */
const MAX_NUMBER = 4095;

/**
 * Parses whitespace-separated syscall numbers of one ABI into one stream. Used for ADFA-LD (i386) and for any
 * plain list of numbers whose ABI the user names.
 */
export class NumberListParser implements TraceParser {
  private readonly mapper: AbiMapper;
  private value = 0;
  private digits = 0;
  private line = 1;
  private column = 0;
  private skipping = false;
  private readonly stream: number;

  constructor(
    private readonly options: ParserOptions,
    abi: AbiName,
  ) {
    this.mapper = abiMapperFor(abi, options.vocab);
    this.stream = options.defaultStream ?? 0;
  }

  write(chunk: Uint8Array): void {
    // The vocabulary's overflow knows no file: it is located at the line being read (one try per chunk).
    try {
      this.scan(chunk);
    } catch (err) {
      throw locateError(err, this.options.file, this.line);
    }
  }

  // The loop keeps its state in locals (fields are read and written once per chunk, not per byte) and tracks where
  // the current line began rather than counting columns: the column is needed only for an error.
  private scan(chunk: Uint8Array): void {
    const sink = this.options.sink;
    const mapper = this.mapper;
    const stream = this.stream;
    let value = this.value;
    let digits = this.digits;
    let skipping = this.skipping;
    // The column of byte i is i - lineBase (bytes of the current line before this chunk count too).
    let lineBase = -this.column - 1;
    const n = chunk.length;
    for (let i = 0; i < n; i++) {
      const b = chunk[i]!;
      if (b >= 48 && b <= 57) {
        if (skipping) continue;
        value = value * 10 + (b - 48);
        digits++;
        if (value > MAX_NUMBER) {
          this.column = i - lineBase;
          this.fail(chunk, i, digits, `syscall number too large (over ${MAX_NUMBER})`);
          skipping = true;
          value = 0;
          digits = 0;
        }
        continue;
      }
      if (b === 32 || b === 10 || b === 9 || b === 13) {
        if (digits > 0) sink.call(stream, mapper.id(value), Number.NaN, Number.NaN, undefined);
        value = 0;
        digits = 0;
        skipping = false;
        if (b === 10) {
          this.line++;
          lineBase = i;
        }
        continue;
      }
      if (skipping) continue;
      this.column = i - lineBase;
      this.fail(chunk, i, digits, `unexpected byte 0x${b.toString(16).padStart(2, "0")}: expected a syscall number`);
      skipping = true;
      value = 0;
      digits = 0;
    }
    this.value = value;
    this.digits = digits;
    this.skipping = skipping;
    this.column = n - 1 - lineBase;
  }

  end(): void {
    if (this.digits > 0 && !this.skipping) {
      try {
        this.options.sink.call(this.stream, this.mapper.id(this.value), Number.NaN, Number.NaN, undefined);
      } catch (err) {
        throw locateError(err, this.options.file, this.line);
      }
    }
    this.value = 0;
    this.digits = 0;
  }

  // In lenient mode the rest of the malformed token is skipped (up to the next whitespace) and counted once.
  private fail(chunk: Uint8Array, i: number, digits: number, message: string): void {
    const start = Math.max(0, i - digits);
    badLine(
      this.options,
      new ParseError(message, {
        file: this.options.file,
        line: this.line,
        column: this.column,
        excerpt: excerptOfBytes(chunk, start, Math.min(chunk.length, start + 24), 24),
      }),
    );
    this.skipping = true;
  }
}

/**
 * Share of a head that looks like whitespace-separated small numbers. With `stopAbove`, the scan ends at the first
 * line holding more numbers than that (then the counts are partial and perLine is just above it): a format that
 * wants few numbers per line knows its answer there, without scanning a head that is one long line.
 */
export function numberListShape(
  head: Uint8Array,
  stopAbove = Number.POSITIVE_INFINITY,
): { numbers: number; perLine: number; bad: number } {
  let numbers = 0;
  let lines = 0;
  let bad = 0;
  let inNum = false;
  let lineNums = 0;
  let maxPerLine = 0;
  for (let i = 0; i < head.length; i++) {
    const b = head[i]!;
    if (b >= 48 && b <= 57) {
      if (!inNum) {
        numbers++;
        if (++lineNums > stopAbove) return { numbers, perLine: lineNums, bad };
      }
      inNum = true;
    } else if (b === 32 || b === 9 || b === 13) {
      inNum = false;
    } else if (b === 10) {
      inNum = false;
      lines++;
      if (lineNums > maxPerLine) maxPerLine = lineNums;
      lineNums = 0;
    } else {
      bad++;
      inNum = false;
    }
  }
  if (lineNums > maxPerLine) maxPerLine = lineNums;
  return { numbers, perLine: lines === 0 ? numbers : maxPerLine, bad };
}

export const adfaFormat: TraceFormat = {
  name: "adfa",
  description: "ADFA-LD: one trace per file, whitespace-separated i386 syscall numbers",
  sniff(head, path) {
    if (head.length === 0) return 0;
    const { numbers, perLine, bad } = numberListShape(head);
    if (bad > 0 || numbers === 0) return 0;
    // UNM has exactly two numbers per line; ADFA-LD has one line of many numbers.
    if (perLine <= 2) return 0.1;
    return /U[TVA]D-|ADFA/i.test(path) ? 1 : 0.8;
  },
  createParser: (options) => new NumberListParser(options, "i386"),
};
