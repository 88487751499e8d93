// The University of New Mexico data sets (Forrest et al. 1996; Warrender et al. 1999): one `PID SYSCALL` pair of
// decimal numbers per line, the processes of one run interleaved. Each pid is one trace (stream). The syscall
// numbers come from the traced systems (SunOS 4.1 and Linux of the 1990s) and their table is not published with the
// data, so they become opaque symbols `#<n>`: models compare them only for equality, which is all they need.
//
// A byte-level state machine that keeps its state across chunks: no line buffering, no per-line callback, so it
// runs at the speed of the bytes, and a line of any length fails (or is skipped) as soon as it stops looking like
// `PID SYSCALL`, in constant memory.

import { ParseError } from "../errors.js";
import { opaqueToken } from "../syscalls/vocabulary.js";
import { numberListShape } from "./adfaParser.js";
import { badLine, locateError, type ParserOptions, type TraceFormat, type TraceParser } from "./format.js";

const MAX_PID = 4_294_967_295;
const MAX_SYMBOL = 65_535;

// States of the line machine.
const LINE_START = 0; // blanks before the pid
const PID = 1; // in the pid
const GAP = 2; // blanks between pid and syscall
const SYS = 3; // in the syscall number
const TAIL = 4; // blanks after the syscall
const SKIP = 5; // rest of a malformed line (lenient mode)

export class UnmParser implements TraceParser {
  private readonly cache = new Int32Array(1024).fill(-1);
  private state = LINE_START;
  private pid = 0;
  private sys = 0;
  private line = 1;
  private column = 0;
  private excerpt = "";

  constructor(private readonly options: ParserOptions) {}

  write(chunk: Uint8Array): void {
    // The vocabulary's overflow knows no file: it is located at the line being read (one try per chunk).
    try {
      this.scan(chunk);
    } catch (err) {
      throw locateError(err, this.options.file, this.line);
    }
  }

  private scan(chunk: Uint8Array): void {
    const n = chunk.length;
    for (let i = 0; i < n; i++) {
      // Fast path: a whole well-formed line `PID SYSCALL\n` ahead in this chunk is read in three tight loops.
      // Anything unusual (a split line, trailing blanks, an error) goes through the state machine.
      if (this.state === LINE_START && this.column === 0) {
        const nl = this.wholeLine(chunk, i, n);
        if (nl >= 0) {
          i = nl;
          continue;
        }
      }
      i = this.machineLine(chunk, i, n);
    }
  }

  /** Emits the line `PID SYSCALL\n` that starts at `i` and returns its newline's index; -1 if it is not one. */
  private wholeLine(chunk: Uint8Array, i: number, n: number): number {
    let j = i;
    let p = 0;
    let c = chunk[j]!;
    while (c >= 48 && c <= 57 && j - i < 10) {
      p = p * 10 + (c - 48);
      c = chunk[++j]!;
    }
    if (j === i || c !== 32 || p > MAX_PID) return -1;
    const s0 = ++j;
    let q = 0;
    c = chunk[j]!;
    while (c >= 48 && c <= 57 && j - s0 < 6) {
      q = q * 10 + (c - 48);
      c = chunk[++j]!;
    }
    if (j === s0 || c !== 10 || j >= n || q > MAX_SYMBOL) return -1;
    this.emit(p, q);
    this.line++;
    return j;
  }

