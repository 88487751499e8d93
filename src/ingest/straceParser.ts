// The strace text-output parser ("strace" format): turns what strace(1) writes into EventSink calls and notes
// (layout read from strace's printleader/syscall_exiting_trace; tested against strace 6.1's real output). It is
// how homeostat reads the per-process system-call streams Forrest et al. (1996) built their "sense of self" on.
//
// A line is `[pid prefix] [timestamp] [(+relative)] [-n/-i brackets] body`:
//   prefix     `[pid  1234] ` (strace -f writing to stderr), `1234  ` (strace -f -o FILE), `1234<comm> `, or none
//   timestamp  -t `HH:MM:SS`, -tt `HH:MM:SS.frac` (seconds since midnight, +86400 per midnight crossed), -ttt
//              `epoch.frac` (epoch seconds), -r `   delta` (right-aligned: summed into seconds since the first)
//   body       `name(args) = ret [ERRNO (text)] [(aux)] [<duration>]`, `name(args <unfinished ...>`,
//              `<... name resumed>args) = ret`, `name(args <detached ...>`, `name(args <pid changed to N ...>`,
//              `--- SIGNAL ... ---`, `+++ exited with N +++`, `+++ killed by SIGNAL [(core dumped) ]+++`,
//              `+++ superseded by execve in pid N +++`
// Skipped: `-k` stack frames (` > ...`), `-e read=` hex dumps (` | ...`), `strace: ...` messages (also when one
// cuts a call line in two, as happens when trace and messages share stderr), `[ Process PID=N runs in M mode. ]`,
// `???() = ?` (an entry stop strace could not decode, from a thread being torn down), and `-c`/`-C` summary
// tables. -X raw / -e raw=all still print names (only arguments turn numeric); a number strace has no name for is
// printed `syscall_0x1c3` and becomes the token `syscall_451`.
//
// Counting rule (one event per call the trace shows started): an unfinished/resumed pair is ONE call, emitted at
// the resumed line (with the start line's time and the resumed line's return value). A call whose resumption
// never comes (the thread exited, was killed, detached, or the text ends) is still emitted once, with ret NaN,
// when that becomes known (`+++` line, a new call of the same stream, `<detached ...>`, or end()); a thread is
// in one syscall at a time, so each stream's events stay in start order. The result equals `strace -c`'s
// per-syscall counts plus the calls that never returned (strace counts a call at its exit, so it leaves out
// exit_group, exit and calls cut by SIGKILL, all printed `= ?`; 6.1 also leaves out `syscall_0x...` calls).
// An execve by a non-leader thread (`<pid changed to L ...>`, then `+++ superseded +++` under L) counts once:
// where it started; with -ff that is the thread's file, and the leader's file gets only the exec note.
//
// Streams: the pid of the prefix, else options.defaultStream ?? 0 (strace -ff files: the caller takes the pid
// from the file name, see pidFromStraceFileName). strace -f writing to stderr prints no prefix while it traces
// one process, which would split that process between stream 0 and its pid: the first prefixed pid that is not
// a new child is taken to be the unprefixed process and reported as the unprefixed stream, and later unprefixed
// lines go to the one process known to be alive (from prefixes and `Process N attached`), when there is one.
//
// Hot path: bytes only, no regular expressions, no recursion, no per-line strings unless keepArgs. The `) = `
// that ends the arguments is found by a short backward scan from the line's end, confirmed outside strings by
// hopping between quotes with the native search (strace escapes `"` and `\` inside strings, and `<`/`>` inside
// -y decorations); lines where that fails fall back to one linear forward scan. Names are interned straight
// from the bytes; numbers are parsed in place.

import { excerptOfBytes, HomeostatError, type ParseError } from "../errors.js";
import { unknownSyscallToken, Vocabulary } from "../syscalls/vocabulary.js";
import type { EventSink, StreamNote } from "./event.js";
import {
  badLine,
  DEFAULT_MAX_LINE_BYTES,
  LineSplitter,
  lineError,
  type ParserOptions,
  type TraceFormat,
  type TraceParser,
} from "./format.js";

const SP = 0x20;
const TAB = 0x09;
const QUOTE = 0x22;
const PERCENT = 0x25;
const LPAREN = 0x28;
const RPAREN = 0x29;
const PLUS = 0x2b;
const DASH = 0x2d;
const DOT = 0x2e;
const COLON = 0x3a;
const LT = 0x3c;
const EQ = 0x3d;
const GT = 0x3e;
const QMARK = 0x3f;
const LBRACK = 0x5b;
const BACKSLASH = 0x5c;
const RBRACK = 0x5d;
const PIPE = 0x7c;

/** Longest syscall name accepted (strace's longest is under 32 bytes). */
const MAX_NAME = 64;
/** Most calls kept waiting for their `resumed` half; more (a hostile input) flushes them all with ret NaN. */
const MAX_PENDING = 1 << 16;
/** Most pids tracked as alive for unprefixed lines of `strace -f` to stderr; beyond it that guess is dropped. */
const MAX_LIVE = 1 << 16;
/** -ttt values below this without -r padding are still read as absolute (epoch) times. */
const EPOCH_MIN = 1e8;
/** Linux's PID_MAX_LIMIT. */
const PID_MAX = 4_194_304;

const UNFINISHED = bytesOf(" <unfinished ...>");
const DETACHED = bytesOf(" <detached ...>");
const RESUMED = bytesOf(" resumed>");
const PID_CHANGED = bytesOf(" <pid changed to ");
const POW10: Float64Array = (() => {
  const p = new Float64Array(24);
  p[0] = 1;
  for (let i = 1; i < p.length; i++) p[i] = p[i - 1]! * 10;
  return p;
})();

function bytesOf(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, "latin1"));
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isIdentStart(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f;
}

