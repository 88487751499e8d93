// Per-trace scores from any detector's per-call signal: one pass, O(1) per call, no allocation per call.
//
// Figures follow the papers that use them: the mismatch rate (anomalous windows / windows: Forrest et al. 1996,
// Warrender et al. 1999), the maximum locality frame count (Hofmeyr et al. 1998, pH), the mean and windowed mean
// surprisal of probabilistic models (n-gram, HMM: the higher the less likely the trace), and Hofmeyr's normalised
// anomaly signal: the maximum over the trace of each window's minimum Hamming distance to the normal database,
// divided by the window length k (Hofmeyr, Forrest & Somayaji 1998, "Intrusion detection using sequences of system
// calls", section 4).
//
// The same accumulator serves batch scoring (`scoreTrace`) and live scoring (StreamScorer), so both give identical
// summaries by construction; the tests check it anyway.

import { HomeostatError } from "../errors.js";
import type { Detector, DetectorState, SignalInfo } from "../models/detector.js";
import { DEFAULT_FRAME, LocalityFrame } from "./localityFrame.js";

/** The default length, in scored calls, of the sliding window whose mean signal is reported. */
export const DEFAULT_WINDOW = 20;

/** Options of per-trace scoring. */
export interface ScoringOptions {
  /** Locality frame length in calls (default 20, Hofmeyr; pH uses 128). */
  frame?: number;
  /** Sliding-window length, in calls with a signal, for the windowed mean signal (default 20). */
  window?: number;
  /**
   * Compute Hofmeyr's normalised anomaly signal when the detector provides `minHammingDistance` (default false:
   * it searches the whole database for every anomalous window, so it is much slower than the other figures).
   */
  hamming?: boolean;
}

/** Everything one pass over a trace measures. Positions are 0-based call indexes. */
export interface TraceSummary {
  /** Calls in the trace. */
  calls: number;
  /** Calls with a signal (not NaN): windows scored. */
  windows: number;
  /** Anomalous calls: signal >= detector.signal.anomalousAt. */
  anomalies: number;
  /** anomalies / windows; 0 when there is no window. */
  mismatchRate: number;
  /** Largest locality frame count over the trace. */
  maxLfc: number;
  /** Position of the first anomalous call, or null when there is none. */
  firstAnomalyAt: number | null;
  /** Position of the last anomalous call, or null when there is none. */
  lastAnomalyAt: number | null;
  /** Sum of the signals (NaN excluded). */
  signalSum: number;
  /** signalSum / windows; 0 when there is no window. */
  signalMean: number;
  /** Largest signal; 0 when there is no window. */
  signalMax: number;
  /**
   * Largest mean signal over `window` consecutive scored calls; a trace with fewer scored calls than `window`
   * reports the mean of all of them (so that short traces still score); 0 when there is no window.
   */
  maxWindowMean: number;
  /**
   * Hofmeyr's normalised anomaly signal (max over windows of min Hamming distance / k, in [0, 1]); null when not
   * asked for or when the detector cannot compute it.
   */
  normalisedAnomalySignal: number | null;
}

/**
 * Which figure of a TraceSummary is "the score" of a trace (higher = more anomalous):
 * - "rate": mismatchRate (default for mismatch and count detectors);
 * - "maxLfc": maxLfc;
 * - "count": anomalies;
 * - "meanSurprisal": signalMean;
 * - "maxWindowSurprisal": maxWindowMean (default for surprisal detectors);
 * - "maxSurprisal": signalMax;
 * - "hamming": normalisedAnomalySignal.
 */
export type TraceScoreName =
  "rate" | "maxLfc" | "count" | "meanSurprisal" | "maxWindowSurprisal" | "maxSurprisal" | "hamming";

export const TRACE_SCORE_NAMES: readonly TraceScoreName[] = [
  "rate",
  "maxLfc",
  "count",
  "meanSurprisal",
  "maxWindowSurprisal",
  "maxSurprisal",
  "hamming",
];

