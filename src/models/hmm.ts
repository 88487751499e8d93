// The hidden Markov model of normal of Warrender, Forrest & Pearlmutter ("Detecting intrusions using system calls:
// alternative data models", IEEE S&P 1999), fitted by Baum-Welch with Rabiner's scaling (baumWelch.ts); signal the
// surprisal -log2 P(call | previous calls) of the forward filter (hmmFilter.ts). Why the filtered signal, the
// smoothed emissions, the defaults and warm-started retraining (hmmWarmStart.ts): docs/detectors.md, "The hidden
// Markov model". Options are in hmmOptions.ts, the alphabet in hmmAlphabet.ts, the stored form in hmmCodec.ts.

import { HomeostatError } from "../errors.js";
import { BaumWelch } from "./baumWelch.js";
import type { Detector, DetectorFactory, DetectorOptions, SignalInfo } from "./detector.js";
import { retainedAlphabet, symbolSequences, symbolTable } from "./hmmAlphabet.js";
import { decodeHmm, encodeHmm } from "./hmmCodec.js";
import { HmmFilter, HmmState } from "./hmmFilter.js";
import { hmmOptionHelp, resolveHmmOptions, type HmmOptions } from "./hmmOptions.js";
import { HmmParameters } from "./hmmParameters.js";
import { HmmTrainingSet } from "./hmmTrainingSet.js";
import { warmStart } from "./hmmWarmStart.js";
import { SeededRandom } from "./random.js";
import { TraceMultiset } from "./traceMultiset.js";

export { HmmState } from "./hmmFilter.js";
export { resolveHmmOptions, type HmmOptions } from "./hmmOptions.js";

/** One Baum-Welch run: its final parameters and the training log-likelihood after each iteration. */
interface FitResult {
  params: HmmParameters;
  ll: number;
  history: number[];
}

export class HmmDetector implements Detector<HmmState> {
  readonly kind = "hmm";
  readonly options: DetectorOptions;
  readonly signal: SignalInfo;
  readonly mergeable = false;
  private readonly opts: HmmOptions;
  private calls = 0;
  private traces = 0;

  // Retained training traces, deduplicated.
  private retained = new TraceMultiset();

  // Alphabet: seen ids ascending; symbolOf[id] = symbol index, -1 = unseen.
  private seen: Uint16Array = new Uint16Array(0);
  private symbolOf: Int32Array = new Int32Array(0);
  private unseenSymbol = 0;
  private params: HmmParameters | null = null;
  private ll = Number.NaN;
  private fitHistory: number[] = [];

  /** The scoring tables of `params`; null before the first fit. */
  private filter: HmmFilter | null = null;
  private readonly scratch: HmmState;

  constructor(options: HmmOptions) {
    this.opts = options;
    this.scratch = new HmmState(options.states);
    this.options = { ...options };
    this.signal = { kind: "surprisal", anomalousAt: -Math.log2(options.threshold) };
  }

  get trainedCalls(): number {
    return this.calls;
  }

  get trainedTraces(): number {
    return this.traces;
  }

  /** The fitted parameters (symbols = seen ids + 1), or null before training. Do not modify. */
  get parameters(): HmmParameters | null {
    return this.params;
  }

  /** Ids seen in training, ascending; symbol k < D is seenIds[k], symbol D is "unseen". */
  get seenIds(): Uint16Array {
    return this.seen;
  }

  /** Weighted training log-likelihood (natural log) of the current parameters. */
  get logLikelihood(): number {
    return this.ll;
  }

  /** Training log-likelihood (natural log) after 0, 1, 2, ... iterations of the last fit that was kept. */
  get history(): readonly number[] {
    return this.fitHistory;
  }

  /** The weight of the uniform distribution mixed into every state's emissions for scoring. */
  get escape(): number {
    return this.filter === null ? 0 : this.filter.escape;
  }

  /** Distinct training traces retained for refitting. */
  get distinctTraces(): number {
    return this.retained.size;
  }

  /** The symbol index of a call id (the unseen symbol for ids not seen in training). */
  symbol(id: number): number {
    const k = this.symbolOf[id];
    return k === undefined || k < 0 ? this.unseenSymbol : k;
  }

  train(traces: readonly Uint16Array[]): void {
    for (const t of traces) {
      this.calls += t.length;
      if (t.length > 0) this.retained.add(t);
    }
    this.traces += traces.length;
    if (this.retained.size > 0) this.fit();
  }

  newState(): HmmState {
    return new HmmState(this.opts.states);
  }

  step(state: HmmState, syscall: number): number {
    const filter = this.filter;
    // An untrained model has no distribution: no signal.
    if (filter === null) return Number.NaN;
    const k = this.symbolOf[syscall];
    return filter.step(state, k === undefined || k < 0 ? this.unseenSymbol : k);
  }

  scoreTrace(trace: Uint16Array, out: Float64Array): void {
    if (out.length < trace.length) {
      throw new HomeostatError("E_MODEL", `hmm: output holds ${out.length} values for a trace of ${trace.length}`);
    }
    // A fresh stream in a reused state: reset() is all a new state differs by.
    const state = this.scratch;
    state.reset();
    for (let i = 0; i < trace.length; i++) out[i] = this.step(state, trace[i]!);
  }

