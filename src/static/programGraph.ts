// Links object summaries into one program: symbols resolved in load order (the first definition wins, as ld.so
// looks them up), PLT and GOT slots followed, IFUNC calls sent to every implementation their resolver can pick.
// Reachability starts at the roots the loader and kernel call. Indirect calls are sound but not naive: a function
// is a possible target of an indirect call only once its address is taken by reachable code (or held in data),
// iterated to a fixpoint; treating every address-taken function of every library as reachable puts execve, clone3
// and socket in the set of `cat`.

import type { ObjectRole } from "./staticModel.js";
import { EventKind, type ObjectSummary, type Ref } from "./objectSummary.js";

export interface LinkedObject {
  path: string;
  role: ObjectRole;
  summary: ObjectSummary;
}

export interface ProgramGraph {
  objects: readonly LinkedObject[];
  /** Global id of an object's function f: offset[o] + f. */
  offset: Int32Array;
  total: number;
  objectOf: Int32Array;
  reachable: Uint8Array;
  addressTaken: Uint8Array;
  /** Whether any reachable code calls through a pointer (then every address-taken function is reachable). */
  anyIndirect: boolean;
  /**
   * Why each function is reachable, for explanations: the function that calls it (>= 0), -1 for a root, -2 for a
   * function reached as an indirect-call target. takenBy: the function whose code took its address (-1: data).
   */
  reachedFrom: Int32Array;
  takenBy: Int32Array;
  /** Resolves a callee reference made by object o into global ids (IFUNCs expand to their implementations); shared, not to be changed. */
  resolve(o: number, ref: Ref): number[];
}

export function linkProgram(objects: readonly LinkedObject[]): ProgramGraph {
  const offset = new Int32Array(objects.length + 1);
  objects.forEach((o, i) => (offset[i + 1] = offset[i]! + o.summary.functions.length));
  const total = offset[objects.length]!;
  const objectOf = new Int32Array(total);
  objects.forEach((_, i) => objectOf.fill(i, offset[i]!, offset[i + 1]!));
  const symbols = symbolTable(objects, offset);
  const ifunc = new Uint8Array(total);
  objects.forEach((o, i) => o.summary.ifuncResolvers.forEach((f) => (ifunc[offset[i]! + f] = 1)));
  const direct = (o: number, ref: Ref): number | undefined =>
    typeof ref === "number" ? offset[o]! + ref : symbols.get(ref);
  const memo = objects.map(() => new Map<Ref, number[]>());
  const resolve = (o: number, ref: Ref): number[] => {
    const known = memo[o]!.get(ref);
    if (known !== undefined) return known;
    const found = resolveOnce(o, ref);
    memo[o]!.set(ref, found);
    return found;
  };
  const resolveOnce = (o: number, ref: Ref): number[] => {
    const g = direct(o, ref);
    if (g === undefined) return [];
    if (ifunc[g] === 0) return [g];
    const owner = objectOf[g]!;
    const fn = objects[owner]!.summary.functions[g - offset[owner]!]!;
    const out = [g];
    for (const t of fn.taken) for (const c of [direct(owner, t)]) if (c !== undefined && c !== g) out.push(c);
    return out;
  };
  const graph: ProgramGraph = {
    objects,
    offset,
    total,
    objectOf,
    reachable: new Uint8Array(total),
    addressTaken: new Uint8Array(total),
    anyIndirect: false,
    reachedFrom: new Int32Array(total).fill(-1),
    takenBy: new Int32Array(total).fill(-1),
    resolve,
  };
  propagate(graph);
  return graph;
}

/** Exported functions by name in load order; the vDSO is reached through its own lookup, not the global scope. */
function symbolTable(objects: readonly LinkedObject[], offset: Int32Array): Map<string, number> {
  const table = new Map<string, number>();
  objects.forEach((o, i) => {
    if (o.role === "vdso") return;
    for (const [name, f] of Object.entries(o.summary.exports)) if (!table.has(name)) table.set(name, offset[i]! + f);
  });
  return table;
}

/**
 * Every definition of each exported data symbol, not only the first: a program's copy relocation (`stdout`) starts
 * from the library's own definition, whose pointers are what the copy holds.
 */