function isIdent(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f || (c >= 0x30 && c <= 0x39);
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

/** The index of the first `byte` in b[from, end), or -1 (bounded, unlike indexOf on a whole chunk). */
function findByte(b: Uint8Array, byte: number, from: number, end: number): number {
  for (let i = from; i < end; i++) if (b[i] === byte) return i;
  return -1;
}

function matchAt(b: Uint8Array, p: number, end: number, word: Uint8Array): boolean {
  if (p + word.length > end) return false;
  for (let i = 0; i < word.length; i++) if (b[p + i] !== word[i]) return false;
  return true;
}

function asciiAt(b: Uint8Array, p: number, end: number, word: string): boolean {
  if (p + word.length > end) return false;
  for (let i = 0; i < word.length; i++) if (b[p + i] !== word.charCodeAt(i)) return false;
  return true;
}

function latin1(b: Uint8Array, start: number, end: number): string {
  return Buffer.from(b.buffer, b.byteOffset + start, end - start).toString("latin1");
}

function utf8(b: Uint8Array, start: number, end: number): string {
  return Buffer.from(b.buffer, b.byteOffset + start, end - start).toString("utf8");
}

/**
 * The pid of an `strace -ff -o NAME` output file `NAME.<pid>`, or undefined when the name does not end that way.
 * Takes the last path component of a file path or an `archive:member` display path.
 */
export function pidFromStraceFileName(path: string): number | undefined {
  const slash = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"), path.lastIndexOf(":"));
  const base = path.slice(slash + 1);
  const dot = base.lastIndexOf(".");
  if (dot <= 0 || dot === base.length - 1) return undefined;
  const digits = base.slice(dot + 1);
  if (digits.length > 10) return undefined;
  for (let i = 0; i < digits.length; i++) if (!isDigit(digits.charCodeAt(i))) return undefined;
  const pid = Number(digits);
  // Linux pids are 1..PID_MAX_LIMIT (2^22); a leading zero is not how strace writes one.
  if (pid < 1 || pid > 4_194_304 || digits[0] === "0") return undefined;
  return pid;
}

/** Decodes a C-style quoted string as strace prints it (\\n, \\t, \\", \\\\, \\xHH, \\ooo), from its opening quote. */
function decodeQuoted(b: Uint8Array, p: number, end: number): string | undefined {
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
    i += 2;
    switch (d) {
      case 0x6e: // n
        out.push(10);
        break;
      case 0x74: // t
        out.push(9);
        break;
      case 0x72: // r
        out.push(13);
        break;
      case 0x76: // v
        out.push(11);
        break;
      case 0x66: // f
        out.push(12);
        break;
      case 0x78: {
        // \xHH
        let v = 0;
        let k = 0;
        while (k < 2 && i < end && hexValue(b[i]!) >= 0) {
          v = v * 16 + hexValue(b[i]!);
          i++;
          k++;
        }
        out.push(v & 0xff);
        break;
      }
      default:
        if (d >= 0x30 && d <= 0x37) {
          let v = d - 0x30;
          let k = 1;
          while (k < 3 && i < end && b[i]! >= 0x30 && b[i]! <= 0x37) {
            v = v * 8 + (b[i]! - 0x30);
            i++;
            k++;
          }
          out.push(v & 0xff);
        } else out.push(d);
    }
  }
  return undefined;
}

/**
 * Calls started but not yet resumed, keyed by stream: open addressing with linear probing and backward-shift
 * deletion, in parallel typed arrays (a thread is in at most one syscall, so one entry per stream).
 */
class PendingTable {
  count = 0;
  private cap = 64;
  used = new Uint8Array(64);
  key = new Int32Array(64);
  sys = new Int32Array(64);
  time = new Float64Array(64);
  seq = new Float64Array(64);
  args: (string | undefined)[] = new Array<string | undefined>(64);
  exec: (string | null | undefined)[] = new Array<string | null | undefined>(64);

  find(key: number): number {
    const mask = this.cap - 1;
    let slot = (Math.imul(key, 0x9e3779b1) >>> 0) & mask;
    while (this.used[slot] === 1) {
      if (this.key[slot] === key) return slot;
      slot = (slot + 1) & mask;
    }
    return -1;
  }

  /** Adds an entry for a key that is not present; returns its slot. */
  insert(key: number): number {
    if ((this.count + 1) * 2 > this.cap) this.grow();
    const mask = this.cap - 1;
    let slot = (Math.imul(key, 0x9e3779b1) >>> 0) & mask;
    while (this.used[slot] === 1) slot = (slot + 1) & mask;
    this.used[slot] = 1;
    this.key[slot] = key;
    this.args[slot] = undefined;
    this.exec[slot] = undefined;
    this.count++;
    return slot;
  }

  remove(slot: number): void {
    const mask = this.cap - 1;
    this.used[slot] = 0;
    this.args[slot] = undefined;
    this.exec[slot] = undefined;
    this.count--;
    let hole = slot;
    let j = (slot + 1) & mask;
    while (this.used[j] === 1) {
      const home = (Math.imul(this.key[j]!, 0x9e3779b1) >>> 0) & mask;
      // Move j into the hole when its home is not cyclically within (hole, j].
      const inRange = hole <= j ? home > hole && home <= j : home > hole || home <= j;
      if (!inRange) {
        this.move(j, hole);
        hole = j;
      }
      j = (j + 1) & mask;
    }
  }

  /** The keys of all entries, in the order their calls started. */
  keysInOrder(): number[] {
    const slots: number[] = [];
    for (let i = 0; i < this.cap; i++) if (this.used[i] === 1) slots.push(i);
    slots.sort((a, b) => this.seq[a]! - this.seq[b]!);
    return slots.map((slot) => this.key[slot]!);
  }

  private move(from: number, to: number): void {
    this.used[to] = 1;
    this.key[to] = this.key[from]!;
    this.sys[to] = this.sys[from]!;
    this.time[to] = this.time[from]!;
    this.seq[to] = this.seq[from]!;
    this.args[to] = this.args[from];
    this.exec[to] = this.exec[from];
    this.used[from] = 0;
    this.args[from] = undefined;
    this.exec[from] = undefined;
  }

  private grow(): void {
    const old = {
      used: this.used,
      key: this.key,
      sys: this.sys,
      time: this.time,
      seq: this.seq,
      args: this.args,
      exec: this.exec,
    };
    const cap = this.cap * 2;
    this.cap = cap;
    this.used = new Uint8Array(cap);
    this.key = new Int32Array(cap);
    this.sys = new Int32Array(cap);
    this.time = new Float64Array(cap);
    this.seq = new Float64Array(cap);
    this.args = new Array<string | undefined>(cap);
    this.exec = new Array<string | null | undefined>(cap);
    this.count = 0;
    for (let i = 0; i < old.used.length; i++) {
      if (old.used[i] !== 1) continue;
      const s = this.insert(old.key[i]!);
      this.sys[s] = old.sys[i]!;
      this.time[s] = old.time[i]!;
      this.seq[s] = old.seq[i]!;
      this.args[s] = old.args[i];
      this.exec[s] = old.exec[i];
    }
  }
}

/** A set of pids (open addressing, backward-shift deletion), for "which process is still alive". */
class PidSet {
  count = 0;
  private cap = 64;
  private used = new Uint8Array(64);
  private keys = new Int32Array(64);

  has(key: number): boolean {
    const mask = this.cap - 1;
    let slot = (Math.imul(key, 0x9e3779b1) >>> 0) & mask;
    while (this.used[slot] === 1) {
      if (this.keys[slot] === key) return true;
      slot = (slot + 1) & mask;
    }
    return false;
  }

  add(key: number): void {
    if (this.has(key)) return;
    if ((this.count + 1) * 2 > this.cap) {
      const oldUsed = this.used;
      const oldKeys = this.keys;
      this.cap *= 2;
      this.used = new Uint8Array(this.cap);
      this.keys = new Int32Array(this.cap);
      this.count = 0;
      for (let i = 0; i < oldUsed.length; i++) if (oldUsed[i] === 1) this.add(oldKeys[i]!);
    }
    const mask = this.cap - 1;
    let slot = (Math.imul(key, 0x9e3779b1) >>> 0) & mask;
    while (this.used[slot] === 1) slot = (slot + 1) & mask;
    this.used[slot] = 1;
    this.keys[slot] = key;
    this.count++;
  }

