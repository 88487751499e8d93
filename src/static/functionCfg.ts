// The shapes a function's control-flow graph is handed around in (controlFlow.ts builds it; the value analysis, the
// event graph and the noreturn walk read it), apart from the builder so that its readers need not import it.

export interface FunctionCfg {
  /** Global index of local instruction 0. */
  base: number;
  size: number;
  /** Successors in CSR form: succ[succStart[i] .. succStart[i+1]). */
  succStart: Int32Array;
  succ: Int32Array;
  predStart: Int32Array;
  pred: Int32Array;
  /** Local indices that leave the function, with the address they go to (NaN: through a register or memory). */
  tails: { from: number; to: number }[];
  /** Whether local instruction i is reachable from the function's entry. */
  reachable: Uint8Array;
}

/** Edges known dead (an ld.so mode that cannot happen): from global index -> the successor address that is dead. */
export type DeadEdges = ReadonlyMap<number, number>;

/** Which calls do not return: by direct target, or by the memory slot of a call through the GOT. */
export interface NoReturn {
  call(target: number): boolean;
  slot(slot: number): boolean;
}
