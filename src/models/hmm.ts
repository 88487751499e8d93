// The hidden Markov model of normal of Warrender, Forrest & Pearlmutter ("Detecting intrusions using system calls:
// alternative data models", IEEE S&P 1999), fitted by Baum-Welch with Rabiner's scaling (baumWelch.ts); signal the
// surprisal -log2 P(call | previous calls) of the forward filter. Why the filtered signal, the smoothed emissions,
// the defaults and warm-started retraining: docs/detectors.md, "The hidden Markov model".

import { HomeostatError } from "../errors.js";
import { PayloadReader, PayloadWriter } from "./payload.js";
import type { Detector, DetectorFactory, DetectorOptions, DetectorState, SignalInfo } from "./detector.js";
import { integerRange, realRange, resolveOptions } from "./detectorOptions.js";
import { BaumWelch, FLUSH, HmmTrainingSet, vecMat } from "./baumWelch.js";
import { HmmParameters } from "./hmmParameters.js";
import { SeededRandom } from "./random.js";
import { createVecMatKernel, paddedStride, type VecMatKernel } from "./simdKernel.js";
import { TraceMultiset } from "./traceMultiset.js";

export interface HmmOptions {
  readonly states: number;
  readonly iterations: number;
  readonly tolerance: number;
  readonly seed: number;
  readonly restarts: number;
  readonly threshold: number;
}

const MAX_STATES = 1024;

const OPTION_HELP = {
  states: {
    default: 40,
    help: "hidden states (Warrender et al. used about as many states as distinct calls)",
    range: integerRange(1, MAX_STATES),
  },
  iterations: { default: 40, help: "most Baum-Welch iterations per fit", range: integerRange(1, 1_000_000) },
  tolerance: {
    default: 1e-3,
    help: "stop when the mean log-likelihood per training call improves by less (bits)",
    // A gain of a million bits per call never happens: the largest tolerance stops after the first iteration.
    range: realRange(0, 1_000_000),
  },
  // Seeds are used as 32-bit integers, signed or not.
  seed: {
    default: 1,
    help: "seed of the random initial parameters",
    range: integerRange(-2_147_483_648, 4_294_967_295),
  },
  restarts: {
    default: 1,
    help: "random starts; the fit with the best training likelihood is kept",
    range: integerRange(1, 1000),
  },
  threshold: {
    default: 0.001,
    help: "a call with predictive probability below this is anomalous",
    range: realRange(0, 1, { minExclusive: true, maxExclusive: true }),
  },
} as const;

const FORMAT_VERSION = 1;
/** Weight of the uniform distribution mixed into warm-started parameters. */
const WARM_MIX = 1e-3;

/** Fills defaults and validates. Throws HomeostatError E_USAGE. */
export function resolveHmmOptions(options: Partial<Record<string, number | string | boolean>> = {}): HmmOptions {
  const o = resolveOptions("hmm", OPTION_HELP, options);
  return {
    states: o.states as number,
    iterations: o.iterations as number,
    tolerance: o.tolerance as number,
    seed: o.seed as number,
    restarts: o.restarts as number,
    threshold: o.threshold as number,
  };
}

/** Per-stream state: the filtered state distribution P(state_t | calls_<=t). */
export class HmmState implements DetectorState {
  started = false;
  readonly filt: Float64Array;
  readonly pred: Float64Array;

  constructor(states: number) {
    this.filt = new Float64Array(states);
    this.pred = new Float64Array(states);
  }

  reset(): void {
    this.started = false;
  }
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
  private readonly retained = new TraceMultiset();

  // Alphabet: seen ids ascending; symbolOf[id] = symbol index, -1 = unseen.
  private seen: Uint16Array = new Uint16Array(0);
  private symbolOf = new Int32Array(0);
  private params: HmmParameters | null = null;
  private ll = Number.NaN;
  private fitHistory: number[] = [];

