// What one object's code contributes to a program's static model, independent of the program: its functions, the
// system-call numbers at each `syscall` site, the functions each one calls (locally or by symbol), the addresses its
// code and its data take, and, for the digraph, each function's order of events. A summary depends only on the
// object's bytes, so it is cached by GNU build-id and a library is analysed once for every program that links it.

/** A callee: a function of the same object (its index) or a symbol looked up across the program (its name). */
export type Ref = number | string;

export interface SyscallSite {
  address: number;
  /** The constant numbers the site can make. */
  numbers: number[];
  /** When the number arrives in an argument register (the `syscall()` wrapper): that argument's index. */
  param: number;
  /** Some path gives a number the analysis cannot know. */
  unknown: boolean;
  /** ... and that path loads it from memory. */
  fromMemory: boolean;
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

/** One event of a function's event graph: a syscall site or a call, with the events that can come next. */
export interface FunctionEvent {
  kind: EventKind;
  /** Index into the function's sites (Syscall). */
  site: number;
  /** Callees (Call, Tail); a memory call through a relocated slot has its target here. */
  refs: Ref[];
  /** Instruction address, for reports and for resolving arguments at a call. */
  address: number;
  /** Indices of the events that can follow this one inside the function. */
  next: number[];
  /** The function can return after this event without another one. */
  exit: boolean;
}

export interface FunctionSummary {
  start: number;
  end: number;
  name?: string;
  sites: SyscallSite[];
  events: FunctionEvent[];
  entryNext: number[];
  /** The function can return without any event. */
  entryExit: boolean;
  /** Functions whose address this function's code takes (lea, GOT loads, immediates). */
  taken: Ref[];
  /** Data regions of this object its code refers to. */
  data: number[];
  /** Data symbols whose address its code loads from the GOT (they may live in another object). */
  dataSymbols: string[];
}

/** A region of an object's data (dataRegions.ts): the code pointers it holds and where its data pointers lead. */
export interface DataRegion {
  taken: Ref[];
  /** Regions of the same object it points into. */
  data: number[];
  /** Data symbols it points to (looked up across the program). */
  symbols: string[];
}

export interface ObjectSummary {
  /** Version of the summary layout and analysis rules; a cached summary of another version is recomputed. */
  version: number;
  buildId?: string;
  functions: FunctionSummary[];
  /** Functions the loader or the kernel calls: entry, init, fini, init/fini/preinit arrays, IFUNC resolvers. */
  roots: number[];
  /** The object's data regions; their code pointers count once reachable code can get at them. */
  regions: DataRegion[];
  /** Exported data symbols -> the regions they cover. */
  dataExports: Record<string, number[]>;
  /** Defined, exported functions by symbol name. */
  exports: Record<string, number>;
  /** IFUNC resolvers: calling one of these calls what it may return (the addresses its code takes). */
  ifuncResolvers: number[];
  instructions: number;
  syscallSites: number;
}

export const SUMMARY_VERSION = 2;
