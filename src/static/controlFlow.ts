// The intra-procedural control-flow graph of one function, on instruction indices local to the function. Control that
// leaves the function (a jmp to another function, or falling into the next one) is a tail transfer, kept apart. An
// indirect jmp through a register (a switch's jump table, or a tail call through a pointer) may reach every block
// leader of its function: sound without decoding the table.

import type { FunctionMap } from "./functionMap.js";
import { tableShape, tableTargets } from "./jumpTable.js";
import { registerValuesBefore } from "./registerValue.js";
import type { DeadEdges, FunctionCfg, NoReturn } from "./functionCfg.js";
import { type DecodedCode, Flow } from "./x86Decoder.js";

export type { DeadEdges, FunctionCfg, NoReturn } from "./functionCfg.js";

type Read = (ip: number, length: number) => Uint8Array | undefined;

export function buildCfg(
  code: DecodedCode,
  map: FunctionMap,
  f: number,
  read: Read,
  dead?: DeadEdges,
  noReturn?: NoReturn,
  readTables = true,
): FunctionCfg {
  const base = map.firstIndex[f]!;
  const size = map.lastIndex[f]! - base;
  const start = map.start[f]!;
  const end = map.end[f]!;
  const local = (ip: number): number => localIndex(code, base, size, ip, start, end);
  const { lists, tails, leaders, switches } = directEdges(code, base, size, local, noReturn);
  if (dead !== undefined) prune(base, lists, dead, local);
  if (switches.length === 0) return finish(base, size, lists, tails);
  const targets = readTables
    ? resolveSwitches(code, base, size, lists, switches, read, local)
    : new Map<number, number[] | undefined>();
  for (const s of switches) {
    const t = targets.get(s);
    if (t === undefined) {
      // An unrecognised indirect jump: any block of the function, or a tail call through a pointer.
      setEdges(lists, s, [...leaders]);
      tails.push({ from: s, to: Number.NaN });
    } else setEdges(lists, s, t);
  }
  return finish(base, size, lists, tails);
}

interface DirectEdges {
  lists: Edges;
  /** Transfers out of the function: the instruction and the address it goes to (NaN: through a pointer). */
  tails: { from: number; to: number }[];
  /** Instructions that start a block: where an unrecognised indirect jump may go. */
  leaders: Set<number>;
  /** Indirect jumps through a register: switches, resolved by the caller. */
  switches: number[];
}

/** The edges each instruction's own encoding gives (fall-through, direct jumps, calls that return). */
function directEdges(
  code: DecodedCode,
  base: number,
  size: number,
  local: (ip: number) => number,
  noReturn: NoReturn | undefined,
): DirectEdges {
  const lists = newEdges(size);
  const tails: { from: number; to: number }[] = [];
  const leaders = new Set<number>([0]);
  const switches: number[] = [];
  const fallOut = (i: number): void => {
    if (i + 1 < size) addEdge(lists, i, i + 1);
    else tails.push({ from: i, to: code.ip[base + i]! + code.length[base + i]! });
  };
  for (let i = 0; i < size; i++) {
    const g = base + i;
    const flow = code.flow[g]!;
    if (flow === Flow.Jmp || flow === Flow.Jcc) {
      const t = code.target[g]!;
      const lt = local(t);
      if (lt >= 0) {
        addEdge(lists, i, lt);
        leaders.add(lt);
      } else tails.push({ from: i, to: t });
      if (flow === Flow.Jcc) fallOut(i);
      if (i + 1 < size) leaders.add(i + 1);
    } else if (flow === Flow.Ret || flow === Flow.Stop) {
      if (i + 1 < size) leaders.add(i + 1);
    } else if (flow === Flow.JmpIndirect) {
      if (Number.isNaN(code.memory[g]!)) switches.push(i);
      else tails.push({ from: i, to: Number.NaN });
      if (i + 1 < size) leaders.add(i + 1);
    } else if (flow === Flow.Call || flow === Flow.CallIndirect) {
      // A call whose return lands outside the function is to a function that does not return: no tail transfer.
      const returns =
        noReturn === undefined ||
        (flow === Flow.Call ? !noReturn.call(code.target[g]!) : !noReturn.slot(code.memory[g]!));
      if (i + 1 < size && returns) addEdge(lists, i, i + 1);
    } else {
      fallOut(i);
    }
  }
  return { lists, tails, leaders, switches };
}

/**
 * Reads each switch's jump table, with the table's address found by value analysis on a graph that includes the
 * switches' targets found so far, until the targets stop changing (the fixpoint is sound: a path that reaches a
 * load only through a switch is in the graph by then). A switch whose table is not understood gets undefined.
 */
function resolveSwitches(
  code: DecodedCode,
  base: number,
  size: number,
  lists: Edges,
  switches: readonly number[],
  read: Read,
  local: (ip: number) => number,
): Map<number, number[] | undefined> {
  let current = new Map<number, number[] | undefined>(switches.map((s) => [s, []]));
  for (let round = 0; round < 4; round++) {
    const trial = copyEdges(lists);
    for (const [sw, t] of current) setEdges(trial, sw, t ?? []);
    const cfg = finish(base, size, trial, []);
    const next = new Map<number, number[] | undefined>();
    for (const s of switches) next.set(s, switchTargets(code, cfg, s, read, local));
    if (sameTargets(current, next)) return next;
    current = next;
  }
  return new Map(switches.map((s) => [s, undefined]));
}

