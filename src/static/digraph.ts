// Wagner & Dean's digraph model: the ordered pairs (a, b) such that system call b can come next after a on some path
// through the interprocedural control-flow graph. Each reachable function is summarised by the calls that can come
// first, the calls that can come last and whether it may make none (computed to a fixpoint over the call graph);
// pairs come from walking each function's events with those summaries. Context-insensitive, so sound but not exact.
// What the code alone cannot order is allowed explicitly: a signal handler or a new thread (any address-taken
// function) can run after any call, rt_sigreturn and restart_syscall can precede anything, execve's successor
// belongs to the next program, and a longjmp lands after any setjmp.

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
const add = (to: Bits, from: Bits): boolean => {
  let changed = false;
  for (let w = 0; w < WORDS; w++) {
    const v = to[w]! | from[w]!;
    if (v !== to[w]) {
      to[w] = v;
      changed = true;
    }
  }
  return changed;
};
const setOf = (numbers: Iterable<number>): Bits => {
  const b = new Uint32Array(WORDS);
  for (const n of numbers) if (n >= 0 && n < WORDS * 32) b[n >>> 5]! |= 1 << (n & 31);
  return b;
};
const members = (b: Bits): number[] => {
  const out: number[] = [];
  for (let n = 0; n < WORDS * 32; n++) if ((b[n >>> 5]! >>> (n & 31)) & 1) out.push(n);
  return out;
};

/** Per-event summary: what it can make first and last, and whether it can make nothing. */
interface EventSummary {
  first: Bits;
  last: Bits;
  empty: boolean;
}

export interface Digraph {
  /** pairs[a] = the set of calls that may follow a, as a bitset. */
  follows: Bits[];
  pairCount: number;
}

export function buildDigraph(graph: ProgramGraph, set: SyscallSetResult): Digraph {
  const sum = functionSummaries(graph, set);
  sum.refresh();
  const follows = Array.from({ length: WORDS * 32 }, () => new Uint32Array(WORDS));
  const all = setOf(set.numbers);
  const pair = (a: Bits, b: Bits): void => {
    for (const n of members(a)) add(follows[n]!, b);
  };
  for (let g = 0; g < graph.total; g++) {
    if (graph.reachable[g] === 0) continue;
    const fn = functionOf(graph, g);
    const events = fn.events.map((e) => sum.event(g, e, fn.sites));
    fn.events.forEach((_, ei) => pair(events[ei]!.last, firstAfter(fn.events, events, fn.events[ei]!.next)));
  }
  const roots = rootSummaries(graph, sum);
  pair(roots.last, roots.first);
  const anyAt = sum.addressTaken();
  pair(all, anyAt.first);
  pair(all, setOf([RT_SIGRETURN, RESTART_SYSCALL]));
  pair(setOf([RT_SIGRETURN, RESTART_SYSCALL, ...EXEC_FAMILY]), all);
  const afterSetjmp = setjmpSuccessors(graph, sum);
  if (afterSetjmp !== undefined) pair(all, afterSetjmp);
  let pairCount = 0;
  for (const n of set.numbers) {
    const row = follows[n]!;
    for (let w = 0; w < WORDS; w++) row[w]! &= all[w]!;
    pairCount += members(row).length;
  }
  for (let n = 0; n < follows.length; n++) if (!set.numbers.has(n)) follows[n]!.fill(0);
  return { follows, pairCount };
}

/** The first calls reachable from `next` events, passing through events that may make no call. */
function firstAfter(events: readonly FunctionEvent[], sums: readonly EventSummary[], next: readonly number[]): Bits {
  const out = new Uint32Array(WORDS);
  const seen = new Set<number>();
  const stack = [...next];
  while (stack.length > 0) {
    const e = stack.pop()!;
    if (seen.has(e)) continue;
    seen.add(e);
    add(out, sums[e]!.first);
    if (sums[e]!.empty) stack.push(...events[e]!.next);
  }
  return out;
}

type FunctionOf = ProgramGraph["objects"][number]["summary"]["functions"][number];

function functionOf(graph: ProgramGraph, g: number): FunctionOf {
  const o = graph.objectOf[g]!;
  return graph.objects[o]!.summary.functions[g - graph.offset[o]!]!;
}

interface Summaries {
  first: Bits[];
  last: Bits[];
  empty: Uint8Array;
  event(g: number, e: FunctionEvent, sites: readonly SyscallSite[]): EventSummary;
  addressTaken(): EventSummary;
  callees(g: number, e: FunctionEvent): EventSummary;
  /** Forgets cached unions (after a fixpoint round changed the functions they are made of). */
  refresh(): void;
}

