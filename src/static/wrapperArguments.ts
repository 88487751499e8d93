// Argument values at the calls that pass a system-call number on. glibc's `syscall(number, ...)` takes it in its
// first argument; a function whose own argument reaches such a call (or a `syscall` site) is a wrapper too, and so
// on up its callers. syscallSet.ts resolves these numbers at each reachable caller with a backward value analysis
// that needs the object's decoded code. Working them out here, while the code is decoded anyway, and keeping them
// in the summary lets a cached object skip decoding, which would cost more than the rest of a warm analysis.
// Only calls this object alone shows to be wrapper calls are covered; any other pair is worked out from the code.

import { buildCfg, type FunctionCfg } from "./controlFlow.js";
import type { ObjectCode } from "./objectCode.js";
import {
  ARGUMENT_SLOTS,
  type ArgumentTable,
  EventKind,
  type ObjectSummary,
  type Rows,
  symbolOfRef,
} from "./objectSummary.js";
import { ARGUMENT_REGISTERS, type RegisterValues, registerValuesBefore } from "./registerValue.js";
import { indexOfIp } from "./x86Decoder.js";

/** Functions other objects export that take a system-call number in their first argument. */
const SYSCALL_STYLE = new Set(["syscall"]);

/** What a caller needs of an argument's value: constants that can be call numbers, its own arguments, unknown. */
export interface ArgumentValue {
  constants: Iterable<number>;
  params: Iterable<number>;
  unknown: boolean;
}

const isNumber = (n: number): boolean => n >= 0 && n < 1024;

/** The values argument k may hold at the call at `address` in function f, from the code. */
export function argumentValues(
  obj: ObjectCode,
  f: number,
  address: number,
  k: number,
  cfg?: FunctionCfg,
): RegisterValues {
  const read = (ip: number, len: number): Uint8Array | undefined => obj.elf.read(ip, len);
  const graph = cfg ?? buildCfg(obj.code, obj.map, f, read, obj.dead, obj.noReturn);
  const local = indexOfIp(obj.code, address) - graph.base;
  return registerValuesBefore(obj.code, graph, read, local, ARGUMENT_REGISTERS[k]!);
}

/** The value of argument k at event e, when the summary has it. */
export function storedArgument(s: ObjectSummary, e: number, k: number): ArgumentValue | undefined {
  const { key, constants, params, unknown } = s.arguments;
  const want = e * ARGUMENT_SLOTS + k;
  let lo = 0;
  let hi = key.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const at = key[mid]!;
    if (at < want) lo = mid + 1;
    else if (at > want) hi = mid - 1;
    else return { constants: row(constants, mid), params: row(params, mid), unknown: unknown[mid] === 1 };
  }
  return undefined;
}

const row = (r: Rows, i: number): Int32Array => r.items.subarray(r.start[i]!, r.start[i + 1]!);

/** The arguments at every call of a wrapper this object shows, to a fixpoint over its own callers. */
export function wrapperArguments(obj: ObjectCode, s: ObjectSummary): ArgumentTable {
  const { functions: fn, events, sites, strings } = s;
  const wrappers = new Map<number, Set<number>>();
  const addWrapper = (f: number, k: number): boolean => {
    let set = wrappers.get(f);
    if (set === undefined) wrappers.set(f, (set = new Set()));
    if (set.has(k)) return false;
    set.add(k);
    return true;
  };
  for (let f = 0; f < fn.count; f++)
    for (let site = fn.sites[f]!; site < fn.sites[f + 1]!; site++)
      if (sites.param[site]! >= 0) addWrapper(f, sites.param[site]!);
  // A call through the PLT of a function the object itself exports names it by symbol.
  const exported = new Map<number, number>();
  s.exportName.forEach((name, i) => exported.set(name, s.exportFunction[i]!));
  const argumentsOf = (ref: number): Iterable<number> => {
    if (ref >= 0) return wrappers.get(ref) ?? [];
    const name = symbolOfRef(ref);
    if (SYSCALL_STYLE.has(strings[name]!)) return [0];
    const local = exported.get(name);
    return local === undefined ? [] : (wrappers.get(local) ?? []);
  };
  const values = new Map<number, RegisterValues>();
  const cfgs = new Map<number, FunctionCfg>();
  const read = (ip: number, len: number): Uint8Array | undefined => obj.elf.read(ip, len);
  for (let changed = wrappers.size > 0 || strings.some((n) => SYSCALL_STYLE.has(n)); changed;) {
    changed = false;
    for (let f = 0; f < fn.count; f++) {
      for (let e = fn.events[f]!; e < fn.events[f + 1]!; e++) {
        if (events.kind[e] !== EventKind.Call && events.kind[e] !== EventKind.Tail) continue;
        for (let r = events.refs.start[e]!; r < events.refs.start[e + 1]!; r++) {
          for (const k of argumentsOf(events.refs.items[r]!)) {
            const key = e * ARGUMENT_SLOTS + k;
            if (values.has(key)) continue;
            let cfg = cfgs.get(f);
            if (cfg === undefined) cfgs.set(f, (cfg = buildCfg(obj.code, obj.map, f, read, obj.dead, obj.noReturn)));
            const v = argumentValues(obj, f, events.address[e]!, k, cfg);
            values.set(key, v);
            for (const p of v.params) if (addWrapper(f, p)) changed = true;
          }
        }
      }
    }
  }
  return packArguments(values);
}

function packArguments(values: Map<number, RegisterValues>): ArgumentTable {
  const keys = [...values.keys()].sort((a, b) => a - b);
  const rows = (pick: (v: RegisterValues) => number[]): Rows => {
    const start = new Uint32Array(keys.length + 1);
    const items: number[] = [];
    keys.forEach((key, i) => {
      items.push(...pick(values.get(key)!));
      start[i + 1] = items.length;
    });
    return { start, items: Int32Array.from(items) };
  };
  return {
    key: Int32Array.from(keys),
    constants: rows((v) => [...v.constants].filter(isNumber)),
    params: rows((v) => [...v.params]),
    unknown: Uint8Array.from(keys, (key) => (values.get(key)!.unknown ? 1 : 0)),
  };
}