function dataSymbolTable(objects: readonly LinkedObject[]): Map<string, [number, number][]> {
  const table = new Map<string, [number, number][]>();
  objects.forEach((o, i) => {
    for (const [name, regions] of Object.entries(o.summary.dataExports)) {
      const list = table.get(name) ?? [];
      for (const r of regions) list.push([i, r]);
      table.set(name, list);
    }
  });
  return table;
}

function propagate(graph: ProgramGraph): void {
  const { objects, offset, objectOf, reachable, addressTaken } = graph;
  const work: number[] = [];
  const takenList: number[] = [];
  const reach = (g: number, from: number): void => {
    if (reachable[g] === 0) {
      reachable[g] = 1;
      graph.reachedFrom[g] = from;
      work.push(g);
    }
  };
  const take = (g: number, by: number): void => {
    if (addressTaken[g] === 1) return;
    addressTaken[g] = 1;
    graph.takenBy[g] = by;
    takenList.push(g);
    if (graph.anyIndirect) reach(g, -2);
  };
  objects.forEach((o, i) => {
    for (const f of o.summary.roots) reach(offset[i]! + f, -1);
    // The vDSO's functions are called through pointers libc looks up at start-up; a plugin's through dlsym.
    if (o.role === "vdso" || o.role === "plugin")
      for (const f of Object.values(o.summary.exports)) reach(offset[i]! + f, -1);
  });
  const live = objects.map((o) => new Uint8Array(o.summary.regions.length));
  const dataOwners = dataSymbolTable(objects);
  const liveRegion = (o: number, r: number): void => {
    if (live[o]![r] === 1) return;
    const stack = [o, r];
    while (stack.length > 0) {
      const ri = stack.pop()!;
      const oi = stack.pop()!;
      if (live[oi]![ri] === 1) continue;
      live[oi]![ri] = 1;
      const region = objects[oi]!.summary.regions[ri]!;
      for (const t of region.taken) for (const g of graph.resolve(oi, t)) take(g, -1);
      for (const d of region.data) stack.push(oi, d);
      for (const name of region.symbols) for (const [po, pr] of dataOwners.get(name) ?? []) stack.push(po, pr);
    }
  };
  while (work.length > 0) {
    const g = work.pop()!;
    const o = objectOf[g]!;
    const fn = objects[o]!.summary.functions[g - offset[o]!]!;
    for (const t of fn.taken) for (const c of graph.resolve(o, t)) take(c, g);
    for (const r of fn.data) liveRegion(o, r);
    for (const name of fn.dataSymbols) for (const [po, pr] of dataOwners.get(name) ?? []) liveRegion(po, pr);
    for (const e of fn.events) {
      if (e.kind === EventKind.CallIndirect || e.kind === EventKind.TailIndirect) {
        if (!graph.anyIndirect) {
          graph.anyIndirect = true;
          for (const t of takenList) reach(t, -2);
        }
      }
      for (const r of e.refs) for (const c of graph.resolve(o, r)) reach(c, g);
    }
  }
}

/** A readable name for global function g: `symbol` or `object+0xaddress`. */
export function functionLabel(graph: ProgramGraph, g: number): string {
  const o = graph.objectOf[g]!;
  const obj = graph.objects[o]!;
  const fn = obj.summary.functions[g - graph.offset[o]!]!;
  const base = obj.path.slice(obj.path.lastIndexOf("/") + 1);
  return fn.name ?? `${base}+0x${fn.start.toString(16)}`;
}

/** The chain of functions that makes g reachable, from a root (or an indirect call) down to g. */
export function reachPath(graph: ProgramGraph, g: number): string[] {
  const path: string[] = [];
  const seen = new Set<number>();
  let cur = g;
  while (cur >= 0 && !seen.has(cur)) {
    seen.add(cur);
    path.unshift(functionLabel(graph, cur));
    const from = graph.reachedFrom[cur]!;
    if (from === -2) {
      const by = graph.takenBy[cur]!;
      path.unshift(
        by >= 0 ? `(indirect call; address taken in ${functionLabel(graph, by)})` : "(indirect call; address in data)",
      );
      if (by < 0) break;
      cur = by;
      continue;
    }
    cur = from;
  }
  return path;
}