function functionSummaries(graph: ProgramGraph, set: SyscallSetResult): Summaries {
  const first = Array.from({ length: graph.total }, () => new Uint32Array(WORDS));
  const last = Array.from({ length: graph.total }, () => new Uint32Array(WORDS));
  const empty = new Uint8Array(graph.total);
  const siteBits = (site: SyscallSite): Bits => {
    const n = [...site.numbers];
    if (site.param >= 0) n.push(...set.wrapperNumbers);
    if (site.unknown && site.fromMemory) n.push(...set.setxidNumbers);
    return setOf(n);
  };
  const union = (ids: Iterable<number>, noneIsEmpty: boolean): EventSummary => {
    const s: EventSummary = { first: new Uint32Array(WORDS), last: new Uint32Array(WORDS), empty: false };
    let any = false;
    for (const c of ids) {
      any = true;
      add(s.first, first[c]!);
      add(s.last, last[c]!);
      if (empty[c] === 1) s.empty = true;
    }
    if (!any && noneIsEmpty) s.empty = true;
    return s;
  };
  const taken: number[] = [];
  for (let g = 0; g < graph.total; g++) if (graph.addressTaken[g] === 1 && graph.reachable[g] === 1) taken.push(g);
  let takenCache: EventSummary | undefined;
  const addressTaken = (): EventSummary => (takenCache ??= { ...union(taken, true), empty: true });
  const callees = (g: number, e: FunctionEvent): EventSummary => {
    const o = graph.objectOf[g]!;
    const ids = e.refs.flatMap((r) => graph.resolve(o, r));
    const s = union(ids, true);
    if (e.kind === EventKind.CallIndirect || e.kind === EventKind.TailIndirect) {
      const at = addressTaken();
      add(s.first, at.first);
      add(s.last, at.last);
      s.empty = true;
    }
    return s;
  };
  const event = (g: number, e: FunctionEvent, sites: readonly SyscallSite[]): EventSummary => {
    if (e.kind === EventKind.Syscall) {
      const b = siteBits(sites[e.site]!);
      return { first: b, last: b, empty: false };
    }
    return callees(g, e);
  };
  const sums: Summaries = { first, last, empty, event, addressTaken, callees, refresh: () => (takenCache = undefined) };
  fixpoint(graph, sums);
  return sums;
}

/** Recomputes every reachable function's first/last/empty until none changes (all grow monotonically). */
function fixpoint(graph: ProgramGraph, sums: Summaries): void {
  let changed = true;
  while (changed) {
    changed = false;
    sums.refresh();
    for (let g = 0; g < graph.total; g++) {
      if (graph.reachable[g] === 0) continue;
      const fn = functionOf(graph, g);
      const events = fn.events.map((e) => sums.event(g, e, fn.sites));
      if (add(sums.first[g]!, firstAfter(fn.events, events, fn.entryNext))) changed = true;
      const emptyNow = fn.entryExit || exitsEmpty(fn.events, events, fn.entryNext);
      if (emptyNow && sums.empty[g] === 0) {
        sums.empty[g] = 1;
        changed = true;
      }
      const canExit = exitAfter(fn.events, events);
      fn.events.forEach((_, ei) => {
        if (canExit[ei] === 1 && add(sums.last[g]!, events[ei]!.last)) changed = true;
      });
    }
  }
}

/** Whether the function can return from `next` through events that may make no call. */
function exitsEmpty(events: readonly FunctionEvent[], sums: readonly EventSummary[], next: readonly number[]): boolean {
  const seen = new Set<number>();
  const stack = [...next];
  while (stack.length > 0) {
    const e = stack.pop()!;
    if (seen.has(e) || !sums[e]!.empty) continue;
    seen.add(e);
    if (events[e]!.exit) return true;
    stack.push(...events[e]!.next);
  }
  return false;
}

/** exitAfter[e] = 1 when the function can return after event e with no further call. */
function exitAfter(events: readonly FunctionEvent[], sums: readonly EventSummary[]): Uint8Array {
  const out = new Uint8Array(events.length);
  let changed = true;
  events.forEach((e, i) => (out[i] = e.exit ? 1 : 0));
  while (changed) {
    changed = false;
    events.forEach((e, i) => {
      if (out[i] === 1) return;
      if (e.next.some((n) => out[n] === 1 && sums[n]!.empty)) {
        out[i] = 1;
        changed = true;
      }
    });
  }
  return out;
}

/** The loader and kernel call the roots in an order the code does not show: any root may follow any other. */
function rootSummaries(graph: ProgramGraph, sums: Summaries): EventSummary {
  const s: EventSummary = { first: new Uint32Array(WORDS), last: new Uint32Array(WORDS), empty: false };
  graph.objects.forEach((o, i) => {
    const roots = [...o.summary.roots];
    if (o.role === "vdso" || o.role === "plugin") roots.push(...Object.values(o.summary.exports));
    for (const f of roots) {
      const g = graph.offset[i]! + f;
      add(s.first, sums.first[g]!);
      add(s.last, sums.last[g]!);
    }
  });
  return s;
}

/** Calls that can come first after a setjmp-family call returns, when a longjmp-family function is reachable. */
function setjmpSuccessors(graph: ProgramGraph, sums: Summaries): Bits | undefined {
  const named = (names: readonly string[]): Set<number> => {
    const ids = new Set<number>();
    graph.objects.forEach((o, i) => {
      for (const name of names) for (const g of graph.resolve(i, name)) ids.add(g);
    });
    return ids;
  };
  const longjmps = [...named(LONGJMP)].filter((g) => graph.reachable[g] === 1);
  if (longjmps.length === 0) return undefined;
  const setjmps = named(SETJMP);
  const out = new Uint32Array(WORDS);
  for (let g = 0; g < graph.total; g++) {
    if (graph.reachable[g] === 0) continue;
    const fn = functionOf(graph, g);
    const o = graph.objectOf[g]!;
    const events = fn.events.map((e) => sums.event(g, e, fn.sites));
    fn.events.forEach((e) => {
      if (e.kind !== EventKind.Call) return;
      if (!e.refs.some((r) => graph.resolve(o, r).some((c) => setjmps.has(c)))) return;
      add(out, firstAfter(fn.events, events, e.next));
    });
  }
  return out;
}

export { members as bitMembers };
