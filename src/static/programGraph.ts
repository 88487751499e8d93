// Links object summaries into one program: symbols resolved in load order (the first definition wins, as ld.so
// looks them up), PLT and GOT slots followed, IFUNC calls sent to every implementation their resolver can pick.
// Reachability starts at the roots the loader and kernel call. Indirect calls are sound but not naive: a function
// is a possible target of an indirect call only once its address is taken by reachable code (or held in data),
// iterated to a fixpoint; treating every address-taken function of every library as reachable puts execve, clone3
// and socket in the set of `cat`.

import type { ObjectRole } from "./staticModel.js";
import { EventKind, functionName, type ObjectSummary, type PackedRef, symbolOfRef } from "./objectSummary.js";

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
  /**
   * Resolves a reference stored in object o's summary into global ids (IFUNCs expand to their implementations);
   * shared, not to be changed.
   */
  resolve(o: number, ref: PackedRef): readonly number[];
  /** The same for a symbol name looked up in the program's global scope. */
  resolveName(name: string): readonly number[];
}

const NONE: readonly number[] = [];

export function linkProgram(objects: readonly LinkedObject[]): ProgramGraph {
  const offset = new Int32Array(objects.length + 1);
  objects.forEach((o, i) => (offset[i + 1] = offset[i]! + o.summary.functions.count));
  const total = offset[objects.length]!;
  const objectOf = new Int32Array(total);
  objects.forEach((_, i) => objectOf.fill(i, offset[i]!, offset[i + 1]!));
  const symbols = symbolTable(objects, offset);
  const ifunc = new Uint8Array(total);
  objects.forEach((o, i) => o.summary.ifuncResolvers.forEach((f) => (ifunc[offset[i]! + f] = 1)));
  const direct = (o: number, ref: PackedRef): number | undefined =>
    ref >= 0 ? offset[o]! + ref : symbols.get(objects[o]!.summary.strings[symbolOfRef(ref)]!);
  // One slot per string and per function of each object (ref + number of strings), filled on first use.
  const memo = objects.map((o) =>
    new Array<readonly number[] | null>(o.summary.strings.length + o.summary.functions.count).fill(null),
  );
  const resolve = (o: number, ref: PackedRef): readonly number[] => {
    const slots = memo[o]!;
    const at = ref + objects[o]!.summary.strings.length;
    return (slots[at] ??= expand(direct(o, ref)));
  };
  const expand = (g: number | undefined): readonly number[] => {
    if (g === undefined) return NONE;
    if (ifunc[g] === 0) return [g];
    const owner = objectOf[g]!;
    const { taken } = objects[owner]!.summary.functions;
    const f = g - offset[owner]!;
    const out = [g];
    for (let k = taken.start[f]!; k < taken.start[f + 1]!; k++) {
      const c = direct(owner, taken.items[k]!);
      if (c !== undefined && c !== g) out.push(c);
    }
    return out;
  };
  const nameMemo = new Map<string, readonly number[]>();
  const resolveName = (name: string): readonly number[] => {
    let found = nameMemo.get(name);
    if (found === undefined) nameMemo.set(name, (found = expand(symbols.get(name))));
    return found;
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
    resolveName,
  };
  propagate(graph);
  return graph;
}

/** Exported functions by name in load order; the vDSO is reached through its own lookup, not the global scope. */
function symbolTable(objects: readonly LinkedObject[], offset: Int32Array): Map<string, number> {
  const table = new Map<string, number>();
  objects.forEach((o, i) => {
    if (o.role === "vdso") return;
    const { exportName, exportFunction, strings } = o.summary;
    for (let k = 0; k < exportName.length; k++) {
      const name = strings[exportName[k]!]!;
      if (!table.has(name)) table.set(name, offset[i]! + exportFunction[k]!);
    }
  });
  return table;
}

/**
 * Every definition of each exported data symbol, not only the first, as (object, region) pairs laid flat: a program's copy relocation (`stdout`) starts
 * from the library's own definition, whose pointers are what the copy holds.
 */
function dataSymbolTable(objects: readonly LinkedObject[]): (o: number, name: number) => readonly number[] {
  const table = new Map<string, number[]>();
  objects.forEach((o, i) => {
    const { dataExportName, dataExportRegions: regions, strings } = o.summary;
    for (let k = 0; k < dataExportName.length; k++) {
      const name = strings[dataExportName[k]!]!;
      const list = table.get(name) ?? [];
      for (let j = regions.start[k]!; j < regions.start[k + 1]!; j++) list.push(i, regions.items[j]!);
      table.set(name, list);
    }
  });
  // By object and string index, so that each name is hashed once per object that refers to it.
  const memo = objects.map((o) => new Array<readonly number[] | null>(o.summary.strings.length).fill(null));
  return (o, name) => (memo[o]![name] ??= table.get(objects[o]!.summary.strings[name]!) ?? NONE);
}

/** Reachability from the roots, with the address-taken fixpoint (see the module's header). */
function propagate(graph: ProgramGraph): void {
  const p = new Propagation(graph);
  p.seedRoots();
  for (let g = p.next(); g >= 0; g = p.next()) p.visit(g);
}

