// Lookahead pairs (Forrest, Hofmeyr, Somayaji & Longstaff 1996; Somayaji's pH, 2002): normal is the set of pairs
// (call at lag l before, call) for lags 1..L-1 seen in training. A call's signal is how many of its pairs were never
// seen, 0..L-1. pH keeps, for each (previous, current) pair, one byte whose bit l-1 says "seen at lag l" with a
// window of 9 (lags 1..8); this table does the same, laid out [current][previous] so that one call's L-1 lookups
// fall in one row. Masks are one byte for L <= 9 and four bytes up to L = 33.
//
// A stream's first call has no predecessor and no signal (NaN). Calls with fewer than L-1 predecessors check only
// the lags they have, as pH does. An id never seen in training has no pairs at all, so every lag it has counts.
// `locality` (pH's locality frame, 128 calls) is not used here: it is stored for the scoring layer.

import { HomeostatError } from "../errors.js";
import type {
  Detector,
  DetectorFactory,
  DetectorOptions,
  DetectorState,
  SignalInfo,
  TraceLearner,
} from "./detector.js";
import { checkMergeable, integerRange, numberOption, resolveOptions } from "./detectorOptions.js";
import { PayloadReader, PayloadWriter, readTrainingPrelude } from "./payload.js";
import { countingLearner } from "./traceLearner.js";

const PAYLOAD_VERSION = 1;
const MIN_L = 2;
const MAX_L = 33;
/** Largest id + 1 the dense table covers: 4096^2 masks is 16 MiB at one byte each. */
export const MAX_LOOKAHEAD_IDS = 4096;

export const LOOKAHEAD_OPTIONS = {
  L: {
    default: 9,
    help: `window length: pairs at lags 1..L-1 (${MIN_L}..${MAX_L}); pH uses 9`,
    range: integerRange(MIN_L, MAX_L),
  },
  locality: {
    default: 128,
    help: "locality frame in calls, for the scoring layer (pH uses 128)",
    range: integerRange(1, 1 << 30),
  },
} as const;

type MaskArray = Uint8Array | Uint32Array;

/** Per-stream state: the last L-1 calls twice over, so that lag l is buf[pos + W + 1 - l] without wrapping. */
export class LookaheadState implements DetectorState {
  readonly buf: Uint16Array;
  pos: number;
  seen = 0;

  constructor(readonly lags: number) {
    this.buf = new Uint16Array(2 * lags);
    this.pos = lags - 1;
  }

  reset(): void {
    this.pos = this.lags - 1;
    this.seen = 0;
  }
}

export class LookaheadPairs implements Detector<LookaheadState> {
  readonly kind = "lookahead";
  readonly options: DetectorOptions;
  readonly signal: SignalInfo = { kind: "count", anomalousAt: 1 };
  readonly mergeable = true;
  /** Window length: lags 1..L-1 are checked. */
  readonly L: number;
  /** pH's locality frame length (metadata for the scoring layer). */
  readonly locality: number;
  private readonly lags: number;
  /**
   * Ids covered. Row `cur` holds dim + 1 masks: masks[cur * (dim + 1) + prev], and a last, always-zero column that
   * any prev >= dim is clamped to, so that the per-lag test has no branch.
   */
  private dim = 0;
  private masks: MaskArray;
  private calls = 0;
  private traces = 0;

  constructor(options: DetectorOptions) {
    this.options = Object.freeze({ ...options });
    this.L = numberOption("lookahead", options, "L", LOOKAHEAD_OPTIONS.L.range);
    this.locality = numberOption("lookahead", options, "locality", LOOKAHEAD_OPTIONS.locality.range);
    this.lags = this.L - 1;
    this.masks = this.newMasks(0);
  }

  get trainedCalls(): number {
    return this.calls;
  }

  get trainedTraces(): number {
    return this.traces;
  }

  /** Distinct (lag, previous, current) pairs learned. */
  get distinctPairs(): number {
    let n = 0;
    for (let i = 0; i < this.masks.length; i++) {
      let m = this.masks[i]!;
      while (m !== 0) {
        m &= m - 1;
        n++;
      }
    }
    return n;
  }

