// The n-gram probabilistic model of normal (Jalaly, "Anomalous System Call Detection via Static Analysis": the
// likelihood of observed call sequences as the baseline): P(call | previous n-1 calls) with interpolated
// Witten-Bell (PPM-C) smoothing, signal the surprisal -log2 P in bits. Why this smoothing, the open vocabulary and
// the frozen one-probe scoring table: docs/detectors.md, "The n-gram model". The counts are in ngramCounts.ts,
// their smoothing in ngramSmoothing.ts, the scoring table in ngramScoring.ts, the stored form in ngramCodec.ts.

import { HomeostatError } from "../errors.js";
import type {
  Detector,
  DetectorFactory,
  DetectorOptions,
  DetectorState,
  SignalInfo,
  TraceLearner,
} from "./detector.js";
import { integerRange, realRange, resolveOptions } from "./detectorOptions.js";
import { decodeNgram, encodeNgram } from "./ngramCodec.js";
import { NgramCounts } from "./ngramCounts.js";
import { NgramScoringTable } from "./ngramScoring.js";
import { countingLearner } from "./traceLearner.js";

export interface NgramOptions {
  /** n-gram length: the context is the previous n - 1 calls. */
  readonly n: number;
  /** Surprisal in bits at or above which a call is anomalous. */
  readonly threshold: number;
}

export const MAX_NGRAM_ORDER = 16;

/**
 * The largest threshold in bits: far past any surprisal a double can express (-log2 of the smallest one is 1074),
 * so it means "never anomalous" without being a number that misbehaves.
 */
const MAX_THRESHOLD_BITS = 1_000_000;

const OPTION_HELP = {
  n: {
    default: 6,
    help: `n-gram length 1..${MAX_NGRAM_ORDER}: P(call | previous n-1 calls)`,
    range: integerRange(1, MAX_NGRAM_ORDER),
  },
  threshold: {
    default: 10,
    help: "surprisal in bits (-log2 P) at or above which a call is anomalous",
    range: realRange(0, MAX_THRESHOLD_BITS, { minExclusive: true }),
  },
} as const;

/** Fills defaults and validates. Throws HomeostatError E_USAGE. */
export function resolveNgramOptions(options: Partial<Record<string, number | string | boolean>> = {}): NgramOptions {
  const o = resolveOptions("ngram", OPTION_HELP, options);
  return { n: o.n as number, threshold: o.threshold as number };
}

/**
 * Per-stream state: the trie node of the longest suffix of the history that is a training context, and the last
 * n - 1 calls, from which the node is found again when the model has been retrained or merged since (a longer
 * suffix may have become a context).
 */
export class NgramState implements DetectorState {
  node = 0;
  /** The model generation `node` belongs to. */
  generation: number;
  /** Ring buffer of the last calls; `head` is where the next call goes, `filled` how many are valid. */
  readonly history: Float64Array;
  head = 0;
  filled = 0;

  constructor(contextLength: number, generation: number) {
    this.history = new Float64Array(Math.max(1, contextLength));
    this.generation = generation;
  }

  reset(): void {
    this.node = 0;
    this.head = 0;
    this.filled = 0;
  }
}

export class NgramDetector implements Detector<NgramState> {
  readonly kind = "ngram";
  readonly options: DetectorOptions;
  readonly signal: SignalInfo;
  readonly mergeable = true;
  private readonly n: number;
  private calls = 0;
  private traces = 0;
  private counts = new NgramCounts();

  // The scoring table, rebuilt after training or merging.
  private dirty = true;
  /** Bumped by every change of the counts; states of an older generation re-find their context node. */
  private generation = 0;
  private table = NgramScoringTable.empty();

  constructor(options: NgramOptions) {
    this.n = options.n;
    this.options = { n: options.n, threshold: options.threshold };
    this.signal = { kind: "surprisal", anomalousAt: options.threshold };
  }

  get trainedCalls(): number {
    return this.calls;
  }

  get trainedTraces(): number {
    return this.traces;
  }

  /** Distinct call ids seen in training (D); the alphabet has D + 1 symbols. */
  get alphabetSeen(): number {
    return this.counts.distinct[0]!;
  }

  /** Training contexts (trie nodes, including the empty context). */
  get contexts(): number {
    return this.counts.nodeCount;
  }

  train(traces: readonly Uint16Array[]): void {
    for (const trace of traces) {
      this.counts.countTrace(trace, this.n - 1);
      this.calls += trace.length;
    }
    this.traces += traces.length;
    this.changed();
  }

