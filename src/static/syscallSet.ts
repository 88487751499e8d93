// The set model (Wagner & Dean): every system-call number a reachable `syscall` site can make. Sites whose number
// is a parameter (glibc's `syscall()` wrapper, and anything that passes its argument on to it) are resolved at their
// reachable callers, by the same backward analysis of the argument register, to a fixpoint. glibc's setxid
// broadcast loads its number from memory; it only ever re-issues the set*id calls the program itself makes, so it
// is resolved to the setxid-family numbers of the program's other reachable sites (a stated rule, see docs).

import type { ObjectCode } from "./objectAnalysis.js";
import { ARGUMENT_SLOTS, EventKind, functionName, type ObjectSummary, SiteFlag } from "./objectSummary.js";
import type { ProgramGraph } from "./programGraph.js";
import { argumentValues, storedArgument } from "./wrapperArguments.js";
import type { CodeSite } from "./staticModel.js";

/** setuid, setgid, setreuid, setregid, setgroups, setresuid, setresgid: what glibc's __nptl_setxid broadcasts. */
export const SETXID_FAMILY: readonly number[] = [105, 106, 113, 114, 116, 117, 119];

export interface SyscallSetResult {
  numbers: Set<number>;
  unresolved: CodeSite[];
  /** Reachable sites, counted once each. */
  reachableSites: number;
  /** Numbers that reach `syscall()`-style wrappers from their callers (a wrapper's site may make any of them). */
  wrapperNumbers: Set<number>;
  /** Numbers glibc's setxid broadcast may re-issue. */
  setxidNumbers: number[];
}

/** Decodes an object's code on demand (cached summaries carry no code). */
export type CodeSource = (o: number) => ObjectCode;

export function syscallSet(graph: ProgramGraph, codeOf: CodeSource): SyscallSetResult {
  const numbers = new Set<number>();
  const unresolved: CodeSite[] = [];
  const wrapperNumbers = new Set<number>();
  const memorySites: { o: number; g: number; address: number }[] = [];
  const wrappers = new Map<number, Set<number>>(); // global function -> parameter indices carrying a number
  let reachableSites = 0;
  forEachReachable(graph, (g, o, f, s) => {
    const { sites } = s;
    for (let site = s.functions.sites[f]!; site < s.functions.sites[f + 1]!; site++) {
      if (isStaticReexec(graph, o, s, site)) continue;
      reachableSites++;
      for (let k = sites.numbers.start[site]!; k < sites.numbers.start[site + 1]!; k++)
        numbers.add(sites.numbers.items[k]!);
      const param = sites.param[site]!;
      if (param >= 0) addWrapper(wrappers, g, param);
      const flags = sites.flags[site]!;
      const address = sites.address[site]!;
      if ((flags & SiteFlag.Unknown) === 0) continue;
      if ((flags & SiteFlag.FromMemory) !== 0 && isLibc(graph.objects[o]!.path)) memorySites.push({ o, g, address });
      else unresolved.push(codeSite(graph, o, functionName(s, f), address, "number not constant"));
    }
  });
  resolveWrappers(graph, codeOf, wrappers, wrapperNumbers, unresolved);
  for (const n of wrapperNumbers) numbers.add(n);
  const setxidNumbers = memorySites.length > 0 ? SETXID_FAMILY.filter((n) => numbers.has(n)) : [];
  return { numbers, unresolved, reachableSites, wrapperNumbers, setxidNumbers };
}

/**
 * glibc's ld.so makes one execve: run as a program (`ld.so ./prog`) on a statically linked program, it re-executes
 * the program directly (rtld.c, glibc >= 2.33). When the kernel starts ld.so as the interpreter a program names in
 * its PT_INTERP, that program is dynamic, so the site is dead. The analysis is path-insensitive and cannot see the
 * condition (a field of the main link map), so this is a stated rule: the interpreter's constant-execve sites.
 */