/** The fixpoint's state: functions left to visit, and what has been reached, taken and made live so far. */
class Propagation {
  private readonly work: number[] = [];
  /** Address-taken functions, in the order found: all become reachable once any indirect call is. */
  private readonly takenList: number[] = [];
  private readonly live: Uint8Array[];
  private readonly ownersOf: (o: number, name: number) => readonly number[];
  private readonly stack: number[] = [];

  constructor(private readonly graph: ProgramGraph) {
    this.live = graph.objects.map((o) => new Uint8Array(o.summary.regions.count));
    this.ownersOf = dataSymbolTable(graph.objects);
  }

  seedRoots(): void {
    const { objects, offset } = this.graph;
    objects.forEach((o, i) => {
      for (const f of o.summary.roots) this.reach(offset[i]! + f, -1);
      // The vDSO's functions are called through pointers libc looks up at start-up; a plugin's through dlsym.
      if (o.role === "vdso" || o.role === "plugin")
        for (const f of o.summary.exportFunction) this.reach(offset[i]! + f, -1);
    });
  }

  /** The next function to visit, or -1 when the fixpoint is reached. */
  next(): number {
    return this.work.length > 0 ? this.work.pop()! : -1;
  }

  private reach(g: number, from: number): void {
    const { graph } = this;
    if (graph.reachable[g] !== 0) return;
    graph.reachable[g] = 1;
    graph.reachedFrom[g] = from;
    this.work.push(g);
  }

  private take(g: number, by: number): void {
    const { graph } = this;
    if (graph.addressTaken[g] === 1) return;
    graph.addressTaken[g] = 1;
    graph.takenBy[g] = by;
    this.takenList.push(g);
    if (graph.anyIndirect) this.reach(g, -2);
  }

  /** What reachable function g refers to: addresses it takes, data it makes live, the functions it calls. */
  visit(g: number): void {
    const { graph } = this;
    const o = graph.objectOf[g]!;
    const { functions: fn, events } = graph.objects[o]!.summary;
    const f = g - graph.offset[o]!;
    for (let k = fn.taken.start[f]!; k < fn.taken.start[f + 1]!; k++) {
      const to = graph.resolve(o, fn.taken.items[k]!);
      for (let j = 0; j < to.length; j++) this.take(to[j]!, g);
    }
    for (let k = fn.data.start[f]!; k < fn.data.start[f + 1]!; k++) this.liveRegion(o, fn.data.items[k]!);
    for (let k = fn.dataSymbols.start[f]!; k < fn.dataSymbols.start[f + 1]!; k++) {
      const owners = this.ownersOf(o, fn.dataSymbols.items[k]!);
      for (let j = 0; j < owners.length; j += 2) this.liveRegion(owners[j]!, owners[j + 1]!);
    }
    for (let e = fn.events[f]!; e < fn.events[f + 1]!; e++) {
      const kind = events.kind[e]!;
      if ((kind === EventKind.CallIndirect || kind === EventKind.TailIndirect) && !graph.anyIndirect) {
        graph.anyIndirect = true;
        for (const t of this.takenList) this.reach(t, -2);
      }
      for (let k = events.refs.start[e]!; k < events.refs.start[e + 1]!; k++) {
        const to = graph.resolve(o, events.refs.items[k]!);
        for (let j = 0; j < to.length; j++) this.reach(to[j]!, g);
      }
    }
  }

  /** Makes region r of object o live, and everything its pointers lead to: the code it holds is address-taken. */
  private liveRegion(o: number, r: number): void {
    const { graph, live, stack } = this;
    if (live[o]![r] === 1) return;
    stack.push(o, r);
    while (stack.length > 0) {
      const ri = stack.pop()!;
      const oi = stack.pop()!;
      if (live[oi]![ri] === 1) continue;
      live[oi]![ri] = 1;
      const { taken, data, symbols } = graph.objects[oi]!.summary.regions;
      for (let k = taken.start[ri]!; k < taken.start[ri + 1]!; k++) {
        const to = graph.resolve(oi, taken.items[k]!);
        for (let j = 0; j < to.length; j++) this.take(to[j]!, -1);
      }
      for (let k = data.start[ri]!; k < data.start[ri + 1]!; k++) stack.push(oi, data.items[k]!);
      for (let k = symbols.start[ri]!; k < symbols.start[ri + 1]!; k++) {
        const owners = this.ownersOf(oi, symbols.items[k]!);
        for (let j = 0; j < owners.length; j += 2) stack.push(owners[j]!, owners[j + 1]!);
      }
    }
  }
}

/** A readable name for global function g: `symbol` or `object+0xaddress`. */
export function functionLabel(graph: ProgramGraph, g: number): string {
  const o = graph.objectOf[g]!;
  const obj = graph.objects[o]!;
  const f = g - graph.offset[o]!;
  const base = obj.path.slice(obj.path.lastIndexOf("/") + 1);
  return functionName(obj.summary, f) ?? `${base}+0x${obj.summary.functions.start[f]!.toString(16)}`;
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
