// Unfinished and resumed calls in strace output: `NAME(args <unfinished ...>` starts a call that another process's
// lines interrupt, and `<... NAME resumed> rest) = RET` finishes it. The pair is one call, emitted with the start's
// time and the joined arguments; a resumption whose start was not seen is a call of its own (the counting rule of
// straceCalls.ts, docs/strace-format.md).

import * as byteScan from "./byteScan.js";
import type { StraceCalls } from "./straceCalls.js";
import { isExecName, MAX_NAME, type StraceSyscallIds } from "./straceCallNames.js";
import { detachedAt, resumedEnd, skipUnfinished, unfinishedAt } from "./straceCallMarkers.js";
import type { StraceExecHandover } from "./straceExecHandover.js";
import { execPath } from "./straceExecPath.js";
import type { ReturnValueScanner } from "./straceReturnValue.js";
import type { StraceStreams } from "./straceStreams.js";

// Bound to module constants rather than used as imported names (see byteScan.ts).
const { asciiAt, isIdent, utf8 } = byteScan;

/** Pairs the halves of interrupted calls; the parser hands it `<... NAME resumed>` lines and unfinished starts. */
export class StraceResumedCalls {
  /** What the last failed line got wrong. */
  error = "";

  // The line being read, as the parser's leader found it.
  private lineStream = 0;
  private linePid = -1;
  private lineTime = Number.NaN;

  constructor(
    private readonly ids: StraceSyscallIds,
    private readonly emitter: StraceCalls,
    private readonly streams: StraceStreams,
    private readonly returns: ReturnValueScanner,
    private readonly handover: StraceExecHandover,
    private readonly keepArgs: boolean,
  ) {}

  /** A `<... NAME resumed>` line whose body starts at p; returns -1, or the index of a problem (see `error`). */
  line(b: Uint8Array, p: number, e: number, stream: number, pid: number, time: number): number {
    if (!asciiAt(b, p, e, "<... ")) return this.problem(p, "not strace output: expected `<... NAME resumed>`");
    this.lineStream = stream;
    this.linePid = pid;
    this.lineTime = time;
    const nameStart = p + 5;
    let q = nameStart;
    while (q < e && isIdent(b[q]!)) q++;
    const nameEnd = q;
    const restStart = resumedEnd(b, q, e);
    if (nameEnd === nameStart || nameEnd - nameStart > MAX_NAME || restStart < 0) {
      return this.problem(q, "bad `<... NAME resumed>`");
    }
    const id = this.ids.id(b, nameStart, nameEnd);
    const slot = this.pendingSlotOf(id);
    const unfinished = unfinishedAt(b, restStart, e);
    if (unfinished >= 0) {
      // Resumed and interrupted again: still the same one call.
      if (slot < 0) this.start(id, b, nameStart, nameEnd, restStart, unfinished, stream, time);
      else if (this.keepArgs) {
        const pending = this.emitter.pending;
        pending.args[slot] = (pending.args[slot] ?? "") + utf8(b, restStart, unfinished);
      }
      return -1;
    }
    let close = detachedAt(b, restStart, e);
    let ret = Number.NaN;
    if (close < 0) {
      close = this.returns.findClose(b, restStart, e);
      if (close < 0) return this.problem(e, "resumed system call without ` = return value`");
      const retEnd = this.returns.parse(b, close, e);
      if (retEnd < 0) return this.problem(-retEnd, "bad return value");
      ret = this.returns.value;
    }
    this.resumedCall(b, id, slot, nameStart, nameEnd, restStart, close, ret);
    return -1;
  }

  /** Registers an unfinished call of `stream` whose arguments so far are b[argsStart, argsEnd). */
  start(
    id: number,
    b: Uint8Array,
    nameStart: number,
    nameEnd: number,
    argsStart: number,
    argsEnd: number,
    stream: number,
    time: number,
  ): void {
    const args = this.keepArgs ? utf8(b, argsStart, argsEnd) : undefined;
    const exec = isExecName(b, nameStart, nameEnd)
      ? execPath(b, nameEnd - nameStart === 8, argsStart, argsEnd)
      : undefined;
    this.emitter.start(stream, id, time, args, exec);
  }

  /** The slot of this stream's unfinished call of `id`, or -1; another call found there never returned. */
  private pendingSlotOf(id: number): number {
    const pending = this.emitter.pending;
    const slot = pending.count > 0 ? pending.find(this.lineStream) : -1;
    if (slot >= 0 && pending.sys[slot] !== id) {
      // Not the call this stream started (a lost line): that one never returned; this one started unseen.
      this.emitter.settleSlot(slot);
      return -1;
    }
    return slot;
  }

  /** Emits a resumed call whose arguments end at `close`: joined with its start (at `slot`) when that was seen. */
  private resumedCall(
    b: Uint8Array,
    id: number,
    slot: number,
    nameStart: number,
    nameEnd: number,
    restStart: number,
    close: number,
    ret: number,
  ): void {
    const stream = this.lineStream;
    const pending = this.emitter.pending;
    const handover = this.handover;
    let time = this.lineTime;
    let args: string | undefined;
    let exec: string | null | undefined;
    if (this.keepArgs) {
      args = utf8(b, skipUnfinished(b, restStart, close), close);
    }
    if (slot >= 0) {
      time = pending.time[slot]!;
      if (this.keepArgs) args = (pending.args[slot] ?? "") + (args ?? "");
      exec = pending.exec[slot];
      pending.remove(slot);
    } else if (stream === handover.supersededStream && isExecName(b, nameStart, nameEnd)) {
      // The return of an execve that another thread started (and that was counted there: `<pid changed to>`).
      handover.supersededStream = -1;
      if (ret === 0)
        this.emitter.exec(stream, time, handover.pidChangeTo === this.linePid ? handover.pidChangePath : null);
      return;
    }
    this.emitter.emit(stream, id, time, ret, args);
    if (this.linePid < 0) this.streams.unprefixedCallReturned(b, nameStart, nameEnd, ret);
    if (ret === 0 && (exec !== undefined || isExecName(b, nameStart, nameEnd))) {
      this.emitter.exec(stream, time, exec ?? null);
    }
  }

  private problem(at: number, message: string): number {
    this.error = message;
    return at;
  }
}
