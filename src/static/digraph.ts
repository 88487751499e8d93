// Wagner & Dean's digraph model: the ordered pairs (a, b) such that system call b can come next after a on some path
// through the interprocedural control-flow graph. Each reachable function is summarised by the calls that can come
// first, the calls that can come last and whether it may make none, computed with a worklist over the call graph
// (a function is re-evaluated when a callee's summary grows); pairs come from walking each function's events with
// those summaries. Context-insensitive, so sound but not exact. What the code alone cannot order is allowed
// explicitly: a signal handler or a new thread (any address-taken function) can run after any call, rt_sigreturn
// and restart_syscall can precede anything, execve's successor belongs to the next program, and a longjmp lands
// after any setjmp.

import { EventKind, type FunctionEvent, type SyscallSite } from "./objectSummary.js";
import type { ProgramGraph } from "./programGraph.js";
import type { SyscallSetResult } from "./syscallSet.js";

const WORDS = 16; // 512 system-call numbers
const RT_SIGRETURN = 15;
const RESTART_SYSCALL = 219;
const EXEC_FAMILY = [59, 322]; // execve, execveat
const SETJMP = ["setjmp", "_setjmp", "__sigsetjmp", "sigsetjmp"];
const LONGJMP = ["longjmp", "_longjmp", "siglongjmp", "__longjmp_chk"];

type Bits = Uint32Array;

function add(to: Bits, from: Bits): boolean {
  let changed = false;
  for (let w = 0; w < WORDS; w++) {
    const v = (to[w]! | from[w]!) >>> 0;
    if (v !== to[w]) {
      to[w] = v;
      changed = true;
    }
  }
  return changed;
}

function setOf(numbers: Iterable<number>): Bits {
  const b = new Uint32Array(WORDS);
  for (const n of numbers) if (n >= 0 && n < WORDS * 32) b[n >>> 5]! |= 1 << (n & 31);
  return b;
}

export function bitMembers(b: Bits): number[] {
  const out: number[] = [];
  for (let n = 0; n < WORDS * 32; n++) if ((b[n >>> 5]! >>> (n & 31)) & 1) out.push(n);
  return out;
}

export interface Digraph {
  /** follows[a] = the set of calls that may follow a, as a bitset. */
  follows: Bits[];
  pairCount: number;
}

/** An event with its callees resolved once: global ids, and whether it may call any address-taken function. */
interface LinkedEvent {
  event: FunctionEvent;
  callees: Int32Array;
  indirect: boolean;
  /** For a syscall site: its numbers. */
  site?: Bits;
}

interface Summaries {
  first: Bits[];
  last: Bits[];
  empty: Uint8Array;
  events: Map<number, LinkedEvent[]>;
  /** Union of the address-taken functions' summaries (what an indirect call may do). */
  taken: { first: Bits; last: Bits };
}