function sameTargets(a: Map<number, number[] | undefined>, b: Map<number, number[] | undefined>): boolean {
  for (const [s, t] of a) {
    const u = b.get(s);
    if (t === undefined || u === undefined) {
      if (t !== u) return false;
      continue;
    }
    if (t.length !== u.length || t.some((x, i) => x !== u[i])) return false;
  }
  return true;
}

function switchTargets(
  code: DecodedCode,
  cfg: FunctionCfg,
  s: number,
  read: Read,
  local: (ip: number) => number,
): number[] | undefined {
  const shape = tableShape(code, cfg.base, s, read);
  if (shape === undefined) return undefined;
  const v = registerValuesBefore(code, cfg, read, shape.loadAt, shape.baseRegister);
  if (v.unknown || v.params.size > 0 || v.constants.size === 0) return undefined;
  const out = new Set<number>();
  for (const table of v.constants) {
    const targets = tableTargets(table, read, (ip) => local(ip) >= 0, shape.entries);
    if (targets === undefined) return undefined;
    for (const t of targets) out.add(local(t));
  }
  return out.size > 0 ? [...out].sort((a, b) => a - b) : undefined;
}

function localIndex(code: DecodedCode, base: number, size: number, ip: number, start: number, end: number): number {
  if (!(ip >= start && ip < end)) return -1;
  let lo = 0;
  let hi = size - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = code.ip[base + mid]!;
    if (v === ip) return mid;
    if (v < ip) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

function prune(base: number, lists: Edges, dead: DeadEdges, local: (ip: number) => number): void {
  for (const [g, to] of dead) {
    const i = g - base;
    if (i < 0 || i >= lists.a.length) continue;
    const lt = local(to);
    setEdges(
      lists,
      i,
      successorsOf(lists, i).filter((s) => s !== lt),
    );
  }
}

/** Successor lists: most instructions have one or two, kept in typed arrays; switches keep theirs in `more`. */
interface Edges {
  a: Int32Array;
  b: Int32Array;
  more: Map<number, number[]>;
}

function newEdges(size: number): Edges {
  return { a: new Int32Array(size).fill(-1), b: new Int32Array(size).fill(-1), more: new Map() };
}

function copyEdges(e: Edges): Edges {
  return { a: e.a.slice(), b: e.b.slice(), more: new Map(e.more) };
}

function addEdge(e: Edges, i: number, to: number): void {
  if (e.a[i] === -1) e.a[i] = to;
  else if (e.b[i] === -1) e.b[i] = to;
  else {
    const more = e.more.get(i);
    if (more === undefined) e.more.set(i, [to]);
    else more.push(to);
  }
}

function setEdges(e: Edges, i: number, to: readonly number[]): void {
  e.a[i] = to.length > 0 ? to[0]! : -1;
  e.b[i] = to.length > 1 ? to[1]! : -1;
  if (to.length > 2) e.more.set(i, to.slice(2));
  else e.more.delete(i);
}

function successorsOf(e: Edges, i: number): number[] {
  const out: number[] = [];
  if (e.a[i] !== -1) out.push(e.a[i]!);
  if (e.b[i] !== -1) out.push(e.b[i]!);
  for (const t of e.more.get(i) ?? []) out.push(t);
  return out;
}

/** The reachability walk's stack, shared by every call (finish does not nest): one array, not one per function. */
const dfsStack: number[] = [];

function finish(base: number, size: number, lists: Edges, tails: { from: number; to: number }[]): FunctionCfg {
  const succStart = new Int32Array(size + 1);
  // Only switches have more than two successors: most functions have none, and need no lookup per instruction.
  const more = lists.more.size > 0 ? lists.more : undefined;
  for (let i = 0; i < size; i++) {
    const n = (lists.a[i] !== -1 ? 1 : 0) + (lists.b[i] !== -1 ? 1 : 0) + (more?.get(i)?.length ?? 0);
    succStart[i + 1] = succStart[i]! + n;
  }
  const succ = new Int32Array(succStart[size]!);
  const predCount = new Int32Array(size + 1);
  const put = (k: number, s: number): void => {
    succ[k] = s;
    predCount[s + 1]!++;
  };
  for (let i = 0; i < size; i++) {
    let k = succStart[i]!;
    if (lists.a[i] !== -1) put(k++, lists.a[i]!);
    if (lists.b[i] !== -1) put(k++, lists.b[i]!);
    const extra = more?.get(i);
    if (extra !== undefined) for (const s of extra) put(k++, s);
  }
  const predStart = new Int32Array(size + 1);
  for (let i = 0; i < size; i++) predStart[i + 1] = predStart[i]! + predCount[i + 1]!;
  const pred = new Int32Array(predStart[size]!);
  // predCount is spent: it becomes each instruction's next free slot in pred.
  const fill = predCount;
  fill.set(predStart);
  for (let i = 0; i < size; i++) {
    for (let k = succStart[i]!; k < succStart[i + 1]!; k++) pred[fill[succ[k]!]!++] = i;
  }
  const reachable = new Uint8Array(size);
  if (size > 0) {
    const stack = dfsStack;
    stack.length = 0;
    stack.push(0);
    reachable[0] = 1;
    while (stack.length > 0) {
      const i = stack.pop()!;
      for (let k = succStart[i]!; k < succStart[i + 1]!; k++) {
        const s = succ[k]!;
        if (reachable[s] === 0) {
          reachable[s] = 1;
          stack.push(s);
        }
      }
    }
  }
  return {
    base,
    size,
    succStart,
    succ,
    predStart,
    pred,
    tails: tails.filter((t) => reachable[t.from] === 1),
    reachable,
  };
}