  /** Whether the pair (prev at `lag` calls before cur) was seen in training. */
  hasPair(lag: number, prev: number, cur: number): boolean {
    if (lag < 1 || lag > this.lags || prev >= this.dim || cur >= this.dim) return false;
    return (this.masks[cur * (this.dim + 1) + prev]! & (1 << (lag - 1))) !== 0;
  }

  train(traces: readonly Uint16Array[]): void {
    let maxId = this.dim - 1;
    for (const t of traces) {
      if (t.length < 2) continue;
      for (let i = 0; i < t.length; i++) if (t[i]! > maxId) maxId = t[i]!;
    }
    this.resize(maxId + 1);
    const masks = this.masks;
    const stride = this.dim + 1;
    const W = this.lags;
    for (const t of traces) {
      for (let i = 1; i < t.length; i++) {
        const base = t[i]! * stride;
        const m = Math.min(i, W);
        for (let l = 1; l <= m; l++) {
          const at = base + t[i - l]!;
          masks[at] = masks[at]! | (1 << (l - 1));
        }
      }
      this.calls += t.length;
    }
    this.traces += traces.length;
  }

  learner(): TraceLearner {
    const state = new LookaheadState(this.lags);
    let maxId = -1;
    return countingLearner(
      (syscall) => {
        if (syscall > maxId) maxId = syscall;
        // As train: the ids of a trace count once it has a pair (two calls).
        if (state.seen >= 1 && maxId >= this.dim) this.resize(maxId + 1);
        this.learnCall(state, syscall);
      },
      (calls) => {
        this.calls += calls;
        this.traces++;
      },
    );
  }

  /** Sets the pairs of one call with the calls before it in `state`, then shifts it in. */
  private learnCall(state: LookaheadState, syscall: number): void {
    const W = this.lags;
    const n = state.seen;
    const buf = state.buf;
    const pos = state.pos;
    if (n > 0) {
      const masks = this.masks;
      const base = syscall * (this.dim + 1);
      const m = Math.min(n, W);
      for (let l = 1; l <= m; l++) {
        const at = base + buf[pos + W + 1 - l]!;
        masks[at] = masks[at]! | (1 << (l - 1));
      }
    }
    const p = pos + 1 === W ? 0 : pos + 1;
    buf[p] = syscall;
    buf[p + W] = syscall;
    state.pos = p;
    state.seen = n + 1;
  }

  newState(): LookaheadState {
    return new LookaheadState(this.lags);
  }

  step(state: LookaheadState, syscall: number): number {
    const W = this.lags;
    const n = state.seen;
    const buf = state.buf;
    const pos = state.pos;
    let count = Number.NaN;
    if (n > 0) {
      const m = Math.min(n, W);
      const dim = this.dim;
      if (syscall >= dim) count = m;
      else {
        const masks = this.masks;
        const base = syscall * (dim + 1);
        let seen = 0;
        for (let l = 1; l <= m; l++) {
          const prev = buf[pos + W + 1 - l]!;
          seen += (masks[base + Math.min(prev, dim)]! >>> (l - 1)) & 1;
        }
        count = m - seen;
      }
    }
    const p = pos + 1 === W ? 0 : pos + 1;
    buf[p] = syscall;
    buf[p + W] = syscall;
    state.pos = p;
    state.seen = n + 1;
    return count;
  }

  scoreTrace(trace: Uint16Array, out: Float64Array): void {
    const n = trace.length;
    if (out.length < n) {
      throw new HomeostatError("E_MODEL", `score buffer holds ${out.length} values for a trace of ${n}`);
    }
    if (n === 0) return;
    out[0] = Number.NaN;
    const W = this.lags;
    const dim = this.dim;
    const stride = dim + 1;
    const masks = this.masks;
    // The stream's first W calls have fewer lags; after them every call has all W.
    const head = Math.min(n, W);
    for (let i = 1; i < head; i++) {
      const cur = trace[i]!;
      if (cur >= dim) {
        out[i] = i;
        continue;
      }
      const base = cur * stride;
      let seen = 0;
      for (let l = 1; l <= i; l++) {
        const prev = trace[i - l]!;
        seen += (masks[base + Math.min(prev, dim)]! >>> (l - 1)) & 1;
      }
      out[i] = i - seen;
    }
    for (let i = head; i < n; i++) {
      const cur = trace[i]!;
      if (cur >= dim) {
        out[i] = W;
        continue;
      }
      const base = cur * stride;
      let seen = 0;
      for (let l = 1, j = i - 1; l <= W; l++, j--) {
        const prev = trace[j]!;
        seen += (masks[base + Math.min(prev, dim)]! >>> (l - 1)) & 1;
      }
      out[i] = W - seen;
    }
  }

