// One executable's calls checked against the model static analysis derived from its binary (Wagner & Dean, IEEE S&P
// 2001): the set of calls its code can make and, when the digraph was built, the ordered pairs (a, b) where b can
// come right after a. Bitsets over x86_64 numbers and a pair matrix over the set's members: no allocation per call.
// Until the analysis is attached, the distinct calls and pairs made are remembered with the first task that made
// each, and checked when it is. The engine (hostMonitor.ts) decides what an outside call or pair leads to.

/** x86_64 syscall numbers fit below this; higher numbers (none today) are treated as never seen. */
export const HOST_SYMBOLS = 512;

const BITSET_BYTES = HOST_SYMBOLS / 8;

/**
 * What static analysis says an executable can call, as the engine uses it: the I/O (reading the binary and its
 * libraries) is the caller's.
 */
export interface StaticSyscallSet {
  /** x86_64 system-call numbers the binary's code (with its libraries) can make. */
  syscalls: readonly number[];
  /** The digraph, flattened: a0, b0, a1, b1, ... (b may follow a); absent when only the set was built. */
  pairs?: readonly number[];
  /** False when the analysis may have missed calls (unresolved syscall sites, plugins not analysed). */
  complete: boolean;
  /** Why the model is incomplete, in a few words (for the alert), e.g. "1 syscall site not resolved". */
  incomplete?: string;
}

/** The verdict on one call: inside the model, a call outside the set, or a pair outside the digraph. */
export const enum Verdict {
  Allowed = 0,
  Call = 1,
  Pair = 2,
}

/** A call or pair the model does not allow, with who made it (first, for those made before the model was attached). */
export interface Violation {
  verdict: Verdict.Call | Verdict.Pair;
  /** The call before (a pair), or -1. */
  prev: number;
  nr: number;
  pid: number;
  tid: number;
}

export class StaticCheck {
  model: StaticSyscallSet | null = null;
  private set: Uint8Array | null = null;
  /** Digraph: each set member's row index (-1: none), and a row of `words` words per member. */
  private index: Int16Array | null = null;
  private follows: Uint32Array | null = null;
  private words = 0;
  /** Before the model: calls seen (bitset) with their first pid and tid, and pairs seen (key a * 512 + b). */
  private seen: Uint8Array | null = new Uint8Array(BITSET_BYTES);
  private callers: Int32Array | null = new Int32Array(2 * HOST_SYMBOLS);
  private seenPairs: Map<number, number> | null = new Map();
  /** One alert per call, and per pair. */
  private readonly alertedCalls: Uint8Array;
  private readonly alertedPairs: Set<number>;

  constructor(before?: StaticCheck) {
    this.alertedCalls = before?.alertedCalls ?? new Uint8Array(BITSET_BYTES);
    this.alertedPairs = before?.alertedPairs ?? new Set();
  }

  /** Whether the model is here (else calls are only remembered). */
  get attached(): boolean {
    return this.set !== null;
  }

  /** Whether the model has the digraph (pairs are checked). */
  get hasPairs(): boolean {
    return this.follows !== null;
  }

  /**
   * Checks call `nr` made after `prev` (-1: no known predecessor, as after an exec, a loss or an outside call).
   * Before the model is attached the call is remembered and allowed.
   */
  check(prev: number, nr: number, pid: number, tid: number): Verdict {
    const set = this.set;
    if (set === null) {
      this.remember(prev, nr, pid, tid);
      return Verdict.Allowed;
    }
    if ((set[nr >> 3]! & (1 << (nr & 7))) === 0) return Verdict.Call;
    if (prev < 0 || this.follows === null) return Verdict.Allowed;
    return this.follows_(prev, nr) ? Verdict.Allowed : Verdict.Pair;
  }

  /** True the first time a violation of this call (prev -1) or pair is reported: one alert each. */
  firstAlert(verdict: Verdict, prev: number, nr: number): boolean {
    if (verdict === Verdict.Pair) {
      const key = prev * HOST_SYMBOLS + nr;
      if (this.alertedPairs.has(key)) return false;
      this.alertedPairs.add(key);
      return true;
    }
    const bit = 1 << (nr & 7);
    if ((this.alertedCalls[nr >> 3]! & bit) !== 0) return false;
    this.alertedCalls[nr >> 3]! |= bit;
    return true;
  }

