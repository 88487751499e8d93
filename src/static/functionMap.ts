// Function boundaries of one object. Starts come from every source that names one (.eh_frame FDEs, symbols, the
// entry point, init/fini arrays, call targets, relocations into code); ends from the FDE or the symbol's size, cut at
// the next start. FDEs matter most: stripped libraries export few symbols, and a boundary guessed as "the nearest
// start below" merges private functions into their neighbours and invents call edges.

import { type DecodedCode, Flow, indexOfIp, lowerBound } from "./x86Decoder.js";

export interface FunctionMap {
  count: number;
  start: Float64Array;
  end: Float64Array;
  /** Index range of each function's instructions in the object's DecodedCode: [firstIndex, lastIndex). */
  firstIndex: Int32Array;
  lastIndex: Int32Array;
  name: (string | undefined)[];
}

export interface BoundaryHints {
  /** [start, end) ranges known to be whole functions (FDEs, sized symbols). */
  ranges: readonly { start: number; end: number }[];
  /** Further starts with no known end. */
  starts: readonly number[];
  names: ReadonlyMap<number, string>;
}

export function buildFunctionMap(code: DecodedCode, hints: BoundaryHints): FunctionMap {
  let map = partition(code, hints, []);
  // A jump from one function into the middle of another enters it there: that address starts a function too, or the
  // code after it would look unreachable from the function's entry.
  for (let round = 0; round < 4; round++) {
    const extra = midFunctionTargets(code, map);
    if (extra.length === 0) break;
    map = partition(code, hints, [...map.start, ...extra]);
  }
  return map;
}

function midFunctionTargets(code: DecodedCode, map: FunctionMap): number[] {
  const extra: number[] = [];
  for (let i = 0; i < code.count; i++) {
    const flow = code.flow[i]!;
    if (flow !== Flow.Jmp && flow !== Flow.Jcc) continue;
    const t = code.target[i]!;
    const ft = functionAt(map, t);
    if (ft < 0 || map.start[ft] === t) continue;
    if (functionAt(map, code.ip[i]!) !== ft && indexOfIp(code, t) >= 0) extra.push(t);
  }
  return extra;
}

function partition(code: DecodedCode, hints: BoundaryHints, more: readonly number[]): FunctionMap {
  const ownEnd = new Map<number, number>();
  for (const r of hints.ranges) {
    if (r.end > r.start && indexOfIp(code, r.start) >= 0)
      ownEnd.set(r.start, Math.max(ownEnd.get(r.start) ?? 0, r.end));
  }
  const starts = new Set<number>(ownEnd.keys());
  for (const s of hints.starts) if (indexOfIp(code, s) >= 0) starts.add(s);
  for (const s of more) starts.add(s);
  for (let i = 0; i < code.count; i++) {
    if (code.flow[i] === Flow.Call) {
      const t = code.target[i]!;
      if (indexOfIp(code, t) >= 0) starts.add(t);
    }
  }
  const sorted = Float64Array.from(starts).sort();
  const n = sorted.length;
  const map: FunctionMap = {
    count: n,
    start: sorted,
    end: new Float64Array(n),
    firstIndex: new Int32Array(n),
    lastIndex: new Int32Array(n),
    name: new Array<string | undefined>(n),
  };
  for (let f = 0; f < n; f++) {
    const s = sorted[f]!;
    const next = f + 1 < n ? sorted[f + 1]! : Number.POSITIVE_INFINITY;
    // An FDE or a symbol's size can end before code that belongs to the function (hand-written assembly such as
    // glibc's clone3 closes its CFI before the `syscall`), so a function runs to the next start; what lies between
    // is reached only if control flows there from the function's entry.
    const end = next;
    map.end[f] = end === Number.POSITIVE_INFINITY ? codeEnd(code) : end;
    map.firstIndex[f] = lowerBound(code, s);
    map.lastIndex[f] = lowerBound(code, map.end[f]!);
    map.name[f] = hints.names.get(s);
  }
  return map;
}

function codeEnd(code: DecodedCode): number {
  return code.count === 0 ? 0 : code.ip[code.count - 1]! + code.length[code.count - 1]!;
}

/** The function whose range holds `ip`, or -1. */
export function functionAt(map: FunctionMap, ip: number): number {
  let lo = 0;
  let hi = map.count - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (map.start[mid]! <= ip) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found >= 0 && ip < map.end[found]! ? found : -1;
}

/** The function starting exactly at `ip`, or -1. */
export function functionStartingAt(map: FunctionMap, ip: number): number {
  const f = functionAt(map, ip);
  return f >= 0 && map.start[f] === ip ? f : -1;
}