  delete(key: number): void {
    const mask = this.cap - 1;
    let slot = (Math.imul(key, 0x9e3779b1) >>> 0) & mask;
    while (this.used[slot] === 1 && this.keys[slot] !== key) slot = (slot + 1) & mask;
    if (this.used[slot] !== 1) return;
    this.used[slot] = 0;
    this.count--;
    let hole = slot;
    let j = (slot + 1) & mask;
    while (this.used[j] === 1) {
      const home = (Math.imul(this.keys[j]!, 0x9e3779b1) >>> 0) & mask;
      const inRange = hole <= j ? home > hole && home <= j : home > hole || home <= j;
      if (!inRange) {
        this.used[hole] = 1;
        this.keys[hole] = this.keys[j]!;
        this.used[j] = 0;
        hole = j;
      }
      j = (j + 1) & mask;
    }
  }

  /** The only member, or -1 when there is not exactly one. */
  sole(): number {
    if (this.count !== 1) return -1;
    for (let i = 0; i < this.cap; i++) if (this.used[i] === 1) return this.keys[i]!;
    return -1;
  }
}

/** Parses strace text output into an EventSink. */
export class StraceParser implements TraceParser {
  private readonly splitter: LineSplitter;
  private readonly file: string;
  private readonly vocab: Vocabulary;
  private readonly sink: EventSink;
  private readonly keepArgs: boolean;
  private readonly options: ParserOptions;
  /** The stream of lines without a pid prefix. */
  private readonly unprefixedStream: number;
  private readonly pending = new PendingTable();
  private readonly maxLineBytes: number;
  /** The head of a line cut by an strace message (onRawLine), and its length (0: none). */
  private joinBuf = new Uint8Array(0);
  private joinLen = 0;
  private seq = 0;
  private skippedLines = 0;
  private callCount = 0;
  private unknownIds: Map<number, number> | undefined;

  // Timestamps: -t/-tt wrap at midnight (dayOffset), -r deltas are summed (relTime).
  private dayOffset = 0;
  private lastTod = -1;
  private relTime = 0;
  private sawPaddedRelative = false;

  // strace -f writing to stderr: unprefixed lines while one process is traced (see the module header).
  private sawUnprefixedCall = false;
  private lastPrefixedPid = -1;
  private aliasPid = -1;
  private lastChildPid = -1;
  private readonly live = new PidSet();
  private liveOverflow = false;

  private inSummary = false;

  // A `strace: Process N attached|detached` message (kind 1|2, 0 = none) waiting for the line it cut.
  private msgKind = 0;
  private msgPid = 0;

  // A threaded execve: the stream whose next `<... execve resumed>` completes a call counted elsewhere, and
  // the pid and path of the last `execve(... <pid changed to N ...>`.
  private supersededStream = -1;
  private pidChangedTo = -1;
  private pidChangeTo = -1;
  private pidChangePath: string | null = null;

  // nextQuote's memo: the array it searched and the next match positions in it.
  private scanArray: Uint8Array | undefined;
  private quotePos = -1;
  private quoteFrom = 0;

  // Per-line results of the leader and body scanners (fields, not objects, so nothing is allocated per line).
  private lineStream = 0;
  private linePid = -1;
  private lineTime = Number.NaN;
  private retValue = Number.NaN;

  constructor(options: ParserOptions) {
    this.options = options;
    this.file = options.file;
    this.vocab = options.vocab;
    this.sink = options.sink;
    this.keepArgs = options.keepArgs === true;
    this.unprefixedStream = options.defaultStream ?? 0;
    this.maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    this.splitter = new LineSplitter(
      options.file,
      (b, s, e, n) => this.onRawLine(b, s, e, n),
      this.maxLineBytes,
    );
  }

  /** Lines skipped as malformed (lenient mode). */
  get skipped(): number {
    return this.skippedLines;
  }

  /** Lines read so far. */
  get lines(): number {
    return this.splitter.lines;
  }

  /** Calls started and not yet emitted (waiting for their `resumed` half). */
  get pendingCount(): number {
    return this.pending.count;
  }

  /** Calls emitted so far. */
  get calls(): number {
    return this.callCount;
  }

  write(chunk: Uint8Array): void {
    this.scanArray = undefined; // a caller may refill the same buffer
    this.splitter.write(chunk);
  }

  end(): void {
    this.splitter.end();
    if (this.joinLen > 0) {
      // The input ended inside a line that an strace message had cut: parse what there is.
      const n = this.joinLen;
      this.joinLen = 0;
      this.onLine(this.joinBuf, 0, n, this.splitter.lines);
    }
    if (this.msgKind !== 0) this.applyProcessMessage();
    // Calls whose resumed half never came: still one call each, in the order they started.
    this.flushAllPending();
  }

  // ---------------------------------------------------------------------------------------------- lines

  /**
   * strace writes its `strace: Process N attached` message straight to stderr, so with the trace on stderr too
   * the message can land inside a call line (`clone(...|SIGCHLDstrace: Process 7 attached` + newline +
   * `, child_tidptr=...) = 7`). Such a line's head waits in joinBuf and is glued to the next line.
   */
  private onRawLine(b: Uint8Array, s: number, e: number, lineNo: number): void {
    if (this.joinLen > 0) {
      const head = this.joinLen;
      const total = head + (e - s);
      if (total > this.maxLineBytes) {
        throw new HomeostatError("E_LIMIT", `line longer than ${this.maxLineBytes} bytes`, {
          file: this.file,
          line: lineNo,
          column: 1,
          excerpt: excerptOfBytes(this.joinBuf, 0, Math.min(head, 40), 40),
        });
      }
      if (total > this.joinBuf.length) {
        const next = new Uint8Array(Math.max(256, total * 2));
        next.set(this.joinBuf.subarray(0, head));
        this.joinBuf = next;
      }
      this.joinBuf.set(b.subarray(s, e), head);
      this.joinLen = 0;
      this.scanArray = undefined; // joinBuf's content changed under nextQuote's memo
      b = this.joinBuf;
      s = 0;
      e = total;
    }
    const last = b[e - 1];
    if (e - s > 24 && (last === 0x64 || last === 0x73)) {
      const k = this.embeddedMessage(b, s, e);
      if (k > s) {
        // The message takes effect after the line it cut: that line began before it (a new process's lines
        // have a prefix; the rest of this one does not).
        if (this.msgKind !== 0) this.applyProcessMessage();
        this.readProcessMessage(b, k + 7, e);
        if (k - s > this.maxLineBytes) return; // cannot happen: the splitter bounds lines
        if (b !== this.joinBuf) {
          if (k - s > this.joinBuf.length) this.joinBuf = new Uint8Array(Math.max(256, (k - s) * 2));
          this.joinBuf.set(b.subarray(s, k), 0);
          this.scanArray = undefined;
        }
        this.joinLen = k - s;
        return;
      }
    }
    this.onLine(b, s, e, lineNo);
    if (this.msgKind !== 0) this.applyProcessMessage();
  }

  /** Where `strace: Process N attached|detached|... threads` starts at the end of a line, or -1. */
  private embeddedMessage(b: Uint8Array, s: number, e: number): number {
    if (
      !(
        asciiAt(b, e - 8, e, "attached") ||
        asciiAt(b, e - 8, e, "detached") ||
        asciiAt(b, e - 7, e, "threads")
      )
    ) {
      return -1;
    }
    for (let i = e - 24; i > s && i > e - 120; i--) {
      if (b[i] === 0x73 && asciiAt(b, i, e, "strace: Process ")) return i;
    }
    return -1;
  }

