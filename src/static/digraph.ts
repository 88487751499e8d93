// Wagner & Dean's digraph model: the ordered pairs (a, b) such that system call b can come next after a on some path
// through the interprocedural control-flow graph. Each reachable function is summarised by the calls that can come
// first, the calls that can come last and whether it may make none, computed with a worklist over the call graph
// (a function is re-evaluated when a callee's summary grows); pairs come from walking each function's events with
// those summaries. Context-insensitive, so sound but not exact. What the code alone cannot order is allowed
// explicitly: a signal handler or a new thread (any address-taken function) can run after any call, rt_sigreturn
// and restart_syscall can precede anything, execve's successor belongs to the next program, a longjmp lands
// after any setjmp, and a call interrupted and restarted by the kernel follows itself.

import { EventKind, type ObjectSummary, SiteFlag } from "./objectSummary.js";
import type { ProgramGraph } from "./programGraph.js";
import type { SyscallSetResult } from "./syscallSet.js";
import { type Bits, bitMembers, orBits, orNext, orRow, rowsFor, setOf, stackFor, WORDS } from "./syscallBits.js";

export { bitMembers } from "./syscallBits.js";

const RT_SIGRETURN = 15;
const RESTART_SYSCALL = 219;
const EXEC_FAMILY = [59, 322]; // execve, execveat
const SETJMP = ["setjmp", "_setjmp", "__sigsetjmp", "sigsetjmp"];
const LONGJMP = ["longjmp", "_longjmp", "siglongjmp", "__longjmp_chk"];

export interface Digraph {
  /** follows[a] = the set of calls that may follow a, as a bitset. */
  follows: Bits[];
  pairCount: number;
}

/** An event with its callees resolved once: global ids, and whether it may call any address-taken function. */
interface LinkedEvent {
  kind: EventKind;
  /** Events of the same function that can follow it; whether the function can return after it. */
  next: Int32Array;
  exit: boolean;
  callees: Int32Array;
  indirect: boolean;
  /** For a syscall site: its numbers. */
  site?: Bits;
}

interface Summaries {
  first: Bits[];
  last: Bits[];
  empty: Uint8Array;
  events: Map<number, FunctionFlow>;
  /** Union of the address-taken functions' summaries (what an indirect call may do). */
  taken: { first: Bits; last: Bits };
}

/** A function's events with their predecessors, and flags recomputed at each evaluation (kept to avoid allocation). */
interface FunctionFlow {
  events: LinkedEvent[];
  /** The events that can come first, and whether the function can return without any. */
  entryNext: Int32Array;
  entryExit: boolean;
  preds: number[][];
  /** empty[e] = 1 when event e may make no system call; mark is a work-stack flag. */
  empty: Uint8Array;
  mark: Uint8Array;
}

export function buildDigraph(graph: ProgramGraph, set: SyscallSetResult): Digraph {
  const sums = functionSummaries(graph, set);
  const follows = Array.from({ length: WORDS * 32 }, () => new Uint32Array(WORDS));
  const all = setOf(set.numbers);
  const pair = (a: Bits, b: Bits): void => {
    for (const n of bitMembers(a)) orBits(follows[n]!, b);
  };
  const last = new Uint32Array(WORDS);
  const after = new Uint32Array(WORDS);
  for (const flow of sums.events.values()) {
    const ff = firstFrom(sums, flow);
    for (const e of flow.events) {
      last.fill(0);
      orEnd(sums, e, "last", last, 0);
      after.fill(0);
      orNext(after, ff, e.next);
      pair(last, after);
    }
  }
  const roots = rootSummary(graph, sums);
  pair(roots.last, roots.first);
  pair(all, sums.taken.first);
  pair(all, setOf([RT_SIGRETURN, RESTART_SYSCALL]));
  pair(setOf([RT_SIGRETURN, RESTART_SYSCALL, ...EXEC_FAMILY]), all);
  // The kernel restarts an interrupted call (ERESTARTSYS, ERESTARTNOINTR) by running the same `syscall` again: a
  // tracer sees it twice in a row, whatever order the code has.
  for (const n of set.numbers) if (n < WORDS * 32) follows[n]![n >>> 5]! |= 1 << (n & 31);
  const afterSetjmp = setjmpSuccessors(graph, sums);
  if (afterSetjmp !== undefined) pair(all, afterSetjmp);
  let pairCount = 0;
  for (let n = 0; n < follows.length; n++) {
    const row = follows[n]!;
    if (!set.numbers.has(n)) {
      row.fill(0);
      continue;
    }
    for (let w = 0; w < WORDS; w++) row[w]! &= all[w]!;
    pairCount += bitMembers(row).length;
  }
  return { follows, pairCount };
}

