// The set model (Wagner & Dean): every system-call number a reachable `syscall` site can make. Sites whose number
// is a parameter (glibc's `syscall()` wrapper, and anything that passes its argument on to it) are resolved at their
// reachable callers, by the same backward analysis of the argument register, to a fixpoint. glibc's setxid
// broadcast loads its number from memory; it only ever re-issues the set*id calls the program itself makes, so it
// is resolved to the setxid-family numbers of the program's other reachable sites (a stated rule, see docs).

import { buildCfg } from "./controlFlow.js";
import type { ObjectCode } from "./objectAnalysis.js";
import { EventKind } from "./objectSummary.js";
import type { ProgramGraph } from "./programGraph.js";
import { ARGUMENT_REGISTERS, registerValuesBefore } from "./registerValue.js";
import type { CodeSite } from "./staticModel.js";
import { indexOfIp } from "./x86Decoder.js";

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
  forEachReachable(graph, (g, o, fn) => {
    fn.sites.forEach((site) => {
      if (isStaticReexec(graph, o, site)) return;
      reachableSites++;
      for (const n of site.numbers) numbers.add(n);
      if (site.param >= 0) addWrapper(wrappers, g, site.param);
      if (site.unknown && site.fromMemory && isLibc(graph.objects[o]!.path))
        memorySites.push({ o, g, address: site.address });
      else if (site.unknown) unresolved.push(codeSite(graph, o, fn.name, site.address, "number not constant"));
    });
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
function isStaticReexec(
  graph: ProgramGraph,
  o: number,
  site: { numbers: number[]; param: number; unknown: boolean },
): boolean {
  return (
    graph.objects[o]!.role === "interpreter" &&
    !site.unknown &&
    site.param < 0 &&
    site.numbers.length === 1 &&
    site.numbers[0] === EXECVE
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

type FunctionOf = ProgramGraph["objects"][number]["summary"]["functions"][number];

function forEachReachable(graph: ProgramGraph, visit: (g: number, o: number, fn: FunctionOf) => void): void {
  for (let g = 0; g < graph.total; g++) {
    if (graph.reachable[g] === 0) continue;
    const o = graph.objectOf[g]!;
    visit(g, o, graph.objects[o]!.summary.functions[g - graph.offset[o]!]!);
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
  const done = new Set<string>();
  let changed = wrappers.size > 0;
  while (changed) {
    changed = false;
    forEachReachable(graph, (g, o, fn) => {
      fn.events.forEach((e, ei) => {
        if (e.kind !== EventKind.Call && e.kind !== EventKind.Tail) return;
        for (const r of e.refs) {
          for (const callee of graph.resolve(o, r)) {
            for (const k of wrappers.get(callee) ?? []) {
              const key = `${g}:${ei}:${k}`;
              if (done.has(key)) continue;
              done.add(key);
              const v = argumentAt(graph, codeOf, o, g, e.address, k);
              for (const n of v.constants) if (n >= 0 && n < 1024) numbers.add(n);
              for (const p of v.params) if (addWrapper(wrappers, g, p)) changed = true;
              if (v.unknown)
                unresolved.push(
                  codeSite(graph, o, fn.name, e.address, `argument ${k + 1} of a syscall() wrapper not constant`),
                );
            }
          }
        }
      });
    });
  }
}

function argumentAt(graph: ProgramGraph, codeOf: CodeSource, o: number, g: number, address: number, k: number) {
  const obj = codeOf(o);
  const f = g - graph.offset[o]!;
  const read = (ip: number, len: number): Uint8Array | undefined => obj.elf.read(ip, len);
  const cfg = buildCfg(obj.code, obj.map, f, read, obj.dead, obj.noReturn);
  const local = indexOfIp(obj.code, address) - cfg.base;
  return registerValuesBefore(obj.code, cfg, read, local, ARGUMENT_REGISTERS[k]!);
}

function codeSite(graph: ProgramGraph, o: number, name: string | undefined, address: number, reason: string): CodeSite {
  return { object: graph.objects[o]!.path, address, ...(name === undefined ? {} : { function: name }), reason };
}
