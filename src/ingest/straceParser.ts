// The strace text-output parser ("strace" format): turns what strace(1) writes into EventSink calls and notes,
// with strace's line layout (printleader, syscall_exiting_trace) as tested against strace 6.1's real output. It is
// how homeostat reads the per-process system-call streams Forrest et al. (1996) built their "sense of self" on.
// This file dispatches lines and reads complete calls; the strace*.ts files beside it hold the other parts
// (resumed calls, process lines, leaders, streams). The line grammar, the counting rule for unfinished calls, how
// streams are assigned, and why the hot path looks the way it does are in docs/strace-format.md.

import type { ParseError } from "../errors.js";
import { Vocabulary } from "../syscalls/vocabulary.js";
import * as byteScan from "./byteScan.js";
import type { EventSink } from "./event.js";
import {
  badLine,
  DEFAULT_MAX_LINE_BYTES,
  LineSplitter,
  lineError,
  locateError,
  type ParserOptions,
  type TraceFormat,
  type TraceParser,
} from "./format.js";
import { hasStraceMarker } from "./formatHints.js";
import { StraceCalls } from "./straceCalls.js";
import { isExecName, MAX_NAME, StraceSyscallIds } from "./straceCallNames.js";
import { detachedAt, pidChangedAt, pidChangedTarget, unfinishedAt } from "./straceCallMarkers.js";
import { StraceExecHandover } from "./straceExecHandover.js";
import { execPath } from "./straceExecPath.js";
import { StraceLeader } from "./straceLeader.js";
import { CutLine, embeddedMessageStart, ProcessMessage } from "./straceMessages.js";
import { StraceProcessLines } from "./straceProcessLines.js";
import { StraceResumedCalls } from "./straceResumedCalls.js";
import { ReturnValueScanner } from "./straceReturnValue.js";
import { StraceStreams } from "./straceStreams.js";
import { SummaryTable } from "./straceSummary.js";

export { pidFromStraceFileName } from "./straceFileName.js";

// Bound to module constants rather than used as imported names (see byteScan.ts).
const { asciiAt, isIdent, isIdentStart, nonEmptyLines, utf8 } = byteScan;

const SP = 0x20;
const PERCENT = 0x25;
const LPAREN = 0x28;
const PLUS = 0x2b;
const DASH = 0x2d;
const COLON = 0x3a;
const LT = 0x3c;
const GT = 0x3e;
const QMARK = 0x3f;
const LBRACK = 0x5b;
const PIPE = 0x7c;

/** Parses strace text output into an EventSink. */
export class StraceParser implements TraceParser {
  private readonly splitter: LineSplitter;
  private readonly file: string;
  private readonly sink: EventSink;
  private readonly keepArgs: boolean;
  private readonly options: ParserOptions;
  private readonly maxLineBytes: number;
  private readonly ids: StraceSyscallIds;
  private readonly emitter: StraceCalls;
  private readonly leader = new StraceLeader();
  private readonly streams: StraceStreams;
  private readonly returns = new ReturnValueScanner();
  private readonly summary = new SummaryTable();
  /** A `strace: Process N attached|detached` message waiting for the line it cut. */
  private readonly message = new ProcessMessage();
  private readonly cut: CutLine;
  private skippedLines = 0;
  private readonly handover = new StraceExecHandover();
  private readonly resumed: StraceResumedCalls;
  private readonly processLines: StraceProcessLines;

  // Per-line results of the leader (fields, not objects, so nothing is allocated per line).
  private lineStream = 0;
  private linePid = -1;
  private lineTime = Number.NaN;

  constructor(options: ParserOptions) {
    this.options = options;
    this.file = options.file;
    this.sink = options.sink;
    this.keepArgs = options.keepArgs === true;
    this.ids = new StraceSyscallIds(options.vocab);
    this.emitter = new StraceCalls(options.sink);
    this.streams = new StraceStreams(options.defaultStream ?? 0);
    this.resumed = new StraceResumedCalls(
      this.ids,
      this.emitter,
      this.streams,
      this.returns,
      this.handover,
      this.keepArgs,
    );
    this.processLines = new StraceProcessLines(options.sink, this.emitter, this.streams, this.handover);
    this.maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    this.cut = new CutLine(options.file, this.maxLineBytes);
    this.splitter = new LineSplitter(options.file, (b, s, e, n) => this.onRawLine(b, s, e, n), this.maxLineBytes);
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
    return this.emitter.pending.count;
  }