/** ORs into row `at` of `out` the calls an event can make first (or last): its site's, or its callees'. */
function orEnd(s: Summaries, e: LinkedEvent, end: "first" | "last", out: Uint32Array, at: number): void {
  if (e.site !== undefined) {
    orRow(out, at, e.site);
    return;
  }
  for (const c of e.callees) orRow(out, at, s[end][c]!);
  if (e.indirect) orRow(out, at, s.taken[end]);
}

/** Whether the event may make no system call (a call to a function that may make none, or to nothing known). */
function emptyOf(s: Summaries, e: LinkedEvent): boolean {
  if (e.site !== undefined) return false;
  if (e.indirect || e.callees.length === 0) return true;
  for (const c of e.callees) if (s.empty[c] === 1) return true;
  return false;
}

/** Recomputes which events may make no call. */
function markEmpty(s: Summaries, flow: FunctionFlow): void {
  flow.events.forEach((e, i) => (flow.empty[i] = emptyOf(s, e) ? 1 : 0));
}

/**
 * Row e = the calls that can come first from event e on, passing through events that may make none: its own first
 * calls, and those of its successors when it may make none (propagated backwards to a fixpoint).
 */
function firstFrom(s: Summaries, flow: FunctionFlow): Uint32Array {
  const { events, preds, empty, mark } = flow;
  const n = events.length;
  markEmpty(s, flow);
  const ff = rowsFor(n);
  const stack = stackFor(n);
  let top = 0;
  for (let e = 0; e < n; e++) {
    orEnd(s, events[e]!, "first", ff, e * WORDS);
    stack[top++] = e;
    mark[e] = 1;
  }
  while (top > 0) {
    const e = stack[--top]!;
    mark[e] = 0;
    for (const p of preds[e]!) {
      if (empty[p] === 1 && orRow(ff, p * WORDS, ff, e * WORDS) && mark[p] === 0) {
        mark[p] = 1;
        stack[top++] = p;
      }
    }
  }
  return ff;
}

/** Marks (in `mark`) the events after which the function can return with no further call, from its exits back. */
function markExits(flow: FunctionFlow, emptyOnly: boolean): Uint8Array {
  const { events, preds, empty, mark } = flow;
  const stack = stackFor(events.length);
  let top = 0;
  for (let e = 0; e < events.length; e++) {
    mark[e] = events[e]!.exit && (!emptyOnly || empty[e] === 1) ? 1 : 0;
    if (mark[e] === 1) stack[top++] = e;
  }
  while (top > 0) {
    const e = stack[--top]!;
    if (empty[e] === 0) continue;
    for (const p of preds[e]!) {
      if (mark[p] === 0 && (!emptyOnly || empty[p] === 1)) {
        mark[p] = 1;
        stack[top++] = p;
      }
    }
  }
  return mark;
}

type SiteBits = (s: ObjectSummary, site: number) => Bits;

