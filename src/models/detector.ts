// The one interface every model of normal implements (stide, t-stide, lookahead pairs, the n-gram model, the HMM),
// as hono's routers share one interface and one test suite. A detector learns from normal traces, then scores a
// stream call by call with per-stream state; batch scoring of a whole trace goes through the same `step`.
//
// Traces are Uint16Array of vocabulary ids (src/syscalls/vocabulary.ts). A detector never sees tokens: the profile
// that wraps it (profile.ts) stores the vocabulary. Ids at or beyond the vocabulary size seen in training are calls
// the model has never seen.

import type { NumberRule } from "./numberText.js";

/** Detector options: flat scalars, so that they print as `stide:k=6` and serialise as JSON. */
export type DetectorOptions = Readonly<Record<string, number | string | boolean>>;

/**
 * One option of a model: its default and a one-line help; a number also has its explicit range, which both a model
 * spec (`stide:k=6`, parsed strictly by it) and the options given in code are checked against.
 */
export type OptionHelp =
  | { readonly default: number; readonly help: string; readonly range: NumberRule }
  | { readonly default: string | boolean; readonly help: string };

/**
 * What a detector's per-call signal means:
 * - "mismatch": 1 when the call completes a window never seen in training, 0 when seen (stide, t-stide);
 * - "count": how many of the call's lookahead pairs were never seen (lookahead pairs);
 * - "surprisal": -log2 P(call | context) in bits (n-gram, HMM).
 * NaN means "no signal at this call" (a window not yet complete); it is never anomalous and not counted.
 */
export type SignalKind = "mismatch" | "count" | "surprisal";

export interface SignalInfo {
  kind: SignalKind;
  /** A call whose signal is >= this value is an anomalous call (for locality frame counts and mismatch rates). */
  anomalousAt: number;
}

/** Per-stream scoring state. Opaque to callers; `reset` returns it to a stream's beginning. */
export interface DetectorState {
  reset(): void;
}

/** Learns one trace call by call; `end` is called once, after its last call. */
export interface TraceLearner {
  push(syscall: number): void;
  end(): void;
}

export interface Detector<S extends DetectorState = DetectorState> {
  /** Registry name, e.g. "stide". */
  readonly kind: string;
  /** The options with every default filled in. */
  readonly options: DetectorOptions;
  readonly signal: SignalInfo;
  /** Calls seen in training. */
  readonly trainedCalls: number;
  /** Traces seen in training. */
  readonly trainedTraces: number;

  /**
   * Learns from normal traces; may be called again later with more traces (a profile being retrained).
   * Models that fit in batch (HMM) refit on everything learned so far, warm-started and deterministic in the seed.
   */
  train(traces: readonly Uint16Array[]): void;
  /**
   * Optional, for models whose training is one pass over each trace (stide, t-stide, lookahead pairs, n-gram):
   * learns a trace call by call, so that a trace of any length trains in bounded memory. Learners of several
   * traces may interleave. Learning traces this way gives the model `train` on them gives (the same windows, pairs
   * and counts); models without it (HMM) need whole traces.
   */
  learner?(): TraceLearner;

  /** A fresh per-stream state. */
  newState(): S;
  /** Scores one call of a stream; returns the per-call signal (NaN = none). Allocation-free. */
  step(state: S, syscall: number): number;
  /** Scores a whole trace into out[0..trace.length); must equal stepping a fresh state through the trace. */
  scoreTrace(trace: Uint16Array, out: Float64Array): void;

  /** Whether `merge` is meaningful for this kind (sets and count tables: yes; HMM: no). */
  readonly mergeable: boolean;
  /**
   * Merges another detector of the same kind and options into this one, giving the detector that training on both
   * inputs would give. Throws HomeostatError E_MODEL when kinds or options differ or the kind is not mergeable.
   */
  merge(other: Detector): void;

  /** The model's state as bytes (without header or checksum: profile.ts adds those). */
  serialize(): Uint8Array;
  /** Bytes of memory the trained model holds (typed arrays and tables), for reports. */
  memoryBytes(): number;
  /** One line on what the model is of, when its options do not say it (the static model's program), for reports. */
  describe?(): string;
}

/** Constructs and restores detectors of one kind. */
export interface DetectorFactory<D extends Detector = Detector> {
  readonly kind: string;
  readonly description: string;
  /** Defaults of every option, with a one-line help each (and a range for numbers). */
  readonly optionHelp: Readonly<Record<string, OptionHelp>>;
  create(options?: Partial<Record<string, number | string | boolean>>): D;
  /**
   * Restores a detector from `serialize()` output and its options. Throws E_PARSE on bytes that are not a payload
   * of this kind and these options (truncated, extended, inconsistent), and E_VERSION on a payload whose leading
   * version field is not the one this build writes (every payload starts with its version, little-endian).
   */
  deserialize(options: DetectorOptions, bytes: Uint8Array): D;
}