  /** Calls emitted so far. */
  get calls(): number {
    return this.emitter.emitted;
  }

  write(chunk: Uint8Array): void {
    this.returns.forget(); // a caller may refill the same buffer
    this.splitter.write(chunk);
  }

  end(): void {
    this.splitter.end();
    if (this.cut.len > 0) {
      // The input ended inside a line that an strace message had cut: parse what there is.
      const n = this.cut.len;
      this.cut.len = 0;
      try {
        this.onLine(this.cut.buf, 0, n, this.splitter.lines);
      } catch (err) {
        throw locateError(err, this.file, this.splitter.lines);
      }
    }
    if (this.message.waiting) this.applyProcessMessage();
    // Calls whose resumed half never came: still one call each, in the order they started.
    this.emitter.settleAll();
  }

  // ---------------------------------------------------------------------------------------------- lines

  /** A line as split: glued to the head an strace message cut, or cut itself, before it is parsed. */
  private onRawLine(b: Uint8Array, s: number, e: number, lineNo: number): void {
    if (this.cut.len > 0) {
      e = this.cut.join(b, s, e, lineNo);
      b = this.cut.buf;
      s = 0;
      this.returns.forget(); // the joined line's buffer changed under the quote memo
    }
    if (this.cutByMessage(b, s, e)) return;
    this.onLine(b, s, e, lineNo);
    if (this.message.waiting) this.applyProcessMessage();
  }

  /** Whether an strace message ends the line: it is read, and the line's head kept for the next line. */
  private cutByMessage(b: Uint8Array, s: number, e: number): boolean {
    const last = b[e - 1];
    if (!(e - s > 24 && (last === 0x64 || last === 0x73))) return false;
    const k = embeddedMessageStart(b, s, e);
    if (k <= s) return false;
    // The message takes effect after the line it cut: that line began before it (a new process's lines have a
    // prefix; the rest of this one does not).
    if (this.message.waiting) this.applyProcessMessage();
    this.message.read(b, k + 7, e);
    if (k - s > this.maxLineBytes) return true; // cannot happen: the splitter bounds lines
    if (this.cut.keep(b, s, k)) this.returns.forget();
    return true;
  }

  private onLine(b: Uint8Array, s: number, e: number, lineNo: number): void {
    if (s >= e) return;
    const c0 = b[s]!;
    // `-k` stack frames and `-e read=/write=` hex dumps: written without a leader.
    if (c0 === SP && s + 2 < e && (b[s + 1] === GT || b[s + 1] === PIPE) && b[s + 2] === SP) return;
    if ((this.summary.active || c0 === PERCENT) && this.summary.line(b, s, e)) return;
    const p = this.readLeader(b, s, e, lineNo);
    if (p < 0) return;
    const c = b[p];
    if (c === undefined || p >= e) {
      this.fail(lineNo, p - s + 1, "a line prefix with nothing after it", b, s, e);
      return;
    }
    if (isIdentStart(c)) this.callLine(b, s, p, e, lineNo);
    else if (c === LT) {
      if (asciiAt(b, p, e, "<... ??? resumed>")) return; // the other half of an undecoded `???(` (below)
      this.resumedLine(b, s, p, e, lineNo);
    } else if (c === DASH && asciiAt(b, p, e, "--- ")) this.signalLine(b, s, p + 4, e, lineNo);
    else if (c === PLUS && asciiAt(b, p, e, "+++ ")) this.exitLine(b, s, p + 4, e, lineNo);
    else this.otherLine(b, s, p, e, lineNo);
  }

