// A function's events in the order control can meet them: `syscall` sites, calls and tail transfers, each with the
// events that may come next inside the function and whether the function may return after it. This is all the
// digraph model (Wagner & Dean) needs of a function's control-flow graph, and it is small enough to cache.

import type { FunctionCfg } from "./functionCfg.js";
import { functionAt } from "./functionMap.js";
import { memoryCallRefs, type ObjectCode } from "./objectCode.js";
import { EventKind } from "./objectSummary.js";
import type { FunctionEvent, Ref } from "./summaryBuilder.js";
import { Flow } from "./x86Decoder.js";

export interface EventGraph {
  events: FunctionEvent[];
  entryNext: number[];
  entryExit: boolean;
}

export function eventGraph(obj: ObjectCode, cfg: FunctionCfg): EventGraph {
  const { code } = obj;
  const events: FunctionEvent[] = [];
  const eventAt = new Int32Array(cfg.size).fill(-1);
  const tailsAt = new Map<number, number[]>();
  let site = 0;
  for (let i = 0; i < cfg.size; i++) {
    if (cfg.reachable[i] === 0) continue;
    const g = cfg.base + i;
    const flow = code.flow[g]!;
    if (flow === Flow.Syscall) {
      eventAt[i] = events.push(event(EventKind.Syscall, site++, [], code.ip[g]!)) - 1;
    } else if (flow === Flow.Call || flow === Flow.CallIndirect) {
      const call = callee(obj, g, flow === Flow.Call ? code.target[g]! : Number.NaN);
      const kind = call.indirect ? EventKind.CallIndirect : EventKind.Call;
      eventAt[i] = events.push(event(kind, -1, call.refs, code.ip[g]!)) - 1;
    }
  }
  for (const t of cfg.tails) {
    const g = cfg.base + t.from;
    const call = callee(obj, g, t.to);
    const kind = call.indirect ? EventKind.TailIndirect : EventKind.Tail;
    const e = events.push({ ...event(kind, -1, call.refs, code.ip[g]!), exit: true }) - 1;
    const list = tailsAt.get(t.from);
    if (list === undefined) tailsAt.set(t.from, [e]);
    else list.push(e);
  }
  const walk = makeWalker(cfg, eventAt, tailsAt, code.flow);
  for (let i = 0; i < cfg.size; i++) {
    const e = eventAt[i]!;
    if (e < 0) continue;
    const r = walk(i, true);
    events[e]!.next = r.next;
    events[e]!.exit = r.exit;
  }
  const entry = cfg.size > 0 ? walk(0, false) : { next: [], exit: true };
  return { events, entryNext: entry.next, entryExit: entry.exit };
}

function event(kind: EventKind, site: number, refs: Ref[], address: number): FunctionEvent {
  return { kind, site, refs, address, next: [], exit: false };
}

/** Callees of the call or jump at global index g going to `to` (NaN: through a register or memory). */
function callee(obj: ObjectCode, g: number, to: number): { refs: Ref[]; indirect: boolean } {
  if (Number.isNaN(to)) return memoryCallRefs(obj, g);
  const f = functionAt(obj.map, to);
  return f >= 0 ? { refs: [f], indirect: false } : { refs: [], indirect: true };
}

/**
 * Which instructions a walk has visited, shared by every walk (of every function): a slot holds the number of the
 * walk that last visited it, and walks are numbered from one up, so no walk sees another's marks and nothing is
 * cleared or allocated per function.
 */
let visited = new Int32Array(1024);
let walks = 0;

/**
 * Depth-first search from an instruction (or from its successors, `after`) to the first events met on each path,
 * and whether a return is met.
 */
function makeWalker(
  cfg: FunctionCfg,
  eventAt: Int32Array,
  tailsAt: Map<number, number[]>,
  flow: Uint8Array,
): (from: number, after: boolean) => { next: number[]; exit: boolean } {
  if (visited.length < cfg.size) visited = new Int32Array(Math.max(cfg.size, visited.length * 2));
  // Before the numbers would outgrow the slots (a long-lived process), the marks are cleared and counting restarts.
  if (walks > 0x3fffffff) {
    visited.fill(0);
    walks = 0;
  }
  const stamp = visited;
  const stack: number[] = [];
  const tails = tailsAt.size > 0 ? tailsAt : undefined;
  return (from, after) => {
    const generation = ++walks;
    const next = new Set<number>();
    let exit = false;
    if (after) for (let k = cfg.succStart[from]!; k < cfg.succStart[from + 1]!; k++) stack.push(cfg.succ[k]!);
    else stack.push(from);
    while (stack.length > 0) {
      const i = stack.pop()!;
      if (stamp[i] === generation) continue;
      stamp[i] = generation;
      const e = eventAt[i]!;
      if (e >= 0) {
        next.add(e);
        continue;
      }
      const out = tails?.get(i);
      if (out !== undefined) for (const t of out) next.add(t);
      if (flow[cfg.base + i] === Flow.Ret) exit = true;
      for (let k = cfg.succStart[i]!; k < cfg.succStart[i + 1]!; k++) stack.push(cfg.succ[k]!);
    }
    return { next: [...next], exit };
  };
}
