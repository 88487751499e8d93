// What static analysis says about a program: the system calls its code can make (Wagner & Dean's "set" model) and,
// when asked, the ordered pairs of calls that can follow each other (their "digraph" model), with the evidence a
// user needs to trust it: which objects were analysed, which sites could not be resolved, whether it is complete.
// Wagner & Dean, "Intrusion Detection via Static Analysis", IEEE S&P 2001.

/** The part an object plays in a program's address space. */
export type ObjectRole = "main" | "interpreter" | "library" | "vdso" | "plugin";

/** A place in an object's code, for reports (addresses are the object's link-time virtual addresses). */
export interface CodeSite {
  /** The object's path (or "[vdso]"). */
  object: string;
  address: number;
  /** The enclosing function's symbol, when the object names it. */
  function?: string;
  /** Why this site is listed, in a few words. */
  reason: string;
}

export interface AnalysedObject {
  path: string;
  role: ObjectRole;
  /** GNU build-id as hex, when the object carries one (the cache key). */
  buildId?: string;
  functions: number;
  instructions: number;
  syscallSites: number;
  /** Whether this object's summary came from the cache. */
  cached: boolean;
}

export interface StaticModel {
  /** The analysed executable (after following a script's shebang). */
  program: string;
  /** Set when the path given was a script: the script and the interpreter that was analysed instead. */
  script?: { path: string; interpreter: string };
  objects: AnalysedObject[];
  /** x86_64 system-call numbers the program can make, sorted. */
  syscalls: number[];
  /** Their names, in the same order. */
  names: string[];
  /** Calls allowed whatever the code says (the kernel makes them, or the loader needs them), with why. */
  alwaysAllowed: { name: string; why: string }[];
  /** Digraph model: ordered pairs [a, b] of syscall numbers (b may follow a), sorted; present when asked for. */
  pairs?: [number, number][];
  /**
   * Wagner & Dean's precision measure for the digraph: the mean, over the calls of the set, of how many calls may
   * follow each one. For the set model it is the set size.
   */
  branchingFactor: number;
  /** False when a reachable site could not be resolved, or a reachable dlopen's plugins were not analysed. */
  complete: boolean;
  /** Reachable `syscall` sites whose number could not be resolved. */
  unresolved: CodeSite[];
  /** Reachable calls of dlopen-like loaders whose plugins were not given (`--plugins`). */
  dlopen: CodeSite[];
  stats: {
    functions: number;
    reachableFunctions: number;
    instructions: number;
    syscallSites: number;
    reachableSyscallSites: number;
    addressTakenFunctions: number;
    milliseconds: number;
  };
}