  /** Reads the leader into linePid/lineTime/lineStream; returns where the body starts, or -1 after failing. */
  private readLeader(b: Uint8Array, s: number, e: number, lineNo: number): number {
    const leader = this.leader;
    const p = leader.read(b, s, e);
    if (p < 0) {
      this.fail(lineNo, leader.failAt - s + 1, leader.failMessage, b, s, e);
      return -1;
    }
    this.linePid = leader.pid;
    this.lineTime = leader.time;
    this.lineStream = this.streams.lineStream(leader.pid);
    return p;
  }

  /** A line whose body is not a call, resumption, signal or process line. */
  private otherLine(b: Uint8Array, s: number, p: number, e: number, lineNo: number): void {
    const c = b[p];
    if (c === LBRACK && asciiAt(b, p, e, "[ Process PID=")) return;
    // `???() = ?`: a syscall-entry stop strace could not decode, seen when a thread is torn down (killed by
    // another thread's execve or exit_group) outside a system call. No call was made; strace -c counts none.
    if (c === QMARK && asciiAt(b, p, e, "???(")) return;
    if (this.summary.start(b, s, e)) return;
    this.fail(lineNo, p - s + 1, "not strace output: expected a system call", b, s, e);
  }

  // ---------------------------------------------------------------------------------------------- call lines
  // (unfinished and resumed halves are paired in straceResumedCalls.ts)

  private callLine(b: Uint8Array, s: number, p: number, e: number, lineNo: number): void {
    const nameStart = p;
    while (p < e && isIdent(b[p]!)) p++;
    const nameEnd = p;
    if (b[p] !== LPAREN || p >= e) {
      this.notACall(b, s, nameStart, nameEnd, e, lineNo);
      return;
    }
    if (nameEnd - nameStart > MAX_NAME) {
      this.fail(lineNo, nameStart - s + 1, "system call name too long", b, s, e);
      return;
    }
    const argsStart = p + 1;
    // A stream is in one call at a time: an older unresumed call of this stream never returned.
    if (this.emitter.pending.count > 0) this.emitter.settle(this.lineStream);
    const unfinished = unfinishedAt(b, argsStart, e);
    if (unfinished >= 0) {
      const id = this.ids.id(b, nameStart, nameEnd);
      this.resumed.start(id, b, nameStart, nameEnd, argsStart, unfinished, this.lineStream, this.lineTime);
      if (this.linePid < 0) this.streams.unprefixedCall();
      return;
    }
    const detached = detachedAt(b, argsStart, e);
    const cut = detached >= 0 ? detached : pidChangedAt(b, argsStart, e);
    if (cut >= 0) this.cutCall(b, nameStart, nameEnd, argsStart, cut, detached >= 0 ? -1 : e);
    else this.completeCall(b, s, nameStart, nameEnd, argsStart, e, lineNo);
  }

  /** A word at the body's start not followed by `(`: an strace message, a summary header, or an error. */
  private notACall(b: Uint8Array, s: number, nameStart: number, p: number, e: number, lineNo: number): void {
    if (b[p] === COLON && p - nameStart === 6 && asciiAt(b, nameStart, e, "strace") && this.linePid < 0) {
      // `strace: Process N attached|detached` (other strace messages are skipped).
      if (this.message.read(b, p + 1, e)) this.applyProcessMessage();
      return;
    }
    if (this.linePid < 0 && this.summary.start(b, s, e)) return;
    this.fail(lineNo, p - s + 1, "not strace output: expected `(` after a system call name", b, s, e);
  }

  /**
   * A call cut short by `<detached ...>`, or an execve whose thread took over the leader's pid (`<pid changed to
   * N ...>`, found in a line ending at `pidChangedEnd`; -1 when detached): its return shows under that pid,
   * after `+++ superseded by execve +++`, or in that pid's -ff file. One call, counted here.
   */
  private cutCall(
    b: Uint8Array,
    nameStart: number,
    nameEnd: number,
    argsStart: number,
    cut: number,
    pidChangedEnd: number,
  ): void {
    const id = this.ids.id(b, nameStart, nameEnd);
    const args = this.keepArgs ? utf8(b, argsStart, cut) : undefined;
    this.emitter.emit(this.lineStream, id, this.lineTime, Number.NaN, args);
    if (this.linePid < 0) this.streams.unprefixedCall();
    if (pidChangedEnd >= 0 && isExecName(b, nameStart, nameEnd)) {
      this.handover.pidChangeTo = pidChangedTarget(b, cut, pidChangedEnd);
      this.handover.pidChangePath = execPath(b, nameEnd - nameStart === 8, argsStart, cut);
    }
  }