function linkEvents(graph: ProgramGraph, g: number, siteBits: SiteBits): FunctionFlow {
  const o = graph.objectOf[g]!;
  const f = g - graph.offset[o]!;
  const s = graph.objects[o]!.summary;
  const { events: table, functions: fn } = s;
  const events: LinkedEvent[] = [];
  for (let e = fn.events[f]!; e < fn.events[f + 1]!; e++) {
    const kind = table.kind[e]! as EventKind;
    const next = table.next.items.subarray(table.next.start[e]!, table.next.start[e + 1]!);
    const exit = table.exit[e] === 1;
    if (kind === EventKind.Syscall) {
      events.push({ kind, next, exit, callees: new Int32Array(0), indirect: false, site: siteBits(s, table.site[e]!) });
      continue;
    }
    const ids = new Set<number>();
    for (let k = table.refs.start[e]!; k < table.refs.start[e + 1]!; k++)
      for (const c of graph.resolve(o, table.refs.items[k]!)) if (graph.reachable[c] === 1) ids.add(c);
    const indirect = kind === EventKind.CallIndirect || kind === EventKind.TailIndirect;
    events.push({ kind, next, exit, callees: Int32Array.from(ids), indirect });
  }
  const preds: number[][] = events.map(() => []);
  events.forEach((e, i) => e.next.forEach((n) => preds[n]!.push(i)));
  return {
    events,
    entryNext: fn.entryNext.items.subarray(fn.entryNext.start[f]!, fn.entryNext.start[f + 1]!),
    entryExit: fn.entryExit[f] === 1,
    preds,
    empty: new Uint8Array(events.length),
    mark: new Uint8Array(events.length),
  };
}

function functionSummaries(graph: ProgramGraph, set: SyscallSetResult): Summaries {
  const siteBits: SiteBits = ({ sites }, site) => {
    const n = [...sites.numbers.items.subarray(sites.numbers.start[site]!, sites.numbers.start[site + 1]!)];
    if (sites.param[site]! >= 0) n.push(...set.wrapperNumbers);
    const memory = SiteFlag.Unknown | SiteFlag.FromMemory;
    if ((sites.flags[site]! & memory) === memory) n.push(...set.setxidNumbers);
    return setOf(n);
  };
  const s: Summaries = {
    first: Array.from({ length: graph.total }, () => new Uint32Array(WORDS)),
    last: Array.from({ length: graph.total }, () => new Uint32Array(WORDS)),
    empty: new Uint8Array(graph.total),
    events: new Map(),
    taken: { first: new Uint32Array(WORDS), last: new Uint32Array(WORDS) },
  };
  const callers = new Map<number, number[]>();
  const indirectCallers: number[] = [];
  for (let g = 0; g < graph.total; g++) {
    if (graph.reachable[g] === 0) continue;
    const flow = linkEvents(graph, g, siteBits);
    s.events.set(g, flow);
    let indirect = false;
    for (const e of flow.events) {
      indirect ||= e.indirect;
      for (const c of e.callees) {
        const list = callers.get(c);
        if (list === undefined) callers.set(c, [g]);
        else list.push(g);
      }
    }
    if (indirect) indirectCallers.push(g);
  }
  worklist(graph, s, callers, indirectCallers);
  return s;
}

/**
 * Evaluates functions until no summary grows, callees first (a depth-first postorder of the call graph); a change
 * re-queues the callers. Growth of the address-taken union re-queues every indirect caller, but only once the queue
 * is empty: re-queueing them at each of its many small growths cost most of the time on large programs.
 */
function worklist(graph: ProgramGraph, s: Summaries, callers: Map<number, number[]>, indirectCallers: number[]): void {
  const queued = new Uint8Array(graph.total);
  const queue: number[] = [];
  const push = (g: number): void => {
    if (queued[g] === 0) {
      queued[g] = 1;
      queue.push(g);
    }
  };
  for (const g of calleesFirst(s)) push(g);
  let takenGrew = false;
  for (let head = 0; head < queue.length || takenGrew; head++) {
    if (head === queue.length) {
      takenGrew = false;
      for (const c of indirectCallers) push(c);
      if (head === queue.length) break;
    }
    if (head > 65536 && head * 2 > queue.length) {
      queue.splice(0, head);
      head = 0;
    }
    const g = queue[head]!;
    queued[g] = 0;
    if (!evaluate(s, g)) continue;
    for (const c of callers.get(g) ?? []) push(c);
    if (graph.addressTaken[g] === 1) {
      const grewFirst = orBits(s.taken.first, s.first[g]!);
      const grewLast = orBits(s.taken.last, s.last[g]!);
      takenGrew ||= grewFirst || grewLast;
    }
  }
}