  merge(other: Detector): void {
    checkMergeable(this, other);
    if (!(other instanceof LookaheadPairs))
      throw new HomeostatError("E_MODEL", "cannot merge a foreign lookahead model");
    this.resize(Math.max(this.dim, other.dim));
    const od = other.dim;
    const stride = this.dim + 1;
    for (let cur = 0; cur < od; cur++) {
      for (let prev = 0; prev < od; prev++) {
        const at = cur * stride + prev;
        this.masks[at] = this.masks[at]! | other.masks[cur * (od + 1) + prev]!;
      }
    }
    this.calls += other.calls;
    this.traces += other.traces;
  }

  serialize(): Uint8Array {
    const w = new PayloadWriter().u8(PAYLOAD_VERSION).f64(this.calls).f64(this.traces).u8(this.L).u32(this.dim);
    // dim x dim masks, row by row, without the zero column.
    const dim = this.dim;
    for (let cur = 0; cur < dim; cur++) {
      const row = this.masks.subarray(cur * (dim + 1), cur * (dim + 1) + dim);
      if (row instanceof Uint8Array) w.raw(row);
      else w.u32s(row);
    }
    return w.finish();
  }

  /** Restores what `serialize` wrote into this fresh detector. */
  load(bytes: Uint8Array): this {
    const r = new PayloadReader(bytes, this.kind);
    const prelude = readTrainingPrelude(r, PAYLOAD_VERSION);
    this.calls = prelude.calls;
    this.traces = prelude.traces;
    const L = r.u8();
    if (L !== this.L) throw r.fail(`window ${L} differs from the options' L=${this.L}`);
    const dim = r.u32();
    if (dim > MAX_LOOKAHEAD_IDS) throw r.fail(`table of ${dim} ids is over the limit of ${MAX_LOOKAHEAD_IDS}`);
    const flat = this.lags <= 8 ? r.raw(dim * dim) : r.u32s(dim * dim);
    r.end();
    const allowed = this.lags >= 32 ? 0xffffffff : (1 << this.lags) - 1;
    for (let i = 0; i < flat.length; i++) {
      if ((flat[i]! & ~allowed) !== 0) throw r.fail(`pair mask ${i} has bits beyond lag ${this.lags}`);
    }
    const masks = this.newMasks(dim);
    for (let cur = 0; cur < dim; cur++) masks.set(flat.subarray(cur * dim, cur * dim + dim), cur * (dim + 1));
    this.dim = dim;
    this.masks = masks;
    return this;
  }

  memoryBytes(): number {
    return this.masks.byteLength + 4 * this.lags;
  }

  private newMasks(dim: number): MaskArray {
    return this.lags <= 8 ? new Uint8Array(dim * (dim + 1)) : new Uint32Array(dim * (dim + 1));
  }

  private resize(dim: number): void {
    if (dim <= this.dim) return;
    if (dim > MAX_LOOKAHEAD_IDS) {
      throw new HomeostatError(
        "E_LIMIT",
        `lookahead pairs cover syscall ids below ${MAX_LOOKAHEAD_IDS}; this training data uses id ${dim - 1}`,
      );
    }
    const next = this.newMasks(dim);
    const od = this.dim;
    for (let cur = 0; cur < od; cur++) {
      next.set(this.masks.subarray(cur * (od + 1), cur * (od + 1) + od), cur * (dim + 1));
    }
    this.dim = dim;
    this.masks = next;
  }
}

export const lookaheadPairsFactory: DetectorFactory<LookaheadPairs> = {
  kind: "lookahead",
  description:
    "lookahead pairs (Forrest et al. 1996, pH): counts a call's (call at lag l, call) pairs unseen in training",
  optionHelp: LOOKAHEAD_OPTIONS,
  create(options) {
    return new LookaheadPairs(resolveOptions("lookahead", LOOKAHEAD_OPTIONS, options));
  },
  deserialize(options, bytes) {
    return new LookaheadPairs(resolveOptions("lookahead", LOOKAHEAD_OPTIONS, options)).load(bytes);
  },
};