  // Scoring tables.
  private eps = 0;
  private scoreB = new Float64Array(0);
  private unseenSymbol = 0;
  // The SIMD kernel holding A (padded rows) for the filter's product; null = the JS loop.
  private kernel: VecMatKernel | null = null;
  private kernelX: Float64Array = new Float64Array(0);
  private kernelY: Float64Array = new Float64Array(0);
  private kernelXByte = 0;
  private kernelYByte = 0;
  private kernelBlocks = 0;

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
    return this.eps;
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
    const p = this.params;
    // An untrained model has no distribution: no signal.
    if (p === null) return Number.NaN;
    const n = p.states;
    const filt = state.filt;
    const pred = state.pred;
    if (!state.started) {
      pred.set(p.pi);
      state.started = true;
    } else if (this.kernel !== null) {
      this.kernelX.set(filt);
      this.kernel.vecmat(this.kernelXByte, 0, this.kernelYByte, n, this.kernelBlocks);
      pred.set(this.kernelY);
    } else {
      vecMat(filt, 0, p.a, n, pred, 0);
    }
    const k = this.symbolOf[syscall];
    const base = (k === undefined || k < 0 ? this.unseenSymbol : k) * n;
    const b = this.scoreB;
    let s = 0;
    for (let j = 0; j < n; j++) {
      const v = pred[j]! * b[base + j]!;
      filt[j] = v;
      s += v;
    }
    const inv = 1 / s;
    for (let j = 0; j < n; j++) {
      const v = filt[j]! * inv;
      filt[j] = v < FLUSH ? 0 : v;
    }
    return -Math.log2(s);
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
    const w = new PayloadWriter();
    w.u32(FORMAT_VERSION);
    const p = this.params;
    w.u32(this.opts.states);
    w.f64(this.calls);
    w.f64(this.traces);
    w.u32(this.seen.length);
    w.u16s(this.seen);
    if (this.seen.length % 2 === 1) w.u16(0);
    w.u32(p === null ? 0 : 1);
    if (p !== null) {
      w.f64(this.ll);
      w.f64s(p.pi);
      w.f64s(p.a);
      w.f64s(p.b);
    }
    const { traces, weights } = this.retained;
    w.u32(traces.length);
    for (let i = 0; i < traces.length; i++) {
      const t = traces[i]!;
      w.f64(weights[i]!);
      w.u32(t.length);
      w.u16s(t);
      if (t.length % 2 === 1) w.u16(0);
    }
    return w.finish();
  }

  /** Restores a model written by `serialize`. Throws E_PARSE / E_VERSION on malformed bytes. */
  static fromBytes(options: HmmOptions, bytes: Uint8Array): HmmDetector {
    const r = new PayloadReader(bytes, "hmm");
    r.version(FORMAT_VERSION, 4);
    const n = r.u32();
    if (n !== options.states) throw r.fail(`stored model has ${n} states, the options say ${options.states}`);
    const d = new HmmDetector(options);
    const calls = r.f64();
    const traces = r.f64();
    if (!(Number.isInteger(calls) && calls >= 0 && Number.isInteger(traces) && traces >= 0)) {
      throw r.fail("bad call or trace totals");
    }
    const nSeen = r.u32();
    const seen = r.u16s(nSeen);
    if (nSeen % 2 === 1) r.u16();
    for (let i = 1; i < nSeen; i++) if (seen[i]! <= seen[i - 1]!) throw r.fail("seen ids are not strictly increasing");
    const fitted = readParameters(r, n, nSeen);
    const retained = readRetained(r, d.retained);
    r.end();
    // A model made from given parameters may have been trained on calls it does not retain, never the reverse.
    if (retained.calls > calls || retained.traces > traces) throw r.fail("retained traces exceed the training totals");
    if (fitted === null && d.retained.size > 0) throw r.fail("retained traces without parameters");
    d.calls = calls;
    d.traces = traces;
    if (fitted !== null) {
      d.setAlphabet(seen);
      for (const t of d.retained.traces) {
        for (let i = 0; i < t.length; i++) {
          if (d.symbolOf[t[i]!]! < 0) throw r.fail("a retained trace holds an id outside the alphabet");
        }
      }
      d.params = fitted.params;
      d.ll = fitted.ll;
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
    let bytes = this.seen.byteLength + this.symbolOf.byteLength + this.scoreB.byteLength;
    if (this.kernel !== null) bytes += this.kernel.f64.byteLength;
    const p = this.params;
    if (p !== null) bytes += p.pi.byteLength + p.a.byteLength + p.b.byteLength;
    for (const t of this.retained.traces) bytes += t.byteLength;
    return bytes;
  }

  private setAlphabet(seen: Uint16Array): void {
    this.seen = seen;
    const max = seen.length === 0 ? -1 : seen[seen.length - 1]!;
    this.symbolOf = new Int32Array(max + 1).fill(-1);
    for (let k = 0; k < seen.length; k++) this.symbolOf[seen[k]!] = k;
    this.unseenSymbol = seen.length;
  }

  /** Fits (or refits, warm-started) on every retained trace. */
  private fit(): void {
    const n = this.opts.states;
    // Alphabet of everything retained.
    const present = new Uint8Array(65_536);
    const freq = new Float64Array(65_536);
    const { traces, weights } = this.retained;
    for (let u = 0; u < traces.length; u++) {
      const t = traces[u]!;
      const w = weights[u]!;
      for (let i = 0; i < t.length; i++) {
        present[t[i]!] = 1;
        freq[t[i]!]! += w;
      }
    }
    let count = 0;
    for (let id = 0; id < 65_536; id++) count += present[id]!;
    const seen = new Uint16Array(count);
    for (let id = 0, k = 0; id < 65_536; id++) if (present[id] === 1) seen[k++] = id;
    const oldSeen = this.seen;
    const old = this.params;
    this.setAlphabet(seen);
    const m = seen.length + 1;

    const sequences: Uint16Array[] = [];
    for (const t of traces) {
      const s = new Uint16Array(t.length);
      for (let i = 0; i < t.length; i++) s[i] = this.symbolOf[t[i]!]!;
      sequences.push(s);
    }
    const data = HmmTrainingSet.of(sequences, weights);
    const bw = new BaumWelch(n, m, data);

    if (old !== null) {
      this.runFit(bw, data, warmStart(old, oldSeen, seen));
    } else {
      const rng = new SeededRandom(this.opts.seed);
      const symbolWeights = new Float64Array(m);
      for (let k = 0; k < seen.length; k++) symbolWeights[k] = freq[seen[k]!]!;
      let best: { params: HmmParameters; ll: number; history: number[] } | null = null;
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

  private runFit(
    bw: BaumWelch,
    data: HmmTrainingSet,
    p: HmmParameters,
  ): { params: HmmParameters; ll: number; history: number[] } {
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
    const p = this.params!;
    const n = p.states;
    const m = p.symbols;
    const d = m - 1;
    this.eps = this.calls + d > 0 ? d / (this.calls + d) : 1;
    const u = this.eps / m;
    const keep = 1 - this.eps;
    this.scoreB = new Float64Array(m * n);
    for (let x = 0; x < m * n; x++) this.scoreB[x] = keep * p.b[x]! + u;
    const stride = paddedStride(n);
    this.kernelBlocks = stride / 8;
    this.kernelXByte = n * stride * 8;
    this.kernelYByte = this.kernelXByte + stride * 8;
    this.kernel = createVecMatKernel(this.kernelYByte + stride * 8);
    if (this.kernel !== null) {
      const f64 = this.kernel.f64;
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) f64[i * stride + j] = p.a[i * n + j]!;
      this.kernelX = new Float64Array(f64.buffer, this.kernelXByte, n);
      this.kernelY = new Float64Array(f64.buffer, this.kernelYByte, n);
    }
  }
}

/** Reads the fitted parameters and their log-likelihood, or null for an untrained model. */
function readParameters(r: PayloadReader, n: number, nSeen: number): { params: HmmParameters; ll: number } | null {
  const hasParams = r.u32();
  if (hasParams > 1) throw r.fail("bad parameter flag");
  if (hasParams === 0) {
    if (nSeen !== 0) throw r.fail("an alphabet without parameters");
    return null;
  }
  if (nSeen === 0) throw r.fail("parameters without an alphabet");
  const ll = r.f64();
  const m = nSeen + 1;
  if ((n + n * n + m * n) * 8 > r.remaining) throw r.fail("parameter arrays exceed the data");
  const params = new HmmParameters(n, m, r.f64s(n), r.f64s(n * n), r.f64s(m * n));
  checkStochastic(r, "initial distribution", params.pi, 1, n, 0);
  for (let i = 0; i < n; i++) checkStochastic(r, `transition row ${i}`, params.a, 1, n, i * n);
  for (let i = 0; i < n; i++) checkStochastic(r, `emission row ${i}`, params.b, n, m, i);
  return { params, ll };
}

/** Reads the retained traces into `into`; returns the calls and traces they stand for (weights counted). */
function readRetained(r: PayloadReader, into: TraceMultiset): { calls: number; traces: number } {
  const nUnique = r.u32();
  if (nUnique * 12 > r.remaining) throw r.fail("trace count exceeds the data");
  let calls = 0;
  let traces = 0;
  for (let i = 0; i < nUnique; i++) {
    const weight = r.f64();
    if (!(Number.isInteger(weight) && weight >= 1)) throw r.fail(`retained trace ${i} has weight ${weight}`);
    const len = r.u32();
    if (len === 0) throw r.fail(`retained trace ${i} is empty`);
    const t = r.u16s(len);
    if (len % 2 === 1) r.u16();
    into.append(t, weight);
    calls += weight * len;
    traces += weight;
  }
  return { calls, traces };
}

/** Checks `count` entries at stride `stride` from `offset` are probabilities summing to 1. */
function checkStochastic(
  r: PayloadReader,
  what: string,
  v: Float64Array,
  stride: number,
  count: number,
  offset: number,
) {
  let sum = 0;
  for (let x = 0; x < count; x++) {
    const e = v[offset + x * stride]!;
    if (!(e >= 0 && e <= 1)) throw r.fail(`${what} holds ${e}, not a probability`);
    sum += e;
  }
  if (Math.abs(sum - 1) > 1e-6) throw r.fail(`${what} sums to ${sum}, not 1`);
}

/**
 * Parameters for a warm start on a (possibly larger) alphabet: emissions carried over by call id, then everything
 * mixed with WARM_MIX of the uniform distribution (emissions over the seen calls only).
 */
function warmStart(old: HmmParameters, oldSeen: Uint16Array, seen: Uint16Array): HmmParameters {
  const n = old.states;
  const m = seen.length + 1;
  const keep = 1 - WARM_MIX;
  const pi = new Float64Array(n);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) pi[i] = keep * old.pi[i]! + WARM_MIX / n;
  for (let x = 0; x < n * n; x++) a[x] = keep * old.a[x]! + WARM_MIX / n;
  const b = new Float64Array(m * n);
  let o = 0;
  for (let k = 0; k < seen.length; k++) {
    while (o < oldSeen.length && oldSeen[o]! < seen[k]!) o++;
    const carried = o < oldSeen.length && oldSeen[o] === seen[k];
    for (let i = 0; i < n; i++) b[k * n + i] = (carried ? keep * old.b[o * n + i]! : 0) + WARM_MIX / seen.length;
  }
  // Old emission rows lose the mass of calls that are no longer present (none, as traces are only added) and of
  // the old unseen symbol (zero after maximum likelihood training): renormalise each state's row.
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (let k = 0; k < seen.length; k++) sum += b[k * n + i]!;
    for (let k = 0; k < seen.length; k++) b[k * n + i]! /= sum;
  }
  return new HmmParameters(n, m, pi, a, b);
}

export const hmmFactory: DetectorFactory<HmmDetector> = {
  kind: "hmm",
  description:
    "discrete hidden Markov model trained by Baum-Welch (Warrender et al. 1999); signal: surprisal -log2 P(call | previous calls) from the forward filter",
  optionHelp: OPTION_HELP,
  create(options) {
    return new HmmDetector(resolveHmmOptions(options));
  },
  deserialize(options, bytes) {
    return HmmDetector.fromBytes(resolveHmmOptions(options), bytes);
  },
};
