// The counting rule of the strace format: one event per call the trace shows started. An unfinished/resumed pair
// is one call; a call whose resumption never comes is still emitted once, with ret NaN, when that becomes known,
// and each stream's events stay in start order (docs/strace-format.md, "Counting rule").

import type { EventSink, StreamNote } from "./event.js";
import { PendingTable } from "./pendingCalls.js";

/** Most calls kept waiting for their `resumed` half; more (a hostile input) flushes them all with ret NaN. */
const MAX_PENDING = 1 << 16;

/** Emits calls and exec notes into the sink, holding the unfinished calls until they resume or are settled. */
export class StraceCalls {
  /** Calls emitted so far. */
  emitted = 0;
  readonly pending = new PendingTable();
  private seq = 0;

  constructor(private readonly sink: EventSink) {}

  /** Registers an unfinished call of a stream that has none. */
  start(stream: number, id: number, time: number, args: string | undefined, exec: string | null | undefined): void {
    if (this.pending.count >= MAX_PENDING) {
      // Bounded memory: this many threads all inside a call is not a real trace; settle them now.
      this.settleAll();
    }
    const p = this.pending;
    const slot = p.insert(stream);
    p.sys[slot] = id;
    p.time[slot] = time;
    p.seq[slot] = this.seq++;
    p.args[slot] = args;
    if (exec !== undefined) p.exec[slot] = exec;
  }

  /** A stream's unfinished call, if any, never returns: emit it now. */
  settle(stream: number): void {
    const slot = this.pending.find(stream);
    if (slot >= 0) this.settleSlot(slot);
  }

  /** Settles every unresumed call, in the order they started (removal moves slots: look each up by key). */
  settleAll(): void {
    for (const key of this.pending.keysInOrder()) this.settle(key);
  }

  /** Emits the call at `slot` as one that never returned, and forgets it. */
  settleSlot(slot: number): void {
    const p = this.pending;
    const stream = p.key[slot]!;
    const id = p.sys[slot]!;
    const time = p.time[slot]!;
    const args = p.args[slot];
    p.remove(slot);
    this.emit(stream, id, time, Number.NaN, args);
  }

  emit(stream: number, id: number, time: number, ret: number, args: string | undefined): void {
    this.emitted++;
    this.sink.call(stream, id, time, ret, args);
  }

  /** An exec note: the stream now runs `path` (null when the trace does not show it). */
  exec(stream: number, time: number, path: string | null): void {
    const note: StreamNote = { kind: "exec", time };
    if (path !== null) note.detail = path;
    this.sink.note(stream, note);
  }
}
