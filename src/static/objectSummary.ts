// What one object's code contributes to a program's static model, independent of the program: its functions, the
// system-call numbers at each `syscall` site, the functions each one calls (locally or by symbol), the addresses its
// code and its data take, and, for the digraph, each function's order of events. A summary depends only on the
// object's bytes, so it is cached by GNU build-id and a library is analysed once for every program that links it.
//
// It is kept as flat typed arrays (one slot per function, site, event or region; lists end to end) rather than
// objects: that is the form the linker and the models walk, and it is also the cache file's body, so loading a
// cached summary creates views on the file's bytes instead of hundreds of thousands of small objects.

/**
 * A callee or taken address as stored: >= 0, a function of the same object (its index); < 0, a symbol looked up
 * across the program, whose name is `strings[symbolOfRef(ref)]`.
 */
export type PackedRef = number;

export const symbolRef = (stringIndex: number): PackedRef => -1 - stringIndex;
export const symbolOfRef = (ref: PackedRef): number => -1 - ref;

/** One list of numbers per row, end to end: row i is items[start[i]] .. items[start[i + 1] - 1]. */
export interface Rows {
  start: Uint32Array;
  items: Int32Array;
}

export const enum EventKind {
  Syscall = 0,
  Call = 1,
  /** A call through a register or writable memory: any address-taken function. */
  CallIndirect = 2,
  /** Control leaves to another function and does not come back here (tail call, or falling into the next one). */
  Tail = 3,
  TailIndirect = 4,
}

export const enum SiteFlag {
  /** Some path gives a number the analysis cannot know. */
  Unknown = 1,
  /** ... and that path loads it from memory. */
  FromMemory = 2,
}

/** Per function; `sites` and `events` give each function's first site and event (count + 1 entries). */
export interface FunctionTable {
  count: number;
  start: Float64Array;
  end: Float64Array;
  /** Index into `strings`, or -1 when the function has no name. */
  name: Int32Array;
  sites: Uint32Array;
  events: Uint32Array;
  /** Events (indices inside the function) that can come first. */
  entryNext: Rows;
  /** 1 when the function can return without any event. */
  entryExit: Uint8Array;
  /** Functions whose address this function's code takes (lea, GOT loads, immediates), as PackedRefs. */
  taken: Rows;
  /** Data regions of this object its code refers to. */
  data: Rows;
  /** Data symbols (indices into `strings`) whose address its code loads from the GOT; they may be in another object. */
  dataSymbols: Rows;
}

/** Per `syscall` site, numbered across the object. */
export interface SiteTable {
  address: Float64Array;
  /** The constant numbers the site can make. */
  numbers: Rows;
  /** When the number arrives in an argument register (the `syscall()` wrapper): that argument's index, else -1. */
  param: Int32Array;
  /** SiteFlag bits. */
  flags: Uint8Array;
}

/** Per event (a syscall site or a call), numbered across the object; each function's events are contiguous. */
export interface EventTable {
  kind: Uint8Array;
  /** The site (index into SiteTable) of a Syscall event, else -1. */
  site: Int32Array;
  /** Callees (Call, Tail) as PackedRefs; a memory call through a relocated slot has its target here. */
  refs: Rows;
  /** Instruction address, for reports and for resolving arguments at a call. */
  address: Float64Array;
  /** Events (indices inside the function) that can follow this one. */
  next: Rows;
  /** 1 when the function can return after this event without another one. */
  exit: Uint8Array;
}

/** The object's data regions (dataRegions.ts): the code pointers each holds and where its data pointers lead. */
export interface RegionTable {
  count: number;
  /** PackedRefs. */
  taken: Rows;
  /** Regions of the same object it points into. */
  data: Rows;
  /** Data symbols (indices into `strings`) it points to, looked up across the program. */
  symbols: Rows;
}

/**
 * Argument values at calls of `syscall()`-style wrappers, worked out while the object's code was decoded
 * (wrapperArguments.ts), so that a cached object is not decoded again to resolve them. Keyed by
 * event * ARGUMENT_SLOTS + argument index, ascending; a pair not here is worked out from the code when asked.
 */
export interface ArgumentTable {
  key: Int32Array;
  /** The constants in 0..1023 the argument may hold (what a system-call number can be). */
  constants: Rows;
  /** The caller's own arguments that reach it. */
  params: Rows;
  /** 1 when some path gives a value the analysis cannot know. */
  unknown: Uint8Array;
}

/** Argument registers a key makes room for (rdi, rsi, rdx, rcx, r8, r9). */
export const ARGUMENT_SLOTS = 6;

export interface ObjectSummary {
  /** Version of the summary layout and analysis rules; a cached summary of another version is recomputed. */
  version: number;
  buildId?: string;
  /** Every name the summary uses (functions, symbols), each once. */
  strings: readonly string[];
  functions: FunctionTable;
  sites: SiteTable;
  events: EventTable;
  regions: RegionTable;
  /** Functions the loader or the kernel calls: entry, init, fini, init/fini/preinit arrays, IFUNC resolvers. */
  roots: Int32Array;
  /** Defined, exported functions: name (index into `strings`) and function, in symbol-table order. */
  exportName: Int32Array;
  exportFunction: Int32Array;
  /** Exported data symbols (indices into `strings`), each with the regions it covers. */
  dataExportName: Int32Array;
  dataExportRegions: Rows;
  /** IFUNC resolvers: calling one of these calls what it may return (the addresses its code takes). */
  ifuncResolvers: Int32Array;
  arguments: ArgumentTable;
  instructions: number;
  syscallSites: number;
}

export const SUMMARY_VERSION = 3;

/** The function's name, if it has one. */
export function functionName(s: ObjectSummary, f: number): string | undefined {
  const n = s.functions.name[f]!;
  return n < 0 ? undefined : s.strings[n];
}