export function isTraceScoreName(name: string): name is TraceScoreName {
  return (TRACE_SCORE_NAMES as readonly string[]).includes(name);
}

/** The score a detector's traces are ranked by unless the user chooses another. */
export function defaultScoreName(detector: { readonly signal: SignalInfo }): TraceScoreName {
  return detector.signal.kind === "surprisal" ? "maxWindowSurprisal" : "rate";
}

/** The figure of a summary that `name` designates. Throws E_USAGE for "hamming" when it was not computed. */
export function scoreOf(summary: TraceSummary, name: TraceScoreName): number {
  switch (name) {
    case "rate":
      return summary.mismatchRate;
    case "maxLfc":
      return summary.maxLfc;
    case "count":
      return summary.anomalies;
    case "meanSurprisal":
      return summary.signalMean;
    case "maxWindowSurprisal":
      return summary.maxWindowMean;
    case "maxSurprisal":
      return summary.signalMax;
    case "hamming":
      if (summary.normalisedAnomalySignal === null) {
        throw new HomeostatError(
          "E_USAGE",
          "the hamming score needs a detector with minHammingDistance (stide) and scoring with hamming enabled",
        );
      }
      return summary.normalisedAnomalySignal;
  }
}

/**
 * What a detector offers, found by duck typing, for Hofmeyr's normalised anomaly signal: the minimum Hamming
 * distance, in calls, from the window that the last `step` on `state` completed to every window of the normal
 * database. The divisor k is the detector's numeric option `k` (its window length).
 */
export interface HammingCapable<S extends DetectorState = DetectorState> {
  minHammingDistance(state: S): number;
}

/** Whether a detector can compute the normalised anomaly signal. */
export function supportsHamming<S extends DetectorState>(
  detector: Detector<S>,
): detector is Detector<S> & HammingCapable<S> {
  const d = detector as Detector<S> & Partial<HammingCapable<S>>;
  return typeof d.minHammingDistance === "function" && typeof detector.options.k === "number";
}

/**
 * Computes the normalised Hamming figure of the window a step just completed, or NaN when the step gave no
 * signal. A window that a mismatch detector did not flag is in the database, so its distance is 0 and the
 * (slow) search is skipped.
 */
export class HammingProbe<S extends DetectorState> {
  private readonly detector: Detector<S> & HammingCapable<S>;
  private readonly k: number;
  private readonly skipNormal: boolean;

  constructor(detector: Detector<S> & HammingCapable<S>) {
    this.detector = detector;
    this.k = detector.options.k as number;
    this.skipNormal = detector.signal.kind === "mismatch";
  }

  measure(state: S, signal: number): number {
    if (Number.isNaN(signal)) return Number.NaN;
    if (this.skipNormal && !(signal >= this.detector.signal.anomalousAt)) return 0;
    return this.detector.minHammingDistance(state) / this.k;
  }
}

/**
 * Accumulates one stream's summary call by call. Allocation-free per call; `reset` starts a new trace.
 * Live figures (`lfc`, `windowMean`, `score`) are what a StreamScorer raises alarms on.
 */
export class TraceAccumulator {
  readonly anomalousAt: number;
  readonly window: number;
  private readonly frame: LocalityFrame;
  private readonly recent: Float64Array;
  private recentHead = 0;
  private recentCount = 0;
  // The window's sum keeps infinite signals (a probability of 0) apart, so that one of them leaving the window
  // does not leave NaN behind (Infinity - Infinity).
  private recentFiniteSum = 0;
  private recentPosInf = 0;
  private recentNegInf = 0;

  private callsSeen = 0;
  private windowsSeen = 0;
  private anomalyCount = 0;
  private maxLfcSeen = 0;
  private first = -1;
  private last = -1;
  private sum = 0;
  private max = Number.NEGATIVE_INFINITY;
  private maxWindow = Number.NEGATIVE_INFINITY;
  private readonly hammingEnabled: boolean;
  private hammingMax = 0;

