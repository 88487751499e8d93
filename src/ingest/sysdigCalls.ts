// Turns sysdig events into system calls for the two LID-DS text formats (liddsParser.ts, lidds2019Parser.ts).
// sysdig (github.com/draios/sysdig, libscap's event table) writes every call twice, an enter event `>` and an
// exit event `<` whose first parameter is the return value (`res=`, `fd=`, `euid=` ...). Homeostat counts a call
// ONCE, per thread (stream = tid):
//
//   * An enter opens the thread's call. Its exit (the next event of the same thread, same name) closes it: the call
//     is delivered then, timestamped at its ENTER, with the exit's return value. A thread runs one call at a time,
//     so holding one open enter per thread is all the buffering there is (bounded by live threads, capped below).
//   * An enter whose exit never comes (recording ended, events dropped, exit_group) is delivered with ret NaN when
//     the thread's next enter arrives, when the thread exits (procexit), or at the end of the input, in the order
//     of their enters.
//   * An exit with no open enter is a call that began before the recording did: it is counted once, at the exit's
//     time (unless `countOrphanExits` is false, which reproduces LID-DS's own loader: it counts enter events only).
//     Exception: a clone/fork/vfork/clone3 exit returning 0 on a thread with no open enter is the child's side of
//     the parent's call, which the parent already counted; it is never a call of its own.
//   * An exit whose name differs from the open enter closes the enter with ret NaN, then counts as above.
//
// Per-thread order is exact, and times within a thread never decrease. Across threads the sink sees calls in the
// order they completed, so times from different threads can interleave out of order by up to one call's duration.
//
// sysdig's non-syscall events (scheduler switches, process exit, signal delivery, drops, ...; `<NA>` where a
// format prints syscall.type) are not calls: they never enter the vocabulary. procexit, signaldeliver and drop
// become stream notes. Hot path: no allocation per event unless the caller asked to keep arguments.

import { Vocabulary } from "../syscalls/vocabulary.js";
import type { EventSink } from "./event.js";

/**
 * Threads tracked at once. Past this, threads with no open call are forgotten (their name is noted again if they
 * reappear); if most threads have an open call, those calls are delivered (ret NaN) and the table starts afresh.
 */
export const MAX_TRACKED_THREADS = 1 << 16;

/** sysdig's event types that are not system calls (libscap event table names). */
const NON_SYSCALL_EVENTS: Readonly<Record<string, EventKind>> = {
  "<NA>": 2,
  switch: 2,
  procexit: 3,
  signaldeliver: 4,
  drop: 5,
  sysdigevent: 2,
  container: 2,
  procinfo: 2,
  cpu_hotplug: 2,
  k8s: 2,
  mesos: 2,
  tracer: 2,
  notification: 2,
  infra: 2,
  page_fault: 2,
  pluginevent: 2,
};

// 1 = a syscall, 2 = ignored, 3 = procexit, 4 = signaldeliver, 5 = drop.
type EventKind = 1 | 2 | 3 | 4 | 5;

/** Syscalls whose sysdig return value is printed in hex without a prefix (PF_HEX: addresses). */
const HEX_RETURN = new Set(["brk", "mmap", "mmap2", "mremap"]);
/** Syscalls that return 0 in a new child thread. */
const CHILD_RETURN = new Set(["clone", "clone3", "fork", "vfork"]);

export interface SysdigCallOptions {
  /** Count a call whose exit has no enter (it began before the recording). Default true. */
  countOrphanExits?: boolean;
}

