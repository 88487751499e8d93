// Functions that never return (exit, abort, __stack_chk_fail, and every local function that only ends in one). gcc
// places unrelated code right after a call to such a function, so treating the call as falling through invents
// paths (in ld.so, from a failed execve's error exit into the environment-parsing loop). A function returns when a
// `ret`, or a tail transfer to a function that may return, is reachable from its entry in a graph where calls to
// functions not yet known to return do not fall through; that set only grows, so the iteration ends. Imports are
// assumed to return unless the C standard or glibc declares them noreturn.

import { buildCfg, type DeadEdges, type NoReturn } from "./controlFlow.js";
import { functionAt, type FunctionMap } from "./functionMap.js";
import type { SlotTarget } from "./relocationSlots.js";
import { type DecodedCode, Flow } from "./x86Decoder.js";

/** Functions declared noreturn by ISO C, POSIX or glibc, reached through the PLT by name. */
export const NORETURN_IMPORTS: ReadonlySet<string> = new Set([
  "exit", "_exit", "_Exit", "quick_exit", "abort", "__assert_fail", "__assert_perror_fail", "__stack_chk_fail",
  "__fortify_fail", "__chk_fail", "err", "errx", "verr", "verrx", "longjmp", "_longjmp", "siglongjmp",
  "__longjmp_chk", "pthread_exit", "__libc_fatal", "__cxa_throw", "__cxa_rethrow", "_Unwind_Resume",
  "__cxa_bad_cast", "__cxa_bad_typeid", "__cxa_call_unexpected",
]);

type Read = (ip: number, length: number) => Uint8Array | undefined;

export function noReturnFunctions(
  code: DecodedCode,
  map: FunctionMap,
  slots: ReadonlyMap<number, SlotTarget>,
  read: Read,
  dead: DeadEdges,
): Uint8Array {
  const returns = new Uint8Array(map.count);
  const noReturn: NoReturn = {
    call: (target) => {
      const f = functionAt(map, target);
      return f >= 0 && returns[f] === 0;
    },
    slot: (slot) => {
      const t = slots.get(slot);
      return t?.symbol !== undefined && NORETURN_IMPORTS.has(t.symbol);
    },
  };
  let changed = true;
  while (changed) {
    changed = false;
    for (let f = 0; f < map.count; f++) {
      if (returns[f] === 1) continue;
      if (mayReturn(code, map, f, read, dead, noReturn, returns)) {
        returns[f] = 1;
        changed = true;
      }
    }
  }
  return returns.map((r) => 1 - r);
}

function mayReturn(
  code: DecodedCode,
  map: FunctionMap,
  f: number,
  read: Read,
  dead: DeadEdges,
  noReturn: NoReturn,
  returns: Uint8Array,
): boolean {
  // Without reading jump tables a switch reaches more of its function: more returns found, never fewer (sound).
  const cfg = buildCfg(code, map, f, read, dead, noReturn, false);
  for (let i = 0; i < cfg.size; i++) if (cfg.reachable[i] === 1 && code.flow[cfg.base + i] === Flow.Ret) return true;
  for (const t of cfg.tails) {
    if (Number.isNaN(t.to)) {
      const g = cfg.base + t.from;
      if (!noReturn.slot(code.memory[g]!)) return true;
      continue;
    }
    const callee = functionAt(map, t.to);
    if (callee < 0 || returns[callee] === 1) return true;
  }
  return false;
}