  private onLine(b: Uint8Array, s: number, e: number, lineNo: number): void {
    if (s >= e) return;
    const c0 = b[s]!;
    // `-k` stack frames and `-e read=/write=` hex dumps: written without a leader.
    if (c0 === SP && s + 2 < e && (b[s + 1] === GT || b[s + 1] === PIPE) && b[s + 2] === SP) return;
    if (this.inSummary || c0 === PERCENT) {
      if (this.summaryLine(b, s, e)) return;
    }
    const p = this.leader(b, s, e, lineNo);
    if (p < 0) return;
    const c = b[p];
    if (c === undefined || p >= e) {
      this.fail(lineNo, p - s + 1, "a line prefix with nothing after it", b, s, e);
      return;
    }
    if (isIdentStart(c)) {
      this.callLine(b, s, p, e, lineNo);
      return;
    }
    if (c === LT) {
      if (asciiAt(b, p, e, "<... ??? resumed>")) return; // the other half of an undecoded `???(` (below)
      this.resumedLine(b, s, p, e, lineNo);
      return;
    }
    if (c === DASH && asciiAt(b, p, e, "--- ")) {
      this.signalLine(b, s, p + 4, e, lineNo);
      return;
    }
    if (c === PLUS && asciiAt(b, p, e, "+++ ")) {
      this.exitLine(b, s, p + 4, e, lineNo);
      return;
    }
    if (c === LBRACK && asciiAt(b, p, e, "[ Process PID=")) return;
    // `???() = ?`: a syscall-entry stop strace could not decode, seen when a thread is torn down (killed by
    // another thread's execve or exit_group) outside a system call. No call was made; strace -c counts none.
    if (c === QMARK && asciiAt(b, p, e, "???(")) return;
    if (this.summaryStart(b, s, e)) {
      this.inSummary = true;
      return;
    }
    this.fail(lineNo, p - s + 1, "not strace output: expected a system call", b, s, e);
  }

  /**
   * Parses the pid prefix, timestamps and -n/-i brackets; sets lineStream/linePid/lineTime and returns where the
   * body starts (or -1 after reporting a bad line).
   */
  private leader(b: Uint8Array, s: number, e: number, lineNo: number): number {
    let p = s;
    let pid = -1;
    let pidFieldEnd = s; // where a padded -r field would start
    const c = b[p]!;
    if (c === LBRACK && asciiAt(b, p, e, "[pid")) {
      p += 4;
      while (p < e && b[p] === SP) p++;
      const q = p;
      let v = 0;
      while (p < e && isDigit(b[p]!)) {
        v = v * 10 + (b[p]! - 0x30);
        p++;
      }
      if (p === q || p - q > 7 || v > PID_MAX) {
        this.fail(lineNo, q - s + 1, "bad pid in `[pid N]` prefix", b, s, e);
        return -1;
      }
      if (b[p] === LT) p = this.skipComm(b, p, e);
      if (p < 0 || b[p] !== RBRACK || b[p + 1] !== SP || p + 1 >= e) {
        this.fail(lineNo, Math.max(p, q) - s + 1, "bad `[pid N]` prefix", b, s, e);
        return -1;
      }
      p += 2;
      pid = v;
      pidFieldEnd = p;
    } else if (isDigit(c)) {
      let q = p;
      let v = 0;
      while (q < e && isDigit(b[q]!)) {
        v = v * 10 + (b[q]! - 0x30);
        q++;
      }
      const d = b[q];
      // A pid (at most PID_MAX_LIMIT = 2^22); a larger number before a space is an epoch time without fraction.
      if (q < e && (d === SP || d === LT) && q - p <= 7 && v <= PID_MAX) {
        const digits = q - p;
        let hasComm = false;
        if (d === LT) {
          q = this.skipComm(b, q, e);
          if (q < 0 || b[q] !== SP) {
            this.fail(lineNo, digits + 1, "bad `pid<comm>` prefix", b, s, e);
            return -1;
          }
          hasComm = true;
        }
        pid = v;
        // strace pads a pid to 5 columns (`%-5u `) unless it prints the comm too; -r pads beyond that.
        pidFieldEnd = hasComm ? q + 1 : p + Math.max(5, digits) + 1;
        p = q;
      }
    }
    // Spaces: alignment after the pid, or -r's right-aligned seconds.
    const spacesFrom = p;
    while (p < e && b[p] === SP) p++;
    this.lineTime = Number.NaN;
    if (p < e && isDigit(b[p]!)) {
      const padded = p > Math.max(spacesFrom, pidFieldEnd);
      p = this.timestamp(b, s, p, e, lineNo, padded);
      if (p < 0) return -1;
      while (p < e && b[p] === SP) p++;
    }
    // -n `[ 59] ` and -i `[00007f...] ` (`[????????????????]` when unknown): hex digits, x, ? and spaces.
    while (p < e && b[p] === LBRACK) {
      let q = p + 1;
      while (q < e && (b[q] === SP || hexValue(b[q]!) >= 0 || b[q] === 0x78 || b[q] === QMARK)) q++;
      if (q >= e || b[q] !== RBRACK || q === p + 1) break;
      p = q + 1;
      while (p < e && b[p] === SP) p++;
    }
    this.linePid = pid;
    if (pid >= 0) {
      if (pid !== this.lastPrefixedPid) this.prefixedPid(pid);
      this.lineStream = pid === this.aliasPid ? this.unprefixedStream : pid;
    } else {
      this.lineStream = this.unprefixedLineStream();
    }
    return p;
  }

  /** Skips `<comm>` (--decode-pids=comm) from its `<`; returns the index after `>` or -1. */
  private skipComm(b: Uint8Array, p: number, e: number): number {
    const q = findByte(b, GT, p + 1, Math.min(e, p + 65));
    return q < 0 ? -1 : q + 1;
  }

