// The lines of strace output about processes rather than calls: `--- SIG... ---` signals, `+++ exited with N +++`,
// `+++ killed by SIG +++` and `+++ superseded by execve in pid N +++`, and strace's own `Process N attached` /
// `detached` messages. They become the sink's signal, exit and killed notes, end a process's unresumed call, and
// keep the parser's record of live pids (straceStreams.ts) current (docs/strace-format.md).

import * as byteScan from "./byteScan.js";
import type { EventSink } from "./event.js";
import type { StraceCalls } from "./straceCalls.js";
import type { StraceExecHandover } from "./straceExecHandover.js";
import { ATTACHED, DETACHED, type ProcessMessage } from "./straceMessages.js";
import type { StraceStreams } from "./straceStreams.js";

// Bound to module constants rather than used as imported names (see byteScan.ts).
const { asciiAt, decimalValue, digitsEnd, latin1, tokenEnd } = byteScan;

const SP = 0x20;
const DASH = 0x2d;

/**
 * Reads process lines whose body (after `--- ` or `+++ `) starts at p. Each returns -1, or the index of a problem
 * with its message in `error`, for the parser to report.
 */
export class StraceProcessLines {
  /** What the last failed line got wrong. */
  error = "";

  // The line being read, as the parser's leader found it.
  private lineStream = 0;
  private linePid = -1;
  private lineTime = Number.NaN;

  constructor(
    private readonly sink: EventSink,
    private readonly emitter: StraceCalls,
    private readonly streams: StraceStreams,
    private readonly handover: StraceExecHandover,
  ) {}

  /** `--- SIGNAL ... ---` (or `--- stopped by SIGNAL ---`). */
  signal(b: Uint8Array, p: number, e: number, stream: number, time: number): number {
    if (!(e - 3 >= p && asciiAt(b, e - 3, e, "---"))) return this.problem(p, "signal line not ending in `---`");
    if (asciiAt(b, p, e, "stopped by ")) p += 11;
    const q = tokenEnd(b, p, e - 3);
    if (q === p) return this.problem(p, "signal line without a signal name");
    this.sink.note(stream, { kind: "signal", time, detail: latin1(b, p, q) });
    return -1;
  }

  /** `+++ exited with N +++`, `+++ killed by SIG +++`, `+++ superseded by execve in pid N +++`. */
  exit(b: Uint8Array, p: number, e: number, stream: number, pid: number, time: number): number {
    if (!(e - 3 >= p && asciiAt(b, e - 3, e, "+++"))) return this.problem(p, "process line not ending in `+++`");
    this.lineStream = stream;
    this.linePid = pid;
    this.lineTime = time;
    if (asciiAt(b, p, e, "exited with ")) return this.exitedWith(b, p + 12, e);
    if (asciiAt(b, p, e, "killed by ")) return this.killedBy(b, p + 10, e);
    if (asciiAt(b, p, e, "superseded by execve in pid ")) return this.superseded(b, p + 28, e);
    // Another `+++ ... +++` status line from a newer strace: nothing to count.
    return -1;
  }

  /** Applies a `strace: Process N attached|detached` message, and forgets it. */
  applyMessage(message: ProcessMessage): void {
    const { kind, pid } = message;
    if (kind === ATTACHED) {
      this.streams.attached(pid);
    } else if (kind === DETACHED) {
      if (this.emitter.pending.count > 0) this.emitter.settle(this.streams.streamOf(pid));
      this.streams.gone(pid);
    }
    message.clear();
  }

  /** `exited with N` from the status at q. */
  private exitedWith(b: Uint8Array, q: number, e: number): number {
    const neg = b[q] === DASH;
    if (neg) q++;
    const d0 = q;
    q = digitsEnd(b, d0, Math.min(e, d0 + 10));
    if (q === d0 || b[q] !== SP) return this.problem(q, "bad exit status");
    const code = decimalValue(b, d0, q);
    this.processGone();
    this.sink.note(this.lineStream, { kind: "exit", time: this.lineTime, code: neg ? -code : code });
    return -1;
  }

  /** `killed by SIG` from the signal name at p. */
  private killedBy(b: Uint8Array, p: number, e: number): number {
    const q = tokenEnd(b, p, e - 3);
    if (q === p) return this.problem(q, "`killed by` without a signal name");
    this.processGone();
    this.sink.note(this.lineStream, { kind: "killed", time: this.lineTime, detail: latin1(b, p, q) });
    return -1;
  }

  /**
   * `superseded by execve in pid OLD`: a non-leader thread execve'd. It now has the leader's pid (this line's),
   * and its unfinished execve resumes under that pid; the leader's own unresumed call (if any) never returns.
   */
  private superseded(b: Uint8Array, d0: number, e: number): number {
    const q = digitsEnd(b, d0, Math.min(e, d0 + 10));
    if (q === d0) return this.problem(q, "bad `superseded by execve` line");
    const old = decimalValue(b, d0, q);
    const stream = this.lineStream;
    const oldStream = this.streams.streamOf(old);
    this.handover.supersededStream = stream;
    const pending = this.emitter.pending;
    if (pending.count > 0) {
      this.emitter.settle(stream);
      const slot = pending.find(oldStream);
      if (slot >= 0 && oldStream !== stream) {
        this.handover.supersededStream = -1;
        pending.rekey(slot, stream);
      }
    }
    this.streams.gone(old);
    return -1;
  }

  private problem(at: number, message: string): number {
    this.error = message;
    return at;
  }

  /** An exited or killed process: its unresumed call never returns. */
  private processGone(): void {
    if (this.emitter.pending.count > 0) this.emitter.settle(this.lineStream);
    if (this.linePid >= 0) this.streams.exited(this.linePid);
  }
}