function isStaticReexec(graph: ProgramGraph, o: number, s: ObjectSummary, site: number): boolean {
  const { numbers } = s.sites;
  const first = numbers.start[site]!;
  return (
    graph.objects[o]!.role === "interpreter" &&
    (s.sites.flags[site]! & SiteFlag.Unknown) === 0 &&
    s.sites.param[site]! < 0 &&
    numbers.start[site + 1]! - first === 1 &&
    numbers.items[first] === EXECVE
  );
}

const EXECVE = 59;

function isLibc(path: string): boolean {
  return /(^|\/)libc\.so\.6$/.test(path) || /(^|\/)libc-2\.\d+\.so$/.test(path);
}

function addWrapper(wrappers: Map<number, Set<number>>, g: number, k: number): boolean {
  const set = wrappers.get(g);
  if (set === undefined) {
    wrappers.set(g, new Set([k]));
    return true;
  }
  if (set.has(k)) return false;
  set.add(k);
  return true;
}

/** Visits each reachable function: its global id, its object, its index there and the object's summary. */
function forEachReachable(
  graph: ProgramGraph,
  visit: (g: number, o: number, f: number, summary: ObjectSummary) => void,
): void {
  for (let g = 0; g < graph.total; g++) {
    if (graph.reachable[g] === 0) continue;
    const o = graph.objectOf[g]!;
    visit(g, o, g - graph.offset[o]!, graph.objects[o]!.summary);
  }
}

/** Resolves wrapper parameters at every reachable call or tail call of a wrapper, until nothing new appears. */
function resolveWrappers(
  graph: ProgramGraph,
  codeOf: CodeSource,
  wrappers: Map<number, Set<number>>,
  numbers: Set<number>,
  unresolved: CodeSite[],
): void {
  if (wrappers.size === 0) return;
  // A (call event, argument) pair is resolved once: key (first event of its object + event) * registers + argument.
  const eventBase: number[] = [0];
  for (const o of graph.objects) eventBase.push(eventBase[eventBase.length - 1]! + o.summary.events.kind.length);
  const done = new Set<number>();
  const isWrapper = new Uint8Array(graph.total);
  for (const g of wrappers.keys()) isWrapper[g] = 1;
  const resolveCall = (g: number, o: number, f: number, s: ObjectSummary, e: number, callee: number): boolean => {
    let grew = false;
    const address = s.events.address[e]!;
    for (const k of wrappers.get(callee)!) {
      const key = (eventBase[o]! + e) * ARGUMENT_SLOTS + k;
      if (done.has(key)) continue;
      done.add(key);
      const v = storedArgument(s, e, k) ?? argumentValues(codeOf(o), f, address, k);
      for (const n of v.constants) if (n >= 0 && n < 1024) numbers.add(n);
      for (const p of v.params) {
        if (!addWrapper(wrappers, g, p)) continue;
        isWrapper[g] = 1;
        grew = true;
      }
      if (v.unknown) {
        const why = `argument ${k + 1} of a syscall() wrapper not constant`;
        unresolved.push(codeSite(graph, o, functionName(s, f), address, why));
      }
    }
    return grew;
  };
  // Each pass visits every reachable call and tail call in order; one that finds a new wrapper asks for another,
  // since calls before it in the order may call it. The calls are walked again rather than listed: listing every
  // reachable call costs more than the few passes, and only the calls that reach a wrapper matter.
  for (let changed = true; changed;) {
    changed = false;
    forEachReachable(graph, (g, o, f, s) => {
      const { events } = s;
      for (let e = s.functions.events[f]!; e < s.functions.events[f + 1]!; e++) {
        const kind = events.kind[e]!;
        if (kind !== EventKind.Call && kind !== EventKind.Tail) continue;
        for (let r = events.refs.start[e]!; r < events.refs.start[e + 1]!; r++) {
          const to = graph.resolve(o, events.refs.items[r]!);
          for (let j = 0; j < to.length; j++) {
            if (isWrapper[to[j]!] === 1 && resolveCall(g, o, f, s, e, to[j]!)) changed = true;
          }
        }
      }
    });
  }
}

function codeSite(graph: ProgramGraph, o: number, name: string | undefined, address: number, reason: string): CodeSite {
  return { object: graph.objects[o]!.path, address, ...(name === undefined ? {} : { function: name }), reason };
}