  /** Parses a timestamp at p (a digit); sets lineTime; returns the index after it, or -1 after failing. */
  private timestamp(b: Uint8Array, s: number, p: number, e: number, lineNo: number, padded: boolean): number {
    const start = p;
    let v = 0;
    while (p < e && isDigit(b[p]!)) {
      v = v * 10 + (b[p]! - 0x30);
      p++;
    }
    if (p - start > 15) {
      this.fail(lineNo, start - s + 1, "timestamp too long", b, s, e);
      return -1;
    }
    if (b[p] === COLON && p < e) {
      // -t / -tt: HH:MM:SS[.frac], time of day.
      const h = v;
      p++;
      const m = this.twoDigits(b, p, e);
      if (m < 0 || b[p + 2] !== COLON) {
        this.fail(lineNo, p - s + 1, "bad time of day", b, s, e);
        return -1;
      }
      p += 3;
      const sec = this.twoDigits(b, p, e);
      if (sec < 0 || h > 23 || m > 59 || sec > 60) {
        this.fail(lineNo, p - s + 1, "bad time of day", b, s, e);
        return -1;
      }
      p += 2;
      let t = h * 3600 + m * 60 + sec;
      if (b[p] === DOT && p < e) {
        const f = this.fraction(b, p + 1, e);
        if (f < 0) {
          this.fail(lineNo, p - s + 1, "bad time of day", b, s, e);
          return -1;
        }
        t += this.fracValue;
        p = f;
      }
      if (t + this.dayOffset < this.lastTod - 43_200) this.dayOffset += 86_400; // the trace crossed midnight
      t += this.dayOffset;
      this.lastTod = t;
      this.lineTime = t;
    } else {
      // -ttt epoch.frac or -r delta.
      let t = v;
      if (b[p] === DOT && p < e) {
        const f = this.fraction(b, p + 1, e);
        if (f < 0) {
          this.fail(lineNo, p - s + 1, "bad timestamp", b, s, e);
          return -1;
        }
        t += this.fracValue;
        p = f;
      } else if (p - start < 6) {
        // A bare integer here is not a strace leader (-ttt and -r always print a fraction).
        this.fail(lineNo, start - s + 1, "not strace output: expected a system call", b, s, e);
        return -1;
      }
      if (padded) this.sawPaddedRelative = true;
      if (padded || (t < EPOCH_MIN && this.sawPaddedRelative)) {
        this.relTime += t;
        this.lineTime = this.relTime;
      } else {
        this.lineTime = t;
      }
    }
    if (p >= e || b[p] !== SP) {
      this.fail(lineNo, p - s + 1, "expected a space after the timestamp", b, s, e);
      return -1;
    }
    // -t with -r: `(+     0.000123) ` after the absolute time; the absolute time wins.
    let q = p;
    while (q < e && b[q] === SP) q++;
    if (b[q] === LPAREN && b[q + 1] === PLUS && q + 1 < e) {
      const close = findByte(b, RPAREN, q, Math.min(e, q + 41));
      if (close < 0) {
        this.fail(lineNo, q - s + 1, "bad `(+relative)` timestamp", b, s, e);
        return -1;
      }
      p = close + 1;
    }
    return p;
  }

  private fracValue = 0;

  /** Parses fraction digits from p; sets fracValue; returns the index after them, or -1 when there are none. */
  private fraction(b: Uint8Array, p: number, e: number): number {
    const start = p;
    let f = 0;
    while (p < e && isDigit(b[p]!)) {
      f = f * 10 + (b[p]! - 0x30);
      p++;
    }
    const n = p - start;
    if (n === 0 || n > 18) return -1;
    this.fracValue = f / POW10[n]!;
    return p;
  }

  private twoDigits(b: Uint8Array, p: number, e: number): number {
    if (p + 1 >= e) return -1;
    const a = b[p]!;
    const c = b[p + 1]!;
    if (!isDigit(a) || !isDigit(c)) return -1;
    return (a - 0x30) * 10 + (c - 0x30);
  }

  // ---------------------------------------------------------------------------------------------- call lines

  private callLine(b: Uint8Array, s: number, p: number, e: number, lineNo: number): void {
    const nameStart = p;
    while (p < e && isIdent(b[p]!)) p++;
    const nameEnd = p;
    if (b[p] !== LPAREN || p >= e) {
      if (
        b[p] === COLON &&
        nameEnd - nameStart === 6 &&
        asciiAt(b, nameStart, e, "strace") &&
        this.linePid < 0
      ) {
        this.straceMessage(b, p + 1, e);
        return;
      }
      if (this.linePid < 0 && this.summaryStart(b, s, e)) {
        this.inSummary = true;
        return;
      }
      this.fail(lineNo, p - s + 1, "not strace output: expected `(` after a system call name", b, s, e);
      return;
    }
    if (nameEnd - nameStart > MAX_NAME) {
      this.fail(lineNo, nameStart - s + 1, "system call name too long", b, s, e);
      return;
    }
    const argsStart = p + 1;
    const stream = this.lineStream;
    // A stream is in one call at a time: an older unresumed call of this stream never returned.
    if (this.pending.count > 0) this.flushPending(stream);
    if (this.endsWith(b, e, UNFINISHED, argsStart)) {
      const id = this.syscallId(b, nameStart, nameEnd);
      this.startPending(stream, id, b, nameStart, nameEnd, argsStart, e - UNFINISHED.length);
      this.noteUnprefixedCall();
      return;
    }
    const cut = this.endsWith(b, e, DETACHED, argsStart)
      ? e - DETACHED.length
      : this.pidChangedAt(b, argsStart, e);
    if (cut >= 0) {
      // Detached, or an execve whose thread took over the leader's pid (its return shows under that pid, after
      // `+++ superseded by execve +++`, or in that pid's -ff file): one call, counted here.
      const id = this.syscallId(b, nameStart, nameEnd);
      this.emit(stream, id, this.lineTime, Number.NaN, this.keepArgs ? utf8(b, argsStart, cut) : undefined);
      this.noteUnprefixedCall();
      if (cut !== e - DETACHED.length && this.isExecName(b, nameStart, nameEnd)) {
        this.pidChangeTo = this.pidChangedTo;
        this.pidChangePath = this.execPath(b, nameStart, nameEnd, argsStart, cut);
      }
      return;
    }
    const close = this.findClose(b, argsStart, e);
    if (close < 0) {
      this.fail(lineNo, e - s + 1, "system call line without ` = return value`", b, s, e);
      return;
    }
    const retEnd = this.parseReturn(b, close, e);
    if (retEnd < 0) {
      this.fail(lineNo, -retEnd - s + 1, "bad return value", b, s, e);
      return;
    }
    const id = this.syscallId(b, nameStart, nameEnd);
    const ret = this.retValue;
    this.emit(stream, id, this.lineTime, ret, this.keepArgs ? utf8(b, argsStart, close) : undefined);
    if (this.linePid < 0) this.noteUnprefixedCall(b, nameStart, nameEnd, ret);
    const len = nameEnd - nameStart;
    if ((len === 6 || len === 8) && ret === 0 && this.isExecName(b, nameStart, nameEnd)) {
      this.noteExec(stream, this.lineTime, this.execPath(b, nameStart, nameEnd, argsStart, close));
    }
  }

