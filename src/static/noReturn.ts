// Functions that never return (exit, abort, __stack_chk_fail, and every local function that only ends in one). gcc
// places unrelated code right after a call to such a function, so treating the call as falling through invents
// paths (in ld.so, from a failed execve's error exit into the environment-parsing loop). A function returns when a
// `ret`, or a tail transfer to a function that may return, is reachable from its entry in a graph where calls to
// functions not yet known to return do not fall through; that set only grows, so the iteration ends; a function is
// walked again only when a function it stopped at is found to return. Imports are assumed to return unless the C
// standard or glibc declares them noreturn.

import type { DeadEdges, NoReturn } from "./controlFlow.js";
import { functionAt, type FunctionMap } from "./functionMap.js";
import type { SlotTarget } from "./relocationSlots.js";
import { type DecodedCode, Flow, indexOfIp } from "./x86Decoder.js";

/** Functions declared noreturn by ISO C, POSIX or glibc, reached through the PLT by name. */
export const NORETURN_IMPORTS: ReadonlySet<string> = new Set([
  "exit",
  "_exit",
  "_Exit",
  "quick_exit",
  "abort",
  "__assert_fail",
  "__assert_perror_fail",
  "__stack_chk_fail",
  "__fortify_fail",
  "__chk_fail",
  "err",
  "errx",
  "verr",
  "verrx",
  "longjmp",
  "_longjmp",
  "siglongjmp",
  "__longjmp_chk",
  "pthread_exit",
  "__libc_fatal",
  "__cxa_throw",
  "__cxa_rethrow",
  "_Unwind_Resume",
  "__cxa_bad_cast",
  "__cxa_bad_typeid",
  "__cxa_call_unexpected",
]);

export function noReturnFunctions(
  code: DecodedCode,
  map: FunctionMap,
  slots: ReadonlyMap<number, SlotTarget>,
  dead: DeadEdges,
): Uint8Array {
  const returns = new Uint8Array(map.count);
  // waiting[c]: the functions whose walk stopped at a call to c, not yet known to return; walked again when c is.
  const waiting: (number[] | undefined)[] = new Array(map.count);
  let current = -1;
  const blockedBy = (callee: number): void => {
    const list = (waiting[callee] ??= []);
    if (list[list.length - 1] !== current) list.push(current);
  };
  const noReturn: NoReturn = {
    call: (target) => {
      const f = functionAt(map, target);
      if (f < 0 || returns[f] === 1) return false;
      blockedBy(f);
      return true;
    },
    slot: (slot) => {
      const t = slots.get(slot);
      return t?.symbol !== undefined && NORETURN_IMPORTS.has(t.symbol);
    },
  };
  const seen = new Int32Array(code.count);
  const queue: number[] = [];
  for (let f = map.count - 1; f >= 0; f--) queue.push(f);
  for (let stamp = 1; queue.length > 0; stamp++) {
    const f = queue.pop()!;
    if (returns[f] === 1) continue;
    current = f;
    if (!mayReturn(code, map, f, dead, noReturn, returns, seen, stamp, blockedBy)) continue;
    returns[f] = 1;
    for (const w of waiting[f] ?? []) queue.push(w);
    waiting[f] = undefined;
  }
  return returns.map((r) => 1 - r);
}

/** One function's walk: its bounds, the instructions left to visit, and what to do on leaving it. */
interface Walk {
  code: DecodedCode;
  map: FunctionMap;
  start: number;
  end: number;
  stack: number[];
  returns: Uint8Array;
  blockedBy: (callee: number) => void;
}

/**
 * Whether a `ret`, or a transfer to a function that may return, is reachable from f's entry: a depth-first walk on
 * the decoded arrays (no graph is built; this runs for every function until nothing changes). An indirect jump
 * through a register counts as returning, which can only make fewer functions noreturn (sound).
 */
function mayReturn(
  code: DecodedCode,
  map: FunctionMap,
  f: number,
  dead: DeadEdges,
  noReturn: NoReturn,
  returns: Uint8Array,
  seen: Int32Array,
  stamp: number,
  blockedBy: (callee: number) => void,
): boolean {
  const last = map.lastIndex[f]!;
  const walk: Walk = {
    code,
    map,
    start: map.start[f]!,
    end: map.end[f]!,
    stack: [map.firstIndex[f]!],
    returns,
    blockedBy,
  };
  const { stack } = walk;
  while (stack.length > 0) {
    const g = stack.pop()!;
    if (g >= last || seen[g] === stamp) continue;
    seen[g] = stamp;
    if (stepReturns(walk, g, noReturn, dead.get(g))) return true;
  }
  return false;
}

/** Visits instruction g: true when it returns (or leaves to a function that may), else queues its successors. */
function stepReturns(w: Walk, g: number, noReturn: NoReturn, deadTo: number | undefined): boolean {
  const { code } = w;
  const flow = code.flow[g]!;
  const next = code.ip[g]! + code.length[g]!;
  if (flow === Flow.Ret) return true;
  if (flow === Flow.Stop) return false;
  if (flow === Flow.JmpIndirect) return Number.isNaN(code.memory[g]!) || !noReturn.slot(code.memory[g]!);
  if (flow === Flow.Jmp) return transfer(w, code.target[g]!, deadTo);
  if (flow === Flow.Jcc && transfer(w, code.target[g]!, deadTo)) return true;
  if (flow === Flow.Call && noReturn.call(code.target[g]!)) return false;
  if (flow === Flow.CallIndirect && noReturn.slot(code.memory[g]!)) return false;
  if (flow === Flow.Call || flow === Flow.CallIndirect) {
    // A call's return that lands outside the function means the callee does not return.
    return next < w.end && transfer(w, next, deadTo);
  }
  return transfer(w, next, deadTo);
}

/** Control goes to `to`: inside the function it is queued (false); outside, true when the function there may return. */
function transfer(w: Walk, to: number, deadTo: number | undefined): boolean {
  if (to === deadTo) return false;
  if (to >= w.start && to < w.end) {
    const i = indexOfIp(w.code, to);
    if (i >= 0) {
      w.stack.push(i);
      return false;
    }
  }
  const callee = functionAt(w.map, to);
  if (callee < 0 || w.returns[callee] === 1) return true;
  w.blockedBy(callee);
  return false;
}