  /** `hamming`: whether the caller will pass Hamming figures to `add` (the summary reports null otherwise). */
  constructor(signal: SignalInfo, options: ScoringOptions = {}, hamming = false) {
    const window = options.window ?? DEFAULT_WINDOW;
    if (!Number.isInteger(window) || window < 1) {
      throw new HomeostatError("E_USAGE", `surprisal window must be a positive integer, got ${window}`);
    }
    this.anomalousAt = signal.anomalousAt;
    this.window = window;
    this.frame = new LocalityFrame(options.frame ?? DEFAULT_FRAME);
    this.recent = new Float64Array(window);
    this.hammingEnabled = hamming;
  }

  /**
   * Records the next call's signal (NaN = none) and, when Hamming figures are computed, the call's normalised
   * Hamming figure (NaN = none). Returns the locality frame count ending at this call.
   */
  add(signal: number, hamming = Number.NaN): number {
    const position = this.callsSeen++;
    // NaN compares false, so a call without signal is never anomalous.
    const anomalous = signal >= this.anomalousAt;
    const lfc = this.frame.push(anomalous);
    if (lfc > this.maxLfcSeen) this.maxLfcSeen = lfc;
    if (Number.isNaN(signal)) return lfc;

    this.windowsSeen++;
    this.sum += signal;
    if (signal > this.max) this.max = signal;
    if (anomalous) {
      this.anomalyCount++;
      if (this.first < 0) this.first = position;
      this.last = position;
    }
    if (hamming > this.hammingMax) this.hammingMax = hamming;

    const w = this.window;
    if (this.recentCount === w) this.forget(this.recent[this.recentHead]!);
    else this.recentCount++;
    this.recent[this.recentHead] = signal;
    if (signal === Number.POSITIVE_INFINITY) this.recentPosInf++;
    else if (signal === Number.NEGATIVE_INFINITY) this.recentNegInf++;
    else this.recentFiniteSum += signal;
    this.recentHead++;
    if (this.recentHead === w) {
      this.recentHead = 0;
      // Re-sum once per `window` signals so that rounding drift of the running sum stays bounded.
      let s = 0;
      for (let i = 0; i < w; i++) {
        const v = this.recent[i]!;
        if (Number.isFinite(v)) s += v;
      }
      this.recentFiniteSum = s;
    }
    if (this.recentCount === w) {
      const mean = this.currentWindowMean();
      if (mean > this.maxWindow) this.maxWindow = mean;
    }
    return lfc;
  }

  private forget(v: number): void {
    if (v === Number.POSITIVE_INFINITY) this.recentPosInf--;
    else if (v === Number.NEGATIVE_INFINITY) this.recentNegInf--;
    else this.recentFiniteSum -= v;
  }

  private currentWindowMean(): number {
    if (this.recentPosInf > 0) return this.recentNegInf > 0 ? Number.NaN : Number.POSITIVE_INFINITY;
    if (this.recentNegInf > 0) return Number.NEGATIVE_INFINITY;
    return this.recentFiniteSum / this.recentCount;
  }

  /** Calls recorded so far. */
  get calls(): number {
    return this.callsSeen;
  }

  /** The locality frame count ending at the last call. */
  get lfc(): number {
    return this.frame.count;
  }

  /** Mean signal over the last `window` scored calls; NaN until `window` calls have had a signal. */
  get windowMean(): number {
    return this.recentCount === this.window ? this.currentWindowMean() : Number.NaN;
  }

  private get maxWindowMean(): number {
    if (this.windowsSeen === 0) return 0;
    if (this.windowsSeen < this.window) return this.sum / this.windowsSeen;
    return this.maxWindow;
  }