  private resumedLine(b: Uint8Array, s: number, p: number, e: number, lineNo: number): void {
    if (!asciiAt(b, p, e, "<... ")) {
      this.fail(lineNo, p - s + 1, "not strace output: expected `<... NAME resumed>`", b, s, e);
      return;
    }
    const nameStart = p + 5;
    let q = nameStart;
    while (q < e && isIdent(b[q]!)) q++;
    const nameEnd = q;
    if (nameEnd === nameStart || nameEnd - nameStart > MAX_NAME || !matchAt(b, q, e, RESUMED)) {
      this.fail(lineNo, q - s + 1, "bad `<... NAME resumed>`", b, s, e);
      return;
    }
    const restStart = q + RESUMED.length;
    const stream = this.lineStream;
    const id = this.syscallId(b, nameStart, nameEnd);
    let slot = this.pending.count > 0 ? this.pending.find(stream) : -1;
    if (slot >= 0 && this.pending.sys[slot] !== id) {
      // Not the call this stream started (a lost line): that one never returned; this one started unseen.
      this.emitPendingUnresumed(slot);
      slot = -1;
    }
    if (this.endsWith(b, e, UNFINISHED, restStart)) {
      // Resumed and interrupted again: still the same one call.
      if (slot < 0) {
        this.startPending(stream, id, b, nameStart, nameEnd, restStart, e - UNFINISHED.length);
      } else if (this.keepArgs) {
        this.pending.args[slot] = (this.pending.args[slot] ?? "") + utf8(b, restStart, e - UNFINISHED.length);
      }
      return;
    }
    let close = -1;
    let ret = Number.NaN;
    if (this.endsWith(b, e, DETACHED, restStart)) {
      close = e - DETACHED.length;
    } else {
      close = this.findClose(b, restStart, e);
      if (close < 0) {
        this.fail(lineNo, e - s + 1, "resumed system call without ` = return value`", b, s, e);
        return;
      }
      const retEnd = this.parseReturn(b, close, e);
      if (retEnd < 0) {
        this.fail(lineNo, -retEnd - s + 1, "bad return value", b, s, e);
        return;
      }
      ret = this.retValue;
    }
    let time = this.lineTime;
    let args: string | undefined;
    let exec: string | null | undefined;
    if (this.keepArgs) {
      let a = restStart;
      if (matchAt(b, a, close, UNFINISHED)) a += UNFINISHED.length;
      args = utf8(b, a, close);
    }
    if (slot >= 0) {
      time = this.pending.time[slot]!;
      if (this.keepArgs) args = (this.pending.args[slot] ?? "") + (args ?? "");
      exec = this.pending.exec[slot];
      this.pending.remove(slot);
    } else if (stream === this.supersededStream && this.isExecName(b, nameStart, nameEnd)) {
      // The return of an execve that another thread started (and that was counted there: `<pid changed to>`).
      this.supersededStream = -1;
      if (ret === 0)
        this.noteExec(stream, time, this.pidChangeTo === this.linePid ? this.pidChangePath : null);
      return;
    }
    this.emit(stream, id, time, ret, args);
    if (this.linePid < 0) this.noteUnprefixedCall(b, nameStart, nameEnd, ret);
    if (ret === 0 && (exec !== undefined || this.isExecName(b, nameStart, nameEnd))) {
      this.noteExec(stream, time, exec ?? null);
    }
  }

  /** Registers an unfinished call of a stream. */
  private startPending(
    stream: number,
    id: number,
    b: Uint8Array,
    nameStart: number,
    nameEnd: number,
    argsStart: number,
    argsEnd: number,
  ): void {
    if (this.pending.count >= MAX_PENDING) {
      // Bounded memory: this many threads all inside a call is not a real trace; settle them now.
      this.flushAllPending();
    }
    const slot = this.pending.insert(stream);
    this.pending.sys[slot] = id;
    this.pending.time[slot] = this.lineTime;
    this.pending.seq[slot] = this.seq++;
    if (this.keepArgs) this.pending.args[slot] = utf8(b, argsStart, argsEnd);
    if (this.isExecName(b, nameStart, nameEnd)) {
      this.pending.exec[slot] = this.execPath(b, nameStart, nameEnd, argsStart, argsEnd);
    }
  }

  /** Settles every unresumed call, in the order they started (removal moves slots: look each up by key). */
  private flushAllPending(): void {
    for (const key of this.pending.keysInOrder()) this.flushPending(key);
  }

  private flushPending(stream: number): void {
    const slot = this.pending.find(stream);
    if (slot >= 0) this.emitPendingUnresumed(slot);
  }

  private emitPendingUnresumed(slot: number): void {
    const p = this.pending;
    const stream = p.key[slot]!;
    const id = p.sys[slot]!;
    const time = p.time[slot]!;
    const args = p.args[slot];
    p.remove(slot);
    this.emit(stream, id, time, Number.NaN, args);
  }

  private emit(stream: number, id: number, time: number, ret: number, args: string | undefined): void {
    this.callCount++;
    this.sink.call(stream, id, time, ret, args);
  }

  /**
   * The ')' that closes the argument list: the last `)` outside quoted strings and `<...>` decorations followed
   * by spaces and `= `. A quoted string is skipped whole (strace escapes `"` and `\` in it); so is a -y/-Y
   * decoration such as `3</tmp/a) = b>` or `AT_FDCWD</x>` (strace escapes `<` and `>` in it), which can also
   * follow the return value. A backslash elsewhere escapes the next byte. Linear in the line length.
   */
  private findClose(b: Uint8Array, p: number, e: number): number {
    // Fast path: the last `) = ` from the line's end is the answer when it is outside strings (checked by
    // hopping from quote to quote with the native search) and not inside a decoration of the return value.
    // After it, the first `>` must close a `<` opened after it too (`= 3</path>`, ` <0.000012>`): scanning
    // leftwards, `unclosed` tells whether the leftmost `>` so far lacks a `<` to its left.
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
      if (j < p || b[j] !== RPAREN || unclosed) break;
      if (this.outsideStrings(b, p, j)) return j;
      break;
    }
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

  /**
   * Whether position j lies outside the quoted strings that start at or after p. A quote preceded by an odd run
   * of backslashes is escaped: inside a string it does not close it, outside one (a -y path) it opens nothing.
   */
  private outsideStrings(b: Uint8Array, p: number, j: number): boolean {
    let pos = p;
    for (;;) {
      let open = this.nextQuote(b, pos);
      while (open <= j && this.escaped(b, open, p)) open = this.nextQuote(b, open + 1);
      if (open > j) return true;
      let close = this.nextQuote(b, open + 1);
      while (close < b.length && this.escaped(b, close, p)) close = this.nextQuote(b, close + 1);
      if (close > j) return false;
      pos = close + 1;
    }
  }

