// `analyzeProgram`: the whole static analysis of one program, in the order data flows. Load its objects as ld.so
// would, summarise each (from the build-id cache when it can), link them and find what is reachable, resolve every
// reachable syscall site, and build the set and, when asked, the digraph model (Wagner & Dean, IEEE S&P 2001).

import { buildDigraph, bitMembers } from "./digraph.js";
import { decodeObject, type ObjectCode, summarizeObject } from "./objectAnalysis.js";
import { EventKind, functionName, type ObjectSummary } from "./objectSummary.js";
import { type LoadOptions, loadProgram, type LoadedObject } from "./programLoader.js";
import { type LinkedObject, linkProgram, type ProgramGraph } from "./programGraph.js";
import { cacheKey, memoryCache, type SummaryCache } from "./summaryCache.js";
import { libcPlugins } from "./libcPlugins.js";
import type { ElfFile } from "./elfFile.js";
import { syscallSet } from "./syscallSet.js";
import type { AnalysedObject, CodeSite, StaticModel } from "./staticModel.js";
import { X86_64_SYSCALLS } from "../syscalls/x86_64.js";

export interface AnalyzeOptions {
  /** Build the digraph model too. */
  digraph?: boolean;
  /** Directories or files of plugins the program may dlopen. */
  plugins?: string[];
  cache?: SummaryCache;
  loader?: LoadOptions;
  /** Analyse the modules glibc itself would dlopen on this host (NSS, libgcc_s) when they are reachable (default). */
  libcPlugins?: boolean;
}

/** Calls allowed whatever the code says. */
export const ALWAYS_ALLOWED: readonly { name: string; number: number; why: string }[] = [
  { name: "restart_syscall", number: 219, why: "the kernel issues it to resume a call interrupted by a signal" },
  {
    name: "rt_sigreturn",
    number: 15,
    why: "returns from every signal handler (through the restorer the C library installs)",
  },
];

const DLOPEN_NAMES = ["dlopen", "dlmopen"];
const NAMES = new Map<number, string>(X86_64_SYSCALLS.map(([n, name]) => [n, name]));

export function syscallName(n: number): string {
  return NAMES.get(n) ?? `syscall_${n}`;
}

export function analyzeProgram(path: string, options: AnalyzeOptions = {}): StaticModel {
  const started = performance.now();
  // Summaries stay in memory for the second round (glibc's own plugins) in front of any cache on disk.
  const cache = inFront(options.cache);
  const elves = new Map<string, ElfFile>();
  let round = link(path, options, options.plugins ?? [], cache, new Set(), elves);
  const extra = options.libcPlugins === false ? [] : libcPlugins(round.graph);
  if (extra.length > 0)
    round = link(path, options, [...(options.plugins ?? []), ...extra], cache, round.summarised, elves);
  const { loaded, analysed, graph } = round;
  // Decoded code is not kept once an object is summarised (for a large program it would be most of the memory):
  // the set needs it again only for a wrapper call its summary did not foresee (wrapperArguments.ts).
  const codes = new Map<number, ObjectCode>();
  const codeOf = (o: number): ObjectCode => {
    let c = codes.get(o);
    if (c === undefined) {
      const obj = loaded.objects[o]!;
      c = decodeObject(obj.elf, obj.role === "interpreter");
      codes.set(o, c);
    }
    return c;
  };
  const set = syscallSet(graph, codeOf);
  for (const a of ALWAYS_ALLOWED) set.numbers.add(a.number);
  const dlopen = (options.plugins?.length ?? 0) > 0 ? [] : dlopenSites(graph);
  const syscalls = [...set.numbers].sort((a, b) => a - b);
  const model: StaticModel = {
    program: loaded.program,
    ...(loaded.script === undefined ? {} : { script: loaded.script }),
    objects: analysed,
    syscalls,
    names: syscalls.map(syscallName),
    alwaysAllowed: ALWAYS_ALLOWED.map(({ name, why }) => ({ name, why })),
    branchingFactor: syscalls.length,
    complete: set.unresolved.length === 0 && dlopen.length === 0,
    unresolved: set.unresolved,
    dlopen,
    stats: stats(graph, set.reachableSites, analysed, started),
  };
  if (options.digraph === true) {
    const d = buildDigraph(graph, set);
    const pairs: [number, number][] = [];
    for (const a of syscalls) for (const b of bitMembers(d.follows[a]!)) pairs.push([a, b]);
    model.pairs = pairs;
    model.branchingFactor = syscalls.length === 0 ? 0 : pairs.length / syscalls.length;
  }
  model.stats.milliseconds = Math.round(performance.now() - started);
  return model;
}

function inFront(behind: SummaryCache | undefined): SummaryCache {
  const front = memoryCache();
  return {
    get: (key) => {
      const known = front.get(key);
      if (known !== undefined || behind === undefined) return known;
      // Kept in front too: the second round would otherwise read and check the same file again.
      const found = behind.get(key);
      if (found !== undefined) front.put(key, found);
      return found;
    },
    put: (key, summary) => {
      front.put(key, summary);
      behind?.put(key, summary);
    },
  };
}

