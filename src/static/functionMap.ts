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
  let map = partition(code, knownStarts(code, hints), hints.names);
  // A jump from one function into the middle of another enters it there: that address starts a function too, or the
  // code after it would look unreachable from the function's entry.
  for (let round = 0; round < 4; round++) {
    const extra = midFunctionTargets(code, map);
    if (extra.length === 0) break;
    map = partition(code, withStarts(map.start, extra), hints.names);
  }
  return map;
}

/** Every start the hints and direct calls give that is an instruction's address: sorted, each once. */
function knownStarts(code: DecodedCode, hints: BoundaryHints): Float64Array {
  const starts = new Set<number>();
  for (const r of hints.ranges) if (r.end > r.start && indexOfIp(code, r.start) >= 0) starts.add(r.start);
  for (const s of hints.starts) if (indexOfIp(code, s) >= 0) starts.add(s);
  for (let i = 0; i < code.count; i++) {
    if (code.flow[i] === Flow.Call) {
      const t = code.target[i]!;
      if (indexOfIp(code, t) >= 0) starts.add(t);
    }
  }
  return Float64Array.from(starts).sort();
}

/** Sorted starts with more added: sorted, each once. */
function withStarts(sorted: Float64Array, more: readonly number[]): Float64Array {
  const all = new Float64Array(sorted.length + more.length);
  all.set(sorted);
  all.set(more, sorted.length);
  all.sort();
  let n = 0;
  for (let i = 0; i < all.length; i++) if (n === 0 || all[i] !== all[n - 1]) all[n++] = all[i]!;
  return all.slice(0, n);
}

/** Targets of jumps from one function into the middle of another (or from code before every function). */
function midFunctionTargets(code: DecodedCode, map: FunctionMap): number[] {
  const extra: number[] = [];
  // Instructions are visited function by function, so a jump inside its own function (most) needs no search.
  const visit = (from: number, to: number, start: number, end: number): void => {
    for (let i = from; i < to; i++) {
      const flow = code.flow[i]!;
      if (flow !== Flow.Jmp && flow !== Flow.Jcc) continue;
      const t = code.target[i]!;
      if (t >= start && t < end) continue;
      const ft = functionAt(map, t);
      if (ft < 0 || map.start[ft] === t) continue;
      if (indexOfIp(code, t) >= 0) extra.push(t);
    }
  };
  visit(0, map.count > 0 ? map.firstIndex[0]! : code.count, Number.NaN, Number.NaN);
  for (let f = 0; f < map.count; f++) visit(map.firstIndex[f]!, map.lastIndex[f]!, map.start[f]!, map.end[f]!);
  return extra;
}

/** Functions at the sorted starts, each running to the next start (the last to the end of the code). */
function partition(code: DecodedCode, sorted: Float64Array, names: ReadonlyMap<number, string>): FunctionMap {
  const n = sorted.length;
  const map: FunctionMap = {
    count: n,
    start: sorted,
    end: new Float64Array(n),
    firstIndex: new Int32Array(n),
    lastIndex: new Int32Array(n),
    name: new Array<string | undefined>(n),
  };
  // An FDE or a symbol's size can end before code that belongs to the function (hand-written assembly such as
  // glibc's clone3 closes its CFI before the `syscall`), so a function runs to the next start; what lies between
  // is reached only if control flows there from the function's entry.
  for (let f = 0; f < n; f++) {
    map.end[f] = f + 1 < n ? sorted[f + 1]! : codeEnd(code);
    map.firstIndex[f] = f === 0 ? lowerBound(code, sorted[f]!) : map.lastIndex[f - 1]!;
    map.lastIndex[f] = f + 1 < n ? lowerBound(code, sorted[f + 1]!) : code.count;
    map.name[f] = names.get(sorted[f]!);
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