  private escaped(b: Uint8Array, q: number, from: number): boolean {
    let k = q - 1;
    while (k >= from && b[k] === BACKSLASH) k--;
    return ((q - 1 - k) & 1) === 1;
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

  /**
   * Parses `) = RET...` from the close paren: RET is `?`, a decimal, `0x` hex or `0` octal (umask) number,
   * optionally followed by `<decoration>` (-y, -Y) and free text (errno, aux, duration). Sets retValue;
   * returns the index after the number, or -(index of the problem).
   */
  private parseReturn(b: Uint8Array, close: number, e: number): number {
    let p = close + 1;
    while (b[p] === SP) p++;
    p += 2; // "= "
    const start = p;
    let c = b[p];
    if (c === QMARK && p < e) {
      this.retValue = Number.NaN;
      p++;
    } else {
      let neg = false;
      if (c === DASH) {
        neg = true;
        p++;
        c = b[p];
      }
      if (c === undefined || p >= e || !isDigit(c)) return -start;
      let v = 0;
      if (c === 0x30 && (b[p + 1] === 0x78 || b[p + 1] === 0x58) && p + 1 < e) {
        p += 2;
        const h = p;
        while (p < e) {
          const x = hexValue(b[p]!);
          if (x < 0) break;
          v = v * 16 + x;
          p++;
        }
        if (p === h) return -start;
      } else if (c === 0x30 && p + 1 < e && isDigit(b[p + 1]!)) {
        p++;
        while (p < e && b[p]! >= 0x30 && b[p]! <= 0x37) {
          v = v * 8 + (b[p]! - 0x30);
          p++;
        }
      } else {
        while (p < e && isDigit(b[p]!)) {
          v = v * 10 + (b[p]! - 0x30);
          p++;
        }
      }
      this.retValue = neg ? -v : v;
    }
    if (p < e) {
      const d = b[p]!;
      if (d !== SP && d !== LT && d !== TAB) return -p;
    }
    return p;
  }

  private endsWith(b: Uint8Array, e: number, suffix: Uint8Array, from: number): boolean {
    const n = suffix.length;
    if (e - n < from) return false;
    // The last byte is `>` for unfinished, detached and -T lines alike; the one before tells them apart.
    if (b[e - 2] !== suffix[n - 2]) return false;
    for (let i = 0; i < n; i++) if (b[e - n + i] !== suffix[i]) return false;
    return true;
  }

  /**
   * Where ` <pid changed to N ...>` ends a line (strace 6: an execve by a non-leader thread), or -1; sets
   * pidChangedTo to N.
   */
  private pidChangedAt(b: Uint8Array, from: number, e: number): number {
    if (b[e - 1] !== GT || b[e - 2] !== DOT || !asciiAt(b, e - 5, e, " ...>")) return -1;
    let k = e - 5;
    let n = 0;
    let scale = 1;
    while (k > from && isDigit(b[k - 1]!) && scale < 1e10) {
      k--;
      n += (b[k]! - 0x30) * scale;
      scale *= 10;
    }
    const start = k - PID_CHANGED.length;
    if (scale === 1 || start < from || !matchAt(b, start, e, PID_CHANGED)) return -1;
    this.pidChangedTo = n;
    return start;
  }

  /** The vocabulary id of a syscall name as printed; `syscall_0x1c3` (unknown to strace) -> `syscall_451`. */
  private syscallId(b: Uint8Array, start: number, end: number): number {
    if (end - start > 10 && b[start + 7] === 0x5f && asciiAt(b, start, end, "syscall_0x")) {
      let n = 0;
      let ok = end - start <= 10 + 13;
      for (let i = start + 10; i < end && ok; i++) {
        const x = hexValue(b[i]!);
        if (x < 0) ok = false;
        else n = n * 16 + x;
      }
      if (ok) {
        this.unknownIds ??= new Map();
        let id = this.unknownIds.get(n);
        if (id === undefined) {
          id = this.vocab.intern(unknownSyscallToken(n));
          this.unknownIds.set(n, id);
        }
        return id;
      }
    }
    return this.vocab.internBytes(b, start, end);
  }

  private isExecName(b: Uint8Array, start: number, end: number): boolean {
    const len = end - start;
    if (len !== 6 && len !== 8) return false;
    if (!asciiAt(b, start, end, "execve")) return false;
    return len === 6 || asciiAt(b, start + 6, end, "at");
  }

  /**
   * The program path of an execve/execveat line: the first quoted argument (execveat: the second, or the -y
   * path of its fd when that is empty). null when the path is not printed (e.g. -e raw=all shows a pointer).
   */
  private execPath(
    b: Uint8Array,
    nameStart: number,
    nameEnd: number,
    argsStart: number,
    argsEnd: number,
  ): string | null {
    let p = argsStart;
    if (nameEnd - nameStart === 8) {
      // execveat(dirfd, "path", ...): skip the fd, keeping its -y decoration in case the path is "".
      let fdPath: string | null = null;
      while (p < argsEnd && b[p] !== 0x2c && b[p] !== LT) p++;
      if (b[p] === LT) {
        const q = findByte(b, GT, p, argsEnd);
        if (q > p) fdPath = utf8(b, p + 1, q);
        p = q < 0 ? argsEnd : q + 1;
      }
      while (p < argsEnd && b[p] !== 0x2c) p++;
      p++;
      while (p < argsEnd && b[p] === SP) p++;
      const path = decodeQuoted(b, p, argsEnd);
      return path !== undefined && path.length > 0 ? path : fdPath;
    }
    return decodeQuoted(b, p, argsEnd) ?? null;
  }

  private noteExec(stream: number, time: number, path: string | null): void {
    const note: StreamNote = { kind: "exec", time };
    if (path !== null) note.detail = path;
    this.sink.note(stream, note);
  }

  // ---------------------------------------------------------------------------------------------- other lines

  private signalLine(b: Uint8Array, s: number, p: number, e: number, lineNo: number): void {
    if (!(e - 3 >= p && asciiAt(b, e - 3, e, "---"))) {
      this.fail(lineNo, p - s + 1, "signal line not ending in `---`", b, s, e);
      return;
    }
    if (asciiAt(b, p, e, "stopped by ")) p += 11;
    const q = this.tokenEnd(b, p, e - 3);
    if (q === p) {
      this.fail(lineNo, p - s + 1, "signal line without a signal name", b, s, e);
      return;
    }
    this.sink.note(this.lineStream, { kind: "signal", time: this.lineTime, detail: latin1(b, p, q) });
  }

  private exitLine(b: Uint8Array, s: number, p: number, e: number, lineNo: number): void {
    if (!(e - 3 >= p && asciiAt(b, e - 3, e, "+++"))) {
      this.fail(lineNo, p - s + 1, "process line not ending in `+++`", b, s, e);
      return;
    }
    const stream = this.lineStream;
    if (asciiAt(b, p, e, "exited with ")) {
      let q = p + 12;
      const neg = b[q] === DASH;
      if (neg) q++;
      const d0 = q;
      let code = 0;
      while (q < e && isDigit(b[q]!) && q - d0 < 10) {
        code = code * 10 + (b[q]! - 0x30);
        q++;
      }
      if (q === d0 || b[q] !== SP) {
        this.fail(lineNo, q - s + 1, "bad exit status", b, s, e);
        return;
      }
      this.processGone(stream);
      this.sink.note(stream, { kind: "exit", time: this.lineTime, code: neg ? -code : code });
      return;
    }
    if (asciiAt(b, p, e, "killed by ")) {
      const q = this.tokenEnd(b, p + 10, e - 3);
      if (q === p + 10) {
        this.fail(lineNo, q - s + 1, "`killed by` without a signal name", b, s, e);
        return;
      }
      this.processGone(stream);
      this.sink.note(stream, { kind: "killed", time: this.lineTime, detail: latin1(b, p + 10, q) });
      return;
    }
    if (asciiAt(b, p, e, "superseded by execve in pid ")) {
      // A non-leader thread execve'd: it now has the leader's pid (this line's), and its unfinished execve
      // resumes under that pid. The leader's own unresumed call (if any) never returns.
      let q = p + 28;
      let old = 0;
      const d0 = q;
      while (q < e && isDigit(b[q]!) && q - d0 < 10) {
        old = old * 10 + (b[q]! - 0x30);
        q++;
      }
      if (q === d0) {
        this.fail(lineNo, q - s + 1, "bad `superseded by execve` line", b, s, e);
        return;
      }
      const oldStream = old === this.aliasPid ? this.unprefixedStream : old;
      this.supersededStream = stream;
      if (this.pending.count > 0) {
        this.flushPending(stream);
        const slot = this.pending.find(oldStream);
        if (slot >= 0 && oldStream !== stream) {
          this.supersededStream = -1;
          const t = this.pending;
          const sys = t.sys[slot]!;
          const time = t.time[slot]!;
          const seq = t.seq[slot]!;
          const args = t.args[slot];
          const exec = t.exec[slot];
          t.remove(slot);
          const moved = t.insert(stream);
          t.sys[moved] = sys;
          t.time[moved] = time;
          t.seq[moved] = seq;
          t.args[moved] = args;
          t.exec[moved] = exec;
        }
      }
      this.live.delete(old);
      return;
    }
    // Another `+++ ... +++` status line from a newer strace: nothing to count.
  }

  /** The end of a token (up to a space or the limit). */
  private tokenEnd(b: Uint8Array, p: number, limit: number): number {
    while (p < limit && b[p] !== SP) p++;
    return p;
  }

  /** An exited or killed process: its unresumed call never returns. */
  private processGone(stream: number): void {
    if (this.pending.count > 0) this.flushPending(stream);
    if (this.linePid >= 0) {
      this.live.delete(this.linePid);
      this.lastPrefixedPid = -1;
    }
  }

  /** `strace: Process N attached|detached` (other strace messages are skipped). */
  private straceMessage(b: Uint8Array, p: number, e: number): void {
    if (this.readProcessMessage(b, p, e)) this.applyProcessMessage();
  }

  /** Reads `Process N attached|detached` into msgKind/msgPid; false for other messages. */
  private readProcessMessage(b: Uint8Array, p: number, e: number): boolean {
    while (p < e && b[p] === SP) p++;
    if (!asciiAt(b, p, e, "Process ")) return false;
    let q = p + 8;
    let pid = 0;
    const d0 = q;
    while (q < e && isDigit(b[q]!) && q - d0 < 10) {
      pid = pid * 10 + (b[q]! - 0x30);
      q++;
    }
    if (q === d0) return false;
    if (asciiAt(b, q, e, " attached")) this.msgKind = 1;
    else if (asciiAt(b, q, e, " detached")) this.msgKind = 2;
    else return false;
    this.msgPid = pid;
    return true;
  }

  private applyProcessMessage(): void {
    const pid = this.msgPid;
    if (this.msgKind === 1) {
      if (!this.liveOverflow) {
        if (this.live.count >= MAX_LIVE) this.liveOverflow = true;
        else this.live.add(pid);
      }
    } else if (this.msgKind === 2) {
      const stream = pid === this.aliasPid ? this.unprefixedStream : pid;
      if (this.pending.count > 0) this.flushPending(stream);
      this.live.delete(pid);
    }
    this.msgKind = 0;
  }

  // ------------------------------------------------------------------------- strace -f to stderr (mixed prefixes)

  /** The stream of a line without a pid prefix. */
  private unprefixedLineStream(): number {
    if (this.live.count === 1 && !this.liveOverflow) {
      const pid = this.live.sole();
      if (pid >= 0) return pid === this.aliasPid ? this.unprefixedStream : pid;
    }
    return this.unprefixedStream;
  }

  /** Bookkeeping for an unprefixed call line: remember that they occur, and which child a fork made. */
  private noteUnprefixedCall(b?: Uint8Array, nameStart = 0, nameEnd = 0, ret = Number.NaN): void {
    if (this.linePid >= 0) return;
    this.sawUnprefixedCall = true;
    if (b === undefined || this.aliasPid >= 0 || !(ret > 0)) return;
    const len = nameEnd - nameStart;
    if (
      (len === 5 && (asciiAt(b, nameStart, nameEnd, "clone") || asciiAt(b, nameStart, nameEnd, "vfork"))) ||
      (len === 6 && asciiAt(b, nameStart, nameEnd, "clone3")) ||
      (len === 4 && asciiAt(b, nameStart, nameEnd, "fork"))
    ) {
      this.lastChildPid = ret;
    }
  }

  /**
   * A prefixed line of another pid than the previous one: track live pids, and find the pid of the process whose
   * earlier lines had no prefix.
   */
  private prefixedPid(pid: number): void {
    this.lastPrefixedPid = pid;
    if (this.aliasPid < 0 && this.sawUnprefixedCall && pid !== this.lastChildPid && !this.live.has(pid)) {
      this.aliasPid = pid;
    }
    if (!this.liveOverflow && !this.live.has(pid)) {
      if (this.live.count >= MAX_LIVE) this.liveOverflow = true;
      else this.live.add(pid);
    }
  }

  // ------------------------------------------------------------------------------------------ summary tables

  /** Whether the line starts a `-c`/`-C` summary table (its header). */
  private summaryStart(b: Uint8Array, s: number, e: number): boolean {
    let p = s;
    while (p < e && b[p] === SP) p++;
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

  /** Handles a summary-table line; returns false when the line is not one. */
  private summaryLine(b: Uint8Array, s: number, e: number): boolean {
    if (!this.inSummary) {
      if (!this.summaryStart(b, s, e)) return false;
      this.inSummary = true;
      return true;
    }
    // A call line means the table is over (it had no `total` row); the table ends with its `total` row.
    if (findByte(b, LPAREN, s, e) >= 0) {
      this.inSummary = false;
      return false;
    }
    let q = e;
    while (q > s && (b[q - 1] === SP || isDigit(b[q - 1]!) || b[q - 1] === DOT)) q--;
    let p = s;
    while (p < e && b[p] === SP) p++;
    if (asciiAt(b, q - 5, e, "total") || asciiAt(b, p, e, "total")) this.inSummary = false;
    return true;
  }

  private fail(lineNo: number, column: number, message: string, b: Uint8Array, s: number, e: number): void {
    const err: ParseError = lineError(this.file, lineNo, Math.max(1, column), message, b, s, e);
    this.skippedLines++;
    badLine(this.options, err);
  }
}

/** Scores how much `head` looks like strace output by parsing its complete lines leniently. */
function sniffStrace(head: Uint8Array, path: string): number {
  try {
    let end = head.length;
    const lastNl = head.lastIndexOf(10);
    if (lastNl >= 0 && lastNl < end - 1) end = lastNl + 1; // a cut last line would look malformed
    let calls = 0;
    let others = 0;
    const parser = new StraceParser({
      file: path,
      vocab: new Vocabulary(),
      lenient: true,
      maxLineBytes: head.length + 1,
      sink: {
        beginSource() {},
        call() {
          calls++;
        },
        note() {
          others++;
        },
        endSource() {},
      },
    });
    parser.write(head.subarray(0, end));
    // Pending calls are not flushed: a cut head says nothing about them.
    let nonEmpty = 0;
    let start = 0;
    for (let i = 0; i <= end && nonEmpty < 1_000_000; i++) {
      if (i === end || head[i] === 10) {
        if (i > start) nonEmpty++;
        start = i + 1;
      }
    }
    const bad = parser.skipped;
    const good = nonEmpty - bad;
    if (good <= 0 || (calls === 0 && others === 0 && parser.pendingCount === 0)) return 0;
    const ratio = good / nonEmpty;
    if (ratio < 0.8) return 0;
    const evidence = calls + parser.pendingCount;
    if (evidence === 0) return 0.3 * ratio;
    return (evidence >= 3 ? 1 : 0.9) * (ratio === 1 ? 1 : 0.8 * ratio);
  } catch {
    return 0;
  }
}

export const straceFormat: TraceFormat = {
  name: "strace",
  description:
    "strace(1) text output: -f pid prefixes, -t/-tt/-ttt/-r times, -T, -y, -X raw, -k, unfinished/resumed pairs, -ff files",
  sniff: sniffStrace,
  createParser(options: ParserOptions): StraceParser {
    return new StraceParser(options);
  },
};