  learner(): TraceLearner {
    // The last n-1 calls, a ring whose next slot is `head`: the same contexts train reads from the trace.
    const history = new Uint16Array(Math.max(1, this.n - 1));
    let head = 0;
    return countingLearner(
      (w, t) => {
        this.counts.countInContexts(w, t, history, head, this.n - 1);
        history[head] = w;
        head = head + 1 === history.length ? 0 : head + 1;
      },
      (calls) => {
        this.calls += calls;
        this.traces++;
        this.changed();
      },
    );
  }

  newState(): NgramState {
    return new NgramState(this.n - 1, this.generation);
  }

  step(state: NgramState, syscall: number): number {
    if (this.dirty) this.freeze();
    if (state.generation !== this.generation) this.resync(state);
    const table = this.table;
    const bits = table.advance(state.node, syscall);
    state.node = table.nextNode;
    const h = state.history;
    h[state.head] = syscall;
    state.head = state.head + 1 === h.length ? 0 : state.head + 1;
    if (state.filled < h.length) state.filled++;
    return bits;
  }

  /** Finds a state's context node again from its recorded calls (after retraining or merging). */
  private resync(state: NgramState): void {
    const h = state.history;
    let node = 0;
    let at = state.head;
    const limit = Math.min(state.filled, this.n - 1);
    for (let i = 0; i < limit; i++) {
      at = at === 0 ? h.length - 1 : at - 1;
      const c = this.counts.findChild(node, h[at]!);
      if (c < 0) break;
      node = c;
    }
    state.node = node;
    state.generation = this.generation;
  }

  private changed(): void {
    this.dirty = true;
    this.generation++;
  }

  private freeze(): void {
    this.table = NgramScoringTable.build(this.counts, this.n);
    this.dirty = false;
  }

  scoreTrace(trace: Uint16Array, out: Float64Array): void {
    if (out.length < trace.length) {
      throw new HomeostatError("E_MODEL", `ngram: output holds ${out.length} values for a trace of ${trace.length}`);
    }
    if (this.dirty) this.freeze();
    this.table.scoreTrace(trace, out);
  }

  /**
   * P(call | context) under the model, where `context` lists the preceding calls oldest first (only the last n - 1
   * matter). Equals 2^-signal of a stream whose history ends with `context`.
   */
  probability(context: ArrayLike<number>, call: number): number {
    if (this.dirty) this.freeze();
    let node = 0;
    const stop = Math.max(0, context.length - (this.n - 1));
    for (let i = context.length - 1; i >= stop; i--) {
      const c = this.counts.findChild(node, context[i]!);
      if (c < 0) break;
      node = c;
    }
    return 2 ** -this.table.advance(node, call);
  }

  merge(other: Detector): void {
    if (!(other instanceof NgramDetector) || other.kind !== this.kind) {
      throw new HomeostatError("E_MODEL", `ngram: cannot merge a "${other.kind}" detector into an ngram detector`);
    }
    if (other.n !== this.n || other.options.threshold !== this.options.threshold) {
      throw new HomeostatError(
        "E_MODEL",
        `ngram: cannot merge detectors with different options (n=${this.n}, threshold=${String(this.options.threshold)} ` +
          `vs n=${other.n}, threshold=${String(other.options.threshold)})`,
      );
    }
    if (other === this) this.counts.double();
    else this.counts.addAll(other.counts);
    this.calls += other.calls;
    this.traces += other.traces;
    this.changed();
  }

  serialize(): Uint8Array {
    return encodeNgram({ n: this.n, calls: this.calls, traces: this.traces, counts: this.counts });
  }

  /** Restores the counts written by `serialize`. Throws E_PARSE on malformed bytes, E_VERSION on another version. */
  static fromBytes(options: NgramOptions, bytes: Uint8Array): NgramDetector {
    const stored = decodeNgram(options.n, bytes);
    const d = new NgramDetector(options);
    d.counts = stored.counts;
    d.calls = stored.calls;
    d.traces = stored.traces;
    return d;
  }

  memoryBytes(): number {
    return this.counts.memoryBytes() + this.table.memoryBytes();
  }
}

export const ngramFactory: DetectorFactory<NgramDetector> = {
  kind: "ngram",
  description:
    "n-gram model of call sequences with interpolated Witten-Bell (PPM-C) smoothing; signal: surprisal -log2 P(call | previous n-1 calls) in bits",
  optionHelp: OPTION_HELP,
  create(options) {
    return new NgramDetector(resolveNgramOptions(options));
  },
  deserialize(options, bytes) {
    return NgramDetector.fromBytes(resolveNgramOptions(options), bytes);
  },
};