/** True when bytes[start, end) can be a sysdig event name: [A-Za-z0-9_]{1,64} or `<NA>`. */
export function isEventName(bytes: Uint8Array, start: number, end: number): boolean {
  const len = end - start;
  if (len < 1 || len > 64) return false;
  if (
    len === 4 &&
    bytes[start] === 60 &&
    bytes[start + 1] === 78 &&
    bytes[start + 2] === 65 &&
    bytes[start + 3] === 62
  ) {
    return true; // <NA>
  }
  for (let i = start; i < end; i++) {
    const c = bytes[i]!;
    const ok = (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95;
    if (!ok) return false;
  }
  return true;
}

/**
 * The return value in an exit event's arguments: the value of the first `name=value` parameter, decimal (with
 * an optional minus sign), or hex when `hex` is set or the digits hold a hex letter (sysdig prints addresses in
 * hex without a prefix). A suffix in parentheses, `-11(EAGAIN)` or `13(<f>/dev/null)`, is ignored. NaN when the
 * exit has no parameter or the first one is not a number.
 */
export function sysdigReturnValue(bytes: Uint8Array, start: number, end: number, hex: boolean): number {
  let i = start;
  while (i < end && bytes[i] !== 61 && bytes[i] !== 32) i++; // to '='
  if (i >= end || bytes[i] !== 61 || i === start) return Number.NaN;
  i++;
  let negative = false;
  if (i < end && bytes[i] === 45) {
    negative = true;
    i++;
  }
  const digitsStart = i;
  let sawLetter = false;
  while (i < end) {
    const c = bytes[i]!;
    if (c >= 48 && c <= 57) i++;
    else if ((c >= 65 && c <= 70) || (c >= 97 && c <= 102)) {
      sawLetter = true;
      i++;
    } else break;
  }
  if (i === digitsStart) return Number.NaN;
  if (i < end && bytes[i] !== 32 && bytes[i] !== 40) return Number.NaN; // not followed by ' ' or '('
  const base = hex || sawLetter ? 16 : 10;
  let v = 0;
  for (let k = digitsStart; k < i; k++) {
    const c = bytes[k]!;
    const d = c <= 57 ? c - 48 : (c | 32) - 87;
    v = v * base + d;
  }
  return negative ? -v : v;
}

export class SysdigCallAssembler {
  private readonly countOrphanExits: boolean;
  // Event names (syscalls and sysdig meta events) interned privately, so that meta events never reach the shared
  // vocabulary and each name is classified once.
  private readonly events = new Vocabulary();
  private kind = new Uint8Array(64);
  private flags = new Uint8Array(64); // bit 0: hex return, bit 1: child return
  private sharedId = new Int32Array(64);
  private readonly comms = new Vocabulary();

  private readonly slotOf = new Map<number, number>();
  private used = 0;
  private tid: Int32Array = new Int32Array(64);
  private comm: Int32Array = new Int32Array(64);
  private pendSys: Int32Array = new Int32Array(64).fill(-1);
  private pendTime: Float64Array = new Float64Array(64);
  private pendSeq: Float64Array = new Float64Array(64);
  private pendArgs: (string | undefined)[] = [];
  private seq = 0;

  constructor(
    private readonly vocab: Vocabulary,
    private readonly sink: EventSink,
    private readonly keepArgs: boolean,
    options: SysdigCallOptions = {},
  ) {
    this.countOrphanExits = options.countOrphanExits ?? true;
  }

  /**
   * One sysdig event: thread `tid`, process name bytes[commStart, commEnd), event name bytes[nameStart,
   * nameEnd) (already checked with isEventName), direction, time, and argument text bytes[argsStart, argsEnd).
   */
  event(
    bytes: Uint8Array,
    tid: number,
    commStart: number,
    commEnd: number,
    nameStart: number,
    nameEnd: number,
    isEnter: boolean,
    time: number,
    argsStart: number,
    argsEnd: number,
  ): void {
    const ev = this.events.internBytes(bytes, nameStart, nameEnd);
    if (ev >= this.kind.length) this.growEvents(ev);
    let kind = this.kind[ev]!;
    if (kind === 0) kind = this.classify(ev, bytes, nameStart, nameEnd);
    const slot = this.thread(tid, this.comms.internBytes(bytes, commStart, commEnd), time);
    if (kind !== 1) {
      this.metaEvent(kind as EventKind, slot, tid, isEnter, time, bytes, argsStart, argsEnd);
      return;
    }
    const sys = this.sharedId[ev]!;
    if (isEnter) {
      if (this.pendSys[slot]! >= 0) this.deliverPending(slot);
      this.pendSys[slot] = sys;
      this.pendTime[slot] = time;
      this.pendSeq[slot] = this.seq++;
      if (this.keepArgs) this.pendArgs[slot] = argsText(">", bytes, argsStart, argsEnd);
      return;
    }
    const f = this.flags[ev]!;
    const ret = sysdigReturnValue(bytes, argsStart, argsEnd, (f & 1) !== 0);
    const open = this.pendSys[slot]!;
    if (open === sys) {
      this.pendSys[slot] = -1;
      let args: string | undefined;
      if (this.keepArgs) {
        args = `${this.pendArgs[slot]} ${argsText("<", bytes, argsStart, argsEnd)}`;
        this.pendArgs[slot] = undefined;
      }
      this.sink.call(tid, sys, this.pendTime[slot]!, ret, args);
      return;
    }
    if (open >= 0) this.deliverPending(slot);
    if ((f & 2) !== 0 && ret === 0) return; // a child's return from clone/fork: the parent's call
    if (!this.countOrphanExits) return;
    this.sink.call(tid, sys, time, ret, this.keepArgs ? argsText("<", bytes, argsStart, argsEnd) : undefined);
  }

  /** Delivers every open call (ret NaN) in the order of their enters. Call at the end of the input. */
  finish(): void {
    const open: number[] = [];
    for (let s = 0; s < this.used; s++) if (this.pendSys[s]! >= 0) open.push(s);
    open.sort((a, b) => this.pendSeq[a]! - this.pendSeq[b]!);
    for (const s of open) this.deliverPending(s);
  }

  private deliverPending(slot: number): void {
    const sys = this.pendSys[slot]!;
    this.pendSys[slot] = -1;
    const args = this.keepArgs ? this.pendArgs[slot] : undefined;
    if (this.keepArgs) this.pendArgs[slot] = undefined;
    this.sink.call(this.tid[slot]!, sys, this.pendTime[slot]!, Number.NaN, args);
  }

  private thread(tid: number, commId: number, time: number): number {
    let slot = this.slotOf.get(tid);
    if (slot === undefined) {
      if (this.used >= MAX_TRACKED_THREADS) this.makeRoom();
      slot = this.used++;
      if (slot >= this.tid.length) this.growThreads();
      this.slotOf.set(tid, slot);
      this.tid[slot] = tid;
      this.comm[slot] = -1;
      this.pendSys[slot] = -1;
    }
    if (this.comm[slot] !== commId) {
      this.comm[slot] = commId;
      this.sink.note(tid, { kind: "comm", time, detail: this.comms.token(commId) });
    }
    return slot;
  }

  /**
   * The table is full: forget threads with no open call (a later event of theirs notes their name again). If that
   * frees less than a quarter, deliver every open call (ret NaN) and start afresh, so the work stays linear.
   */
  private makeRoom(): void {
    this.slotOf.clear();
    let w = 0;
    for (let s = 0; s < this.used; s++) {
      if (this.pendSys[s]! < 0) continue;
      this.tid[w] = this.tid[s]!;
      this.comm[w] = this.comm[s]!;
      this.pendSys[w] = this.pendSys[s]!;
      this.pendTime[w] = this.pendTime[s]!;
      this.pendSeq[w] = this.pendSeq[s]!;
      if (this.keepArgs) this.pendArgs[w] = this.pendArgs[s];
      this.slotOf.set(this.tid[w]!, w);
      w++;
    }
    this.used = w;
    if (w > (MAX_TRACKED_THREADS * 3) / 4) {
      this.finish();
      this.slotOf.clear();
      this.used = 0;
    }
  }

  private metaEvent(
    kind: EventKind,
    slot: number,
    tid: number,
    isEnter: boolean,
    time: number,
    bytes: Uint8Array,
    argsStart: number,
    argsEnd: number,
  ): void {
    if (!isEnter) return;
    if (kind === 3) {
      // The thread is gone: a call it left open (exit, exit_group) never returns.
      if (this.pendSys[slot]! >= 0) this.deliverPending(slot);
      this.sink.note(tid, { kind: "exit", time });
    } else if (kind === 4) {
      const sig = paramText(bytes, argsStart, argsEnd, "sig=");
      this.sink.note(tid, sig === undefined ? { kind: "signal", time } : { kind: "signal", time, detail: sig });
    } else if (kind === 5) {
      this.sink.note(tid, { kind: "lost", time });
    }
  }

  private classify(ev: number, bytes: Uint8Array, nameStart: number, nameEnd: number): EventKind {
    const name = this.events.token(ev);
    const meta = Object.hasOwn(NON_SYSCALL_EVENTS, name) ? NON_SYSCALL_EVENTS[name] : undefined;
    const kind: EventKind = meta ?? 1;
    this.kind[ev] = kind;
    if (kind === 1) {
      this.sharedId[ev] = this.vocab.internBytes(bytes, nameStart, nameEnd);
      this.flags[ev] = (HEX_RETURN.has(name) ? 1 : 0) | (CHILD_RETURN.has(name) ? 2 : 0);
    }
    return kind;
  }

  private growEvents(ev: number): void {
    const n = Math.max(ev + 1, this.kind.length * 2);
    const kind = new Uint8Array(n);
    kind.set(this.kind);
    this.kind = kind;
    const flags = new Uint8Array(n);
    flags.set(this.flags);
    this.flags = flags;
    const shared = new Int32Array(n);
    shared.set(this.sharedId);
    this.sharedId = shared;
  }

  private growThreads(): void {
    const n = this.tid.length * 2;
    const grow32 = (a: Int32Array, fill: number): Int32Array => {
      const b = new Int32Array(n).fill(fill);
      b.set(a);
      return b;
    };
    const grow64 = (a: Float64Array): Float64Array => {
      const b = new Float64Array(n);
      b.set(a);
      return b;
    };
    this.tid = grow32(this.tid, 0);
    this.comm = grow32(this.comm, -1);
    this.pendSys = grow32(this.pendSys, -1);
    this.pendTime = grow64(this.pendTime);
    this.pendSeq = grow64(this.pendSeq);
  }
}

/** `> args` / `< args`: an event's argument text marked with its direction, as sysdig writes it. */
function argsText(dir: string, bytes: Uint8Array, start: number, end: number): string {
  if (end <= start) return dir;
  return `${dir} ${Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString("utf8")}`;
}

/** The value of parameter `key` (e.g. `sig=`): the name in parentheses when there is one, else the raw value. */
function paramText(bytes: Uint8Array, start: number, end: number, key: string): string | undefined {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString("utf8");
  const at = text.startsWith(key) ? 0 : text.indexOf(` ${key}`) + 1;
  if (at <= 0 && !text.startsWith(key)) return undefined;
  let value = text.slice(at + key.length);
  const sp = value.indexOf(" ");
  if (sp >= 0) value = value.slice(0, sp);
  const open = value.indexOf("(");
  if (open >= 0 && value.endsWith(")")) return value.slice(open + 1, -1);
  return value.length > 0 ? value : undefined;
}