  /** The named score of the trace so far (equal to scoreOf(summary(), name), without allocating). */
  score(name: TraceScoreName): number {
    const n = this.windowsSeen;
    switch (name) {
      case "rate":
        return n === 0 ? 0 : this.anomalyCount / n;
      case "maxLfc":
        return this.maxLfcSeen;
      case "count":
        return this.anomalyCount;
      case "meanSurprisal":
        return n === 0 ? 0 : this.sum / n;
      case "maxWindowSurprisal":
        return this.maxWindowMean;
      case "maxSurprisal":
        return n === 0 ? 0 : this.max;
      case "hamming":
        if (!this.hammingEnabled) return scoreOf(this.summary(), name);
        return this.hammingMax;
    }
  }

  /** A snapshot of the figures so far. */
  summary(): TraceSummary {
    const n = this.windowsSeen;
    return {
      calls: this.callsSeen,
      windows: n,
      anomalies: this.anomalyCount,
      mismatchRate: n === 0 ? 0 : this.anomalyCount / n,
      maxLfc: this.maxLfcSeen,
      firstAnomalyAt: this.first < 0 ? null : this.first,
      lastAnomalyAt: this.last < 0 ? null : this.last,
      signalSum: this.sum,
      signalMean: n === 0 ? 0 : this.sum / n,
      signalMax: n === 0 ? 0 : this.max,
      maxWindowMean: this.maxWindowMean,
      normalisedAnomalySignal: this.hammingEnabled ? this.hammingMax : null,
    };
  }

  /** Starts a new trace. */
  reset(): void {
    this.frame.reset();
    this.recent.fill(0);
    this.recentHead = 0;
    this.recentCount = 0;
    this.recentFiniteSum = 0;
    this.recentPosInf = 0;
    this.recentNegInf = 0;
    this.callsSeen = 0;
    this.windowsSeen = 0;
    this.anomalyCount = 0;
    this.maxLfcSeen = 0;
    this.first = -1;
    this.last = -1;
    this.sum = 0;
    this.max = Number.NEGATIVE_INFINITY;
    this.maxWindow = Number.NEGATIVE_INFINITY;
    this.hammingMax = 0;
  }
}

/** Options of batch scoring. */
export interface TraceScoreOptions extends ScoringOptions {
  /** A reusable buffer for the per-call signals (grown when too short); avoids one allocation per trace. */
  buffer?: Float64Array;
}

/**
 * Scores a whole trace in one pass. Without Hamming figures it uses the detector's own `scoreTrace` (which the
 * Detector contract makes equal to stepping a fresh state); with them it steps a state, since the Hamming search
 * reads the state.
 */
export function scoreTrace<S extends DetectorState>(
  detector: Detector<S>,
  trace: Uint16Array,
  options: TraceScoreOptions = {},
): TraceSummary {
  const hamming = options.hamming === true && supportsHamming(detector);
  const acc = new TraceAccumulator(detector.signal, options, hamming);
  if (hamming) {
    const probe = new HammingProbe(detector);
    const state = detector.newState();
    for (let i = 0; i < trace.length; i++) {
      const signal = detector.step(state, trace[i]!);
      acc.add(signal, probe.measure(state, signal));
    }
    return acc.summary();
  }
  const n = trace.length;
  const out =
    options.buffer !== undefined && options.buffer.length >= n ? options.buffer.subarray(0, n) : new Float64Array(n);
  detector.scoreTrace(trace, out);
  for (let i = 0; i < n; i++) acc.add(out[i]!);
  return acc.summary();
}

/** Scores many traces and returns the named score of each (e.g. the normal scores a threshold is fitted on). */
export function scoreTraces<S extends DetectorState>(
  detector: Detector<S>,
  traces: readonly Uint16Array[],
  name: TraceScoreName = defaultScoreName(detector),
  options: ScoringOptions = {},
): Float64Array {
  let longest = 0;
  for (const t of traces) if (t.length > longest) longest = t.length;
  const buffer = new Float64Array(longest);
  const scores = new Float64Array(traces.length);
  for (let i = 0; i < traces.length; i++) {
    scores[i] = scoreOf(scoreTrace(detector, traces[i]!, { ...options, buffer }), name);
  }
  return scores;
}