/** The functions in a depth-first postorder of the call graph: callees before their callers, where there is no cycle. */
function calleesFirst(s: Summaries): number[] {
  const order: number[] = [];
  const state = new Map<number, number>(); // 1: on the stack, 2: done
  for (const root of s.events.keys()) {
    if (state.has(root)) continue;
    const stack: [number, number][] = [[root, 0]];
    state.set(root, 1);
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const callees = calleesOf(s, top[0]);
      if (top[1] < callees.length) {
        const c = callees[top[1]++]!;
        if (!state.has(c) && s.events.has(c)) {
          state.set(c, 1);
          stack.push([c, 0]);
        }
        continue;
      }
      state.set(top[0], 2);
      order.push(top[0]);
      stack.pop();
    }
  }
  return order;
}

const calleeLists = new WeakMap<FunctionFlow, number[]>();

function calleesOf(s: Summaries, g: number): number[] {
  const flow = s.events.get(g)!;
  let list = calleeLists.get(flow);
  if (list === undefined) {
    list = [];
    for (const e of flow.events) for (const c of e.callees) list.push(c);
    calleeLists.set(flow, list);
  }
  return list;
}

/** Recomputes g's first/last/empty; true when any grew. */
function evaluate(s: Summaries, g: number): boolean {
  const flow = s.events.get(g)!;
  let changed = orNext(s.first[g]!, firstFrom(s, flow), flow.entryNext);
  if (s.empty[g] === 0) {
    const exits = flow.entryExit ? undefined : markExits(flow, true);
    const emptyExit = exits === undefined || flow.entryNext.some((n) => exits[n] === 1);
    if (emptyExit) {
      s.empty[g] = 1;
      changed = true;
    }
  }
  const canExit = markExits(flow, false);
  const last = s.last[g]!;
  for (let e = 0; e < flow.events.length; e++) {
    if (canExit[e] === 1) changed = orLast(s, flow.events[e]!, last) || changed;
  }
  return changed;
}

function orLast(s: Summaries, e: LinkedEvent, into: Bits): boolean {
  let changed = false;
  if (e.site !== undefined) return orRow(into, 0, e.site);
  for (const c of e.callees) if (orRow(into, 0, s.last[c]!)) changed = true;
  if (e.indirect && orRow(into, 0, s.taken.last)) changed = true;
  return changed;
}

/** The loader and kernel call the roots in an order the code does not show: any root may follow any other. */
function rootSummary(graph: ProgramGraph, s: Summaries): { first: Bits; last: Bits } {
  const out = { first: new Uint32Array(WORDS), last: new Uint32Array(WORDS) };
  graph.objects.forEach((o, i) => {
    const roots = [...o.summary.roots];
    if (o.role === "vdso" || o.role === "plugin") roots.push(...o.summary.exportFunction);
    for (const f of roots) {
      const g = graph.offset[i]! + f;
      orBits(out.first, s.first[g]!);
      orBits(out.last, s.last[g]!);
    }
  });
  return out;
}

/** Calls that can come first after a setjmp-family call returns, when a longjmp-family function is reachable. */
function setjmpSuccessors(graph: ProgramGraph, s: Summaries): Bits | undefined {
  const named = (names: readonly string[]): Set<number> => {
    const ids = new Set<number>();
    for (const name of names) for (const g of graph.resolveName(name)) ids.add(g);
    return ids;
  };
  if (![...named(LONGJMP)].some((g) => graph.reachable[g] === 1)) return undefined;
  const setjmps = named(SETJMP);
  const out = new Uint32Array(WORDS);
  for (const flow of s.events.values()) {
    const calls = flow.events.filter((e) => e.kind === EventKind.Call && e.callees.some((c) => setjmps.has(c)));
    if (calls.length === 0) continue;
    const ff = firstFrom(s, flow);
    for (const e of calls) orNext(out, ff, e.next);
  }
  return out;
}