  /**
   * Attaches the model; returns what was made before it that the model does not allow (a pair only when both its
   * calls are in the set: a call outside is reported once, as a call).
   */
  attach(model: StaticSyscallSet): Violation[] {
    this.model = {
      ...model,
      syscalls: [...model.syscalls],
      ...(model.pairs === undefined ? {} : { pairs: [...model.pairs] }),
    };
    const set = new Uint8Array(BITSET_BYTES);
    for (const n of model.syscalls) if (Number.isInteger(n) && n >= 0 && n < HOST_SYMBOLS) set[n >> 3]! |= 1 << (n & 7);
    this.set = set;
    if (model.pairs !== undefined) this.buildPairs(model.syscalls, model.pairs);
    const late = this.lateViolations();
    this.seen = null;
    this.callers = null;
    this.seenPairs = null;
    return late;
  }

  private buildPairs(syscalls: readonly number[], pairs: readonly number[]): void {
    const index = new Int16Array(HOST_SYMBOLS).fill(-1);
    let n = 0;
    for (const s of syscalls) if (Number.isInteger(s) && s >= 0 && s < HOST_SYMBOLS && index[s] === -1) index[s] = n++;
    const words = (n + 31) >>> 5;
    const follows = new Uint32Array(n * words);
    for (let i = 0; i + 1 < pairs.length; i += 2) {
      const a = pairs[i]!;
      const b = pairs[i + 1]!;
      if (!(a >= 0 && a < HOST_SYMBOLS && b >= 0 && b < HOST_SYMBOLS)) continue;
      const ra = index[a]!;
      const cb = index[b]!;
      if (ra >= 0 && cb >= 0) follows[ra * words + (cb >>> 5)]! |= 1 << (cb & 31);
    }
    this.index = index;
    this.follows = follows;
    this.words = words;
  }

  private follows_(prev: number, nr: number): boolean {
    const ra = this.index![prev]!;
    const cb = this.index![nr]!;
    if (ra < 0 || cb < 0) return false;
    return ((this.follows![ra * this.words + (cb >>> 5)]! >>> (cb & 31)) & 1) === 1;
  }

  private remember(prev: number, nr: number, pid: number, tid: number): void {
    const seen = this.seen!;
    const bit = 1 << (nr & 7);
    if ((seen[nr >> 3]! & bit) === 0) {
      seen[nr >> 3]! |= bit;
      this.callers![2 * nr] = pid;
      this.callers![2 * nr + 1] = tid;
    }
    if (prev < 0) return;
    const key = prev * HOST_SYMBOLS + nr;
    // The first maker of a pair is kept as its call's (a pid and tid fit in one number each; one entry per pair).
    if (!this.seenPairs!.has(key)) this.seenPairs!.set(key, pid * 4_194_304 + tid);
  }

  private lateViolations(): Violation[] {
    const out: Violation[] = [];
    const seen = this.seen;
    const callers = this.callers;
    if (seen === null || callers === null) return out;
    for (let nr = 0; nr < HOST_SYMBOLS; nr++) {
      if ((seen[nr >> 3]! & (1 << (nr & 7))) === 0) continue;
      if (this.check(-1, nr, 0, 0) === Verdict.Call)
        out.push({ verdict: Verdict.Call, prev: -1, nr, pid: callers[2 * nr]!, tid: callers[2 * nr + 1]! });
    }
    if (this.follows === null) return out;
    for (const [key, who] of this.seenPairs ?? []) {
      const prev = Math.floor(key / HOST_SYMBOLS);
      const nr = key % HOST_SYMBOLS;
      if (this.check(-1, prev, 0, 0) !== Verdict.Allowed || this.check(prev, nr, 0, 0) !== Verdict.Pair) continue;
      out.push({ verdict: Verdict.Pair, prev, nr, pid: Math.floor(who / 4_194_304), tid: who % 4_194_304 });
    }
    return out;
  }
}