  /**
   * Runs the state machine from `i` to the end of the line (or of the chunk) and returns the index of the last byte
   * read. Its state is held in locals for the line, not in fields at every byte: a CRLF file runs entirely here.
   */
  private machineLine(chunk: Uint8Array, i: number, n: number): number {
    let state = this.state;
    let pid = this.pid;
    let sys = this.sys;
    let column = this.column;
    for (; i < n; i++) {
      const b = chunk[i]!;
      column++;
      if (b === 10) break;
      if (state === SKIP) continue;
      const digit = b >= 48 && b <= 57;
      const blank = b === 32 || b === 9 || b === 13;
      if (state === PID) {
        if (digit) {
          pid = pid * 10 + (b - 48);
          if (pid > MAX_PID) state = this.failAt(chunk, i, column, "process id too large");
        } else if (blank) state = GAP;
        else state = this.failAt(chunk, i, column, "expected `PID SYSCALL`: a process id");
      } else if (state === SYS) {
        if (digit) {
          sys = sys * 10 + (b - 48);
          if (sys > MAX_SYMBOL) state = this.failAt(chunk, i, column, "syscall number too large");
        } else if (blank) state = TAIL;
        else state = this.failAt(chunk, i, column, "expected `PID SYSCALL`: a syscall number after the pid");
      } else if (state === LINE_START) {
        if (digit) {
          pid = b - 48;
          state = PID;
        } else if (!blank) state = this.failAt(chunk, i, column, "expected `PID SYSCALL`: a process id");
      } else if (state === GAP) {
        if (digit) {
          sys = b - 48;
          state = SYS;
        } else if (!blank) {
          state = this.failAt(chunk, i, column, "expected `PID SYSCALL`: a syscall number after the pid");
        }
      } else if (!blank) {
        state = this.failAt(chunk, i, column, "unexpected text after `PID SYSCALL`");
      }
    }
    this.state = state;
    this.pid = pid;
    this.sys = sys;
    this.column = column;
    if (i < n) this.endLine(chunk, i);
    return i;
  }

  /** The newline at `i` ends the line in the state machine. */
  private endLine(chunk: Uint8Array, i: number): void {
    const state = this.state;
    if (state === SYS || state === TAIL) this.emit(this.pid, this.sys);
    else if (state === PID || state === GAP)
      this.fail(chunk, i, "expected `PID SYSCALL`: a syscall number after the pid");
    this.state = LINE_START;
    this.pid = 0;
    this.sys = 0;
    this.line++;
    this.column = 0;
  }

  end(): void {
    if (this.state === SYS || this.state === TAIL) {
      try {
        this.emit(this.pid, this.sys);
      } catch (err) {
        throw locateError(err, this.options.file, this.line);
      }
    } else if (this.state === PID || this.state === GAP) {
      this.fail(new Uint8Array(0), 0, "expected `PID SYSCALL`: a syscall number after the pid");
    }
    this.state = LINE_START;
  }

  private emit(pid: number, sys: number): void {
    let id = sys < this.cache.length ? this.cache[sys]! : -1;
    if (id < 0) {
      id = this.options.vocab.intern(opaqueToken(sys));
      if (sys < this.cache.length) this.cache[sys] = id;
    }
    this.options.sink.call(pid, id, Number.NaN, Number.NaN, undefined);
  }

  private failAt(chunk: Uint8Array, i: number, column: number, message: string): number {
    this.column = column;
    this.fail(chunk, i, message);
    return SKIP;
  }

  private fail(chunk: Uint8Array, i: number, message: string): void {
    // The excerpt is the line as far as this chunk holds it: enough to recognise, bounded in size.
    let s = i;
    while (s > 0 && chunk[s - 1] !== 10 && i - s < 40) s--;
    let e = i;
    while (e < chunk.length && chunk[e] !== 10 && e - s < 60) e++;
    this.excerpt = Buffer.from(chunk.buffer, chunk.byteOffset + s, e - s).toString("latin1");
    badLine(
      this.options,
      new ParseError(message, { file: this.options.file, line: this.line, column: this.column, excerpt: this.excerpt }),
    );
  }
}

export const unmFormat: TraceFormat = {
  name: "unm",
  description: "UNM (Forrest et al.): `PID SYSCALL` per line, processes interleaved, one trace per pid",
  sniff(head) {
    if (head.length === 0) return 0;
    const { numbers, perLine, bad } = numberListShape(head, 2);
    if (bad > 0 || numbers === 0) return 0;
    return perLine === 2 ? 0.9 : 0;
  },
  createParser: (options) => new UnmParser(options),
};