  merge(other: Detector): void {
    throw new HomeostatError(
      "E_MODEL",
      `hmm detectors cannot be merged (asked to merge a "${other.kind}"): retrain on the union of the traces instead`,
    );
  }

  serialize(): Uint8Array {
    const p = this.params;
    return encodeHmm({
      states: this.opts.states,
      calls: this.calls,
      traces: this.traces,
      seen: this.seen,
      fitted: p === null ? null : { params: p, ll: this.ll },
      retained: this.retained,
    });
  }

  /** Restores a model written by `serialize`. Throws E_PARSE / E_VERSION on malformed bytes. */
  static fromBytes(options: HmmOptions, bytes: Uint8Array): HmmDetector {
    const stored = decodeHmm(options.states, bytes);
    const d = new HmmDetector(options);
    d.retained = stored.retained;
    d.calls = stored.calls;
    d.traces = stored.traces;
    if (stored.fitted !== null) {
      d.setAlphabet(stored.seen);
      d.params = stored.fitted.params;
      d.ll = stored.fitted.ll;
      d.prepareScoring();
    }
    return d;
  }

  /**
   * A detector with given parameters (e.g. a hand-set model), as if trained on `trainedCalls` calls over the ids
   * `seenIds` (ascending); params.symbols must be seenIds.length + 1. It retains no traces, so a later `train`
   * refits on the new traces only, warm-started from these parameters.
   */
  static fromParameters(
    options: HmmOptions,
    seenIds: Uint16Array,
    params: HmmParameters,
    trainedCalls: number,
  ): HmmDetector {
    if (params.states !== options.states || params.symbols !== seenIds.length + 1) {
      throw new HomeostatError("E_MODEL", "hmm: parameters do not match the options' states or the seen ids");
    }
    for (let i = 1; i < seenIds.length; i++) {
      if (seenIds[i]! <= seenIds[i - 1]!) throw new HomeostatError("E_MODEL", "hmm: seen ids must be ascending");
    }
    const d = new HmmDetector(options);
    d.setAlphabet(seenIds.slice());
    d.params = params.clone();
    d.calls = trainedCalls;
    d.prepareScoring();
    return d;
  }

  memoryBytes(): number {
    let bytes = this.seen.byteLength + this.symbolOf.byteLength;
    if (this.filter !== null) bytes += this.filter.memoryBytes();
    const p = this.params;
    if (p !== null) bytes += p.pi.byteLength + p.a.byteLength + p.b.byteLength;
    for (const t of this.retained.traces) bytes += t.byteLength;
    return bytes;
  }

  private setAlphabet(seen: Uint16Array): void {
    this.seen = seen;
    this.symbolOf = symbolTable(seen);
    this.unseenSymbol = seen.length;
  }

  /** Fits (or refits, warm-started) on every retained trace. */
  private fit(): void {
    const n = this.opts.states;
    const { seen, symbolWeights } = retainedAlphabet(this.retained);
    const oldSeen = this.seen;
    const old = this.params;
    this.setAlphabet(seen);
    const m = seen.length + 1;
    const data = HmmTrainingSet.of(symbolSequences(this.retained.traces, this.symbolOf), this.retained.weights);
    const bw = new BaumWelch(n, m, data);

    if (old !== null) {
      this.runFit(bw, data, warmStart(old, oldSeen, seen));
    } else {
      const rng = new SeededRandom(this.opts.seed);
      let best: FitResult | null = null;
      for (let r = 0; r < this.opts.restarts; r++) {
        const start = HmmParameters.random(n, m, rng, symbolWeights);
        const result = this.runFit(bw, data, start);
        if (best === null || result.ll > best.ll) best = result;
      }
      this.params = best!.params;
      this.ll = best!.ll;
      this.fitHistory = best!.history;
    }
    this.prepareScoring();
  }

  private runFit(bw: BaumWelch, data: HmmTrainingSet, p: HmmParameters): FitResult {
    const history: number[] = [];
    const perCallBits = 1 / (data.weightedCalls * Math.LN2);
    for (let it = 0; it < this.opts.iterations; it++) {
      const ll = bw.iterate(p);
      const prev = history[history.length - 1];
      history.push(ll);
      if (prev !== undefined && (ll - prev) * perCallBits < this.opts.tolerance) break;
    }
    const ll = bw.logLikelihood(p);
    history.push(ll);
    this.params = p;
    this.ll = ll;
    this.fitHistory = history;
    return { params: p, ll, history };
  }

  private prepareScoring(): void {
    this.filter = new HmmFilter(this.params!, this.calls);
  }
}

export const hmmFactory: DetectorFactory<HmmDetector> = {
  kind: "hmm",
  description:
    "discrete hidden Markov model trained by Baum-Welch (Warrender et al. 1999); signal: surprisal -log2 P(call | previous calls) from the forward filter",
  optionHelp: hmmOptionHelp,
  create(options) {
    return new HmmDetector(resolveHmmOptions(options));
  },
  deserialize(options, bytes) {
    return HmmDetector.fromBytes(resolveHmmOptions(options), bytes);
  },
};