/** Loads the program with these plugins, summarises every object (through the cache) and links them. */
function link(
  path: string,
  options: AnalyzeOptions,
  plugins: string[],
  cache: SummaryCache,
  summarised: Set<string>,
  elfCache: Map<string, ElfFile>,
) {
  const loaded = loadProgram(path, { elfCache, ...options.loader, ...(plugins.length === 0 ? {} : { plugins }) });
  const analysed: AnalysedObject[] = [];
  const linked: LinkedObject[] = loaded.objects.map((obj) => {
    const { summary, cached: hit } = summarize(obj, cache);
    const key = `${obj.role}:${obj.path}`;
    // A summary made by the first round is not a cache hit for the user.
    const cached = hit && !summarised.has(key);
    if (!hit) summarised.add(key);
    analysed.push(describe(obj, summary, cached));
    return { path: obj.path, role: obj.role, summary };
  });
  return { loaded, analysed, summarised, graph: linkProgram(linked) };
}

function summarize(obj: LoadedObject, cache: SummaryCache | undefined): { summary: ObjectSummary; cached: boolean } {
  const interp = obj.role === "interpreter";
  const key = obj.elf.buildId === undefined ? undefined : cacheKey(obj.elf.buildId, interp);
  const hit = key === undefined ? undefined : cache?.get(key);
  if (hit !== undefined) return { summary: hit, cached: true };
  const summary = summarizeObject(decodeObject(obj.elf, interp));
  // The file's bytes and tables are needed again only if a wrapper's argument must be worked out from the code.
  obj.elf.release();
  if (key !== undefined) cache?.put(key, summary);
  return { summary, cached: false };
}

function describe(obj: LoadedObject, s: ObjectSummary, cached: boolean): AnalysedObject {
  return {
    path: obj.path,
    role: obj.role,
    ...(obj.elf.buildId === undefined ? {} : { buildId: obj.elf.buildId }),
    functions: s.functions.count,
    instructions: s.instructions,
    syscallSites: s.syscallSites,
    cached,
  };
}

/** Reachable calls of dlopen-like functions: their plugins are code this analysis has not seen. */
function dlopenSites(graph: ProgramGraph): CodeSite[] {
  const loader = new Uint8Array(graph.total);
  let any = false;
  for (const name of DLOPEN_NAMES) {
    for (const g of graph.resolveName(name)) {
      loader[g] = 1;
      any = true;
    }
  }
  if (!any) return [];
  const callsLoader = (o: number, e: number): boolean => {
    const { refs } = graph.objects[o]!.summary.events;
    for (let k = refs.start[e]!; k < refs.start[e + 1]!; k++) {
      const to = graph.resolve(o, refs.items[k]!);
      for (let j = 0; j < to.length; j++) if (loader[to[j]!] === 1) return true;
    }
    return false;
  };
  markLoaderStubs(graph, loader, callsLoader);
  const out: CodeSite[] = [];
  for (let g = 0; g < graph.total; g++) {
    if (graph.reachable[g] === 0 || loader[g] === 1) continue;
    const o = graph.objectOf[g]!;
    const f = g - graph.offset[o]!;
    const s = graph.objects[o]!.summary;
    for (let e = s.functions.events[f]!; e < s.functions.events[f + 1]!; e++) {
      const kind = s.events.kind[e]!;
      if ((kind !== EventKind.Call && kind !== EventKind.Tail) || !callsLoader(o, e)) continue;
      const name = functionName(s, f);
      out.push({
        object: graph.objects[o]!.path,
        address: s.events.address[e]!,
        ...(name === undefined ? {} : { function: name }),
        reason: "calls dlopen",
      });
    }
  }
  return out;
}

/**
 * A stub that only jumps to dlopen is dlopen for this purpose: report the code that calls it, or the stub itself
 * when it is address-taken (sqlite's unixDlOpen is reached through a method table, so only it names the call).
 * Marks such stubs as loaders, to a fixpoint (a stub of a stub).
 */
function markLoaderStubs(
  graph: ProgramGraph,
  loader: Uint8Array,
  callsLoader: (o: number, e: number) => boolean,
): void {
  // Candidates: reachable functions, not address-taken, whose events are all tail transfers.
  const candidates: number[] = [];
  for (let g = 0; g < graph.total; g++) {
    if (graph.reachable[g] === 0 || loader[g] === 1 || graph.addressTaken[g] !== 0) continue;
    const o = graph.objectOf[g]!;
    const f = g - graph.offset[o]!;
    const { functions, events } = graph.objects[o]!.summary;
    const first = functions.events[f]!;
    const end = functions.events[f + 1]!;
    let onlyTails = first < end;
    for (let e = first; e < end && onlyTails; e++) onlyTails = events.kind[e] === EventKind.Tail;
    if (onlyTails) candidates.push(g);
  }
  for (let changed = true; changed;) {
    changed = false;
    for (const g of candidates) {
      if (loader[g] === 1) continue;
      const o = graph.objectOf[g]!;
      const f = g - graph.offset[o]!;
      const { functions } = graph.objects[o]!.summary;
      for (let e = functions.events[f]!; e < functions.events[f + 1]!; e++) {
        if (!callsLoader(o, e)) continue;
        loader[g] = 1;
        changed = true;
        break;
      }
    }
  }
}

function stats(
  graph: ProgramGraph,
  reachableSites: number,
  objects: AnalysedObject[],
  started: number,
): StaticModel["stats"] {
  let reachableFunctions = 0;
  let addressTakenFunctions = 0;
  for (let g = 0; g < graph.total; g++) {
    reachableFunctions += graph.reachable[g]!;
    addressTakenFunctions += graph.addressTaken[g]!;
  }
  return {
    functions: graph.total,
    reachableFunctions,
    instructions: objects.reduce((n, o) => n + o.instructions, 0),
    syscallSites: objects.reduce((n, o) => n + o.syscallSites, 0),
    reachableSyscallSites: reachableSites,
    addressTakenFunctions,
    milliseconds: Math.round(performance.now() - started),
  };
}