export function buildDigraph(graph: ProgramGraph, set: SyscallSetResult): Digraph {
  const sums = functionSummaries(graph, set);
  const follows = Array.from({ length: WORDS * 32 }, () => new Uint32Array(WORDS));
  const all = setOf(set.numbers);
  const pair = (a: Bits, b: Bits): void => {
    for (const n of bitMembers(a)) add(follows[n]!, b);
  };
  for (const [g, events] of sums.events) {
    const fn = functionOf(graph, g);
    events.forEach((e, ei) => pair(lastOf(sums, e), firstAfter(sums, events, fn.events[ei]!.next)));
  }
  const roots = rootSummary(graph, sums);
  pair(roots.last, roots.first);
  pair(all, sums.taken.first);
  pair(all, setOf([RT_SIGRETURN, RESTART_SYSCALL]));
  pair(setOf([RT_SIGRETURN, RESTART_SYSCALL, ...EXEC_FAMILY]), all);
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

type FunctionOf = ProgramGraph["objects"][number]["summary"]["functions"][number];

function functionOf(graph: ProgramGraph, g: number): FunctionOf {
  const o = graph.objectOf[g]!;
  return graph.objects[o]!.summary.functions[g - graph.offset[o]!]!;
}

/** The calls an event can make first (or last): its site's numbers, or the union over what it may call. */
function endOf(s: Summaries, e: LinkedEvent, end: "first" | "last"): Bits {
  if (e.site !== undefined) return e.site;
  const b = new Uint32Array(WORDS);
  for (const c of e.callees) add(b, s[end][c]!);
  if (e.indirect) add(b, s.taken[end]);
  return b;
}

const firstOf = (s: Summaries, e: LinkedEvent): Bits => endOf(s, e, "first");
const lastOf = (s: Summaries, e: LinkedEvent): Bits => endOf(s, e, "last");

/** Whether the event may make no system call (a call to a function that may make none, or to nothing known). */
function emptyOf(s: Summaries, e: LinkedEvent): boolean {
  if (e.site !== undefined) return false;
  if (e.indirect || e.callees.length === 0) return true;
  for (const c of e.callees) if (s.empty[c] === 1) return true;
  return false;
}

/** The first calls reachable from `next` events, passing through events that may make no call. */
function firstAfter(s: Summaries, events: readonly LinkedEvent[], next: readonly number[]): Bits {
  const out = new Uint32Array(WORDS);
  const seen = new Set<number>();
  const stack = [...next];
  while (stack.length > 0) {
    const e = stack.pop()!;
    if (seen.has(e)) continue;
    seen.add(e);
    const ev = events[e]!;
    add(out, firstOf(s, ev));
    if (emptyOf(s, ev)) for (const n of ev.event.next) stack.push(n);
  }
  return out;
}

function linkEvents(graph: ProgramGraph, g: number, fn: FunctionOf, siteBits: (s: SyscallSite) => Bits): LinkedEvent[] {
  const o = graph.objectOf[g]!;
  return fn.events.map((event) => {
    if (event.kind === EventKind.Syscall) return { event, callees: new Int32Array(0), indirect: false, site: siteBits(fn.sites[event.site]!) };
    const ids = new Set<number>();
    for (const r of event.refs) for (const c of graph.resolve(o, r)) if (graph.reachable[c] === 1) ids.add(c);
    const indirect = event.kind === EventKind.CallIndirect || event.kind === EventKind.TailIndirect;
    return { event, callees: Int32Array.from(ids), indirect };
  });
}

function functionSummaries(graph: ProgramGraph, set: SyscallSetResult): Summaries {
  const siteBits = (site: SyscallSite): Bits => {
    const n = [...site.numbers];
    if (site.param >= 0) n.push(...set.wrapperNumbers);
    if (site.unknown && site.fromMemory) n.push(...set.setxidNumbers);
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
    const events = linkEvents(graph, g, functionOf(graph, g), siteBits);
    s.events.set(g, events);
    let indirect = false;
    for (const e of events) {
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

/** Evaluates functions until no summary grows; a change re-queues the callers (and indirect callers when taken). */
function worklist(graph: ProgramGraph, s: Summaries, callers: Map<number, number[]>, indirectCallers: number[]): void {
  const queued = new Uint8Array(graph.total);
  const queue: number[] = [];
  const push = (g: number): void => {
    if (queued[g] === 0) {
      queued[g] = 1;
      queue.push(g);
    }
  };
  for (const g of s.events.keys()) push(g);
  for (let head = 0; head < queue.length; head++) {
    if (head > 65536 && head * 2 > queue.length) {
      queue.splice(0, head);
      head = 0;
    }
    const g = queue[head]!;
    queued[g] = 0;
    if (!evaluate(s, g, functionOf(graph, g))) continue;
    for (const c of callers.get(g) ?? []) push(c);
    if (graph.addressTaken[g] === 1) {
      const grew = add(s.taken.first, s.first[g]!) || add(s.taken.last, s.last[g]!);
      const grewLast = add(s.taken.last, s.last[g]!);
      if (grew || grewLast) for (const c of indirectCallers) push(c);
    }
  }
}

/** Recomputes g's first/last/empty; true when any grew. */
function evaluate(s: Summaries, g: number, fn: FunctionOf): boolean {
  const events = s.events.get(g)!;
  let changed = add(s.first[g]!, firstAfter(s, events, fn.entryNext));
  if (s.empty[g] === 0 && (fn.entryExit || exitsEmpty(s, events, fn.entryNext))) {
    s.empty[g] = 1;
    changed = true;
  }
  const canExit = exitAfter(s, events);
  events.forEach((e, ei) => {
    if (canExit[ei] === 1 && add(s.last[g]!, lastOf(s, e))) changed = true;
  });
  return changed;
}

/** Whether the function can return from `next` through events that may make no call. */
function exitsEmpty(s: Summaries, events: readonly LinkedEvent[], next: readonly number[]): boolean {
  const seen = new Set<number>();
  const stack = [...next];
  while (stack.length > 0) {
    const e = stack.pop()!;
    if (seen.has(e)) continue;
    seen.add(e);
    const ev = events[e]!;
    if (!emptyOf(s, ev)) continue;
    if (ev.event.exit) return true;
    for (const n of ev.event.next) stack.push(n);
  }
  return false;
}

/** canExit[e] = 1 when the function can return after event e with no further call (reverse search from exits). */
function exitAfter(s: Summaries, events: readonly LinkedEvent[]): Uint8Array {
  const preds: number[][] = events.map(() => []);
  events.forEach((e, i) => e.event.next.forEach((n) => preds[n]!.push(i)));
  const out = new Uint8Array(events.length);
  const stack: number[] = [];
  events.forEach((e, i) => {
    if (e.event.exit) {
      out[i] = 1;
      stack.push(i);
    }
  });
  while (stack.length > 0) {
    const n = stack.pop()!;
    if (!emptyOf(s, events[n]!)) continue;
    for (const p of preds[n]!) {
      if (out[p] === 0) {
        out[p] = 1;
        stack.push(p);
      }
    }
  }
  return out;
}

/** The loader and kernel call the roots in an order the code does not show: any root may follow any other. */
function rootSummary(graph: ProgramGraph, s: Summaries): { first: Bits; last: Bits } {
  const out = { first: new Uint32Array(WORDS), last: new Uint32Array(WORDS) };
  graph.objects.forEach((o, i) => {
    const roots = [...o.summary.roots];
    if (o.role === "vdso" || o.role === "plugin") roots.push(...Object.values(o.summary.exports));
    for (const f of roots) {
      const g = graph.offset[i]! + f;
      add(out.first, s.first[g]!);
      add(out.last, s.last[g]!);
    }
  });
  return out;
}

/** Calls that can come first after a setjmp-family call returns, when a longjmp-family function is reachable. */
function setjmpSuccessors(graph: ProgramGraph, s: Summaries): Bits | undefined {
  const named = (names: readonly string[]): Set<number> => {
    const ids = new Set<number>();
    graph.objects.forEach((_, i) => {
      for (const name of names) for (const g of graph.resolve(i, name)) ids.add(g);
    });
    return ids;
  };
  if (![...named(LONGJMP)].some((g) => graph.reachable[g] === 1)) return undefined;
  const setjmps = named(SETJMP);
  const out = new Uint32Array(WORDS);
  for (const [g, events] of s.events) {
    const fn = functionOf(graph, g);
    events.forEach((e, ei) => {
      if (e.event.kind === EventKind.Call && e.callees.some((c) => setjmps.has(c))) {
        add(out, firstAfter(s, events, fn.events[ei]!.next));
      }
    });
  }
  return out;
}