  /** A call with its return value on the same line. */
  private completeCall(
    b: Uint8Array,
    s: number,
    nameStart: number,
    nameEnd: number,
    argsStart: number,
    e: number,
    lineNo: number,
  ): void {
    const close = this.returns.findClose(b, argsStart, e);
    if (close < 0) {
      this.fail(lineNo, e - s + 1, "system call line without ` = return value`", b, s, e);
      return;
    }
    const retEnd = this.returns.parse(b, close, e);
    if (retEnd < 0) {
      this.fail(lineNo, -retEnd - s + 1, "bad return value", b, s, e);
      return;
    }
    const id = this.ids.id(b, nameStart, nameEnd);
    const ret = this.returns.value;
    const stream = this.lineStream;
    this.emitter.emit(stream, id, this.lineTime, ret, this.keepArgs ? utf8(b, argsStart, close) : undefined);
    if (this.linePid < 0) this.streams.unprefixedCallReturned(b, nameStart, nameEnd, ret);
    const len = nameEnd - nameStart;
    if ((len === 6 || len === 8) && ret === 0 && isExecName(b, nameStart, nameEnd)) {
      this.emitter.exec(stream, this.lineTime, execPath(b, len === 8, argsStart, close));
    }
  }

  // ---------------------------------------------------------------------------------------------- process lines

  private signalLine(b: Uint8Array, s: number, p: number, e: number, lineNo: number): void {
    const bad = this.processLines.signal(b, p, e, this.lineStream, this.lineTime);
    if (bad >= 0) this.fail(lineNo, bad - s + 1, this.processLines.error, b, s, e);
  }

  private exitLine(b: Uint8Array, s: number, p: number, e: number, lineNo: number): void {
    const bad = this.processLines.exit(b, p, e, this.lineStream, this.linePid, this.lineTime);
    if (bad >= 0) this.fail(lineNo, bad - s + 1, this.processLines.error, b, s, e);
  }

  private resumedLine(b: Uint8Array, s: number, p: number, e: number, lineNo: number): void {
    const bad = this.resumed.line(b, p, e, this.lineStream, this.linePid, this.lineTime);
    if (bad >= 0) this.fail(lineNo, bad - s + 1, this.resumed.error, b, s, e);
  }

  private applyProcessMessage(): void {
    this.processLines.applyMessage(this.message);
  }

  private fail(lineNo: number, column: number, message: string, b: Uint8Array, s: number, e: number): void {
    const err: ParseError = lineError(this.file, lineNo, Math.max(1, column), message, b, s, e);
    this.skippedLines++;
    badLine(this.options, err);
  }
}

// The vocabulary sniffing parses into: shared by every sniff (its ids are thrown away), renewed once it is large.
let sniffVocabulary = new Vocabulary();

/** Scores how much `head` looks like strace output by parsing its complete lines leniently. */
function sniffStrace(head: Uint8Array, path: string): number {
  // Without a call or a message there is nothing to parse (a folder of number lists is thousands of sniffs).
  if (!hasStraceMarker(head)) return 0;
  if (sniffVocabulary.size > 4096) sniffVocabulary = new Vocabulary();
  try {
    let end = head.length;
    const lastNl = head.lastIndexOf(10);
    if (lastNl >= 0 && lastNl < end - 1) end = lastNl + 1; // a cut last line would look malformed
    let calls = 0;
    let others = 0;
    const parser = new StraceParser({
      file: path,
      vocab: sniffVocabulary,
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
    const nonEmpty = nonEmptyLines(head, end);
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
