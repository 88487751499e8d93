// Live scoring of many interleaved streams (one per thread or process) with one detector: per-stream detector
// state, trace summary and a ring of recent calls, keyed by the numeric stream id. Each call is scored as it
// arrives, so an alarm can fire while the program still runs (Hofmeyr et al. 1998; pH, Somayaji & Forrest 2000).
//
// A stream's summary is built by the same TraceAccumulator as batch `scoreTrace`, so the two are identical.

import { HomeostatError } from "../errors.js";
import type { Detector, DetectorState } from "../models/detector.js";
import type { Alarm, AlarmMeasure, AlarmRule } from "./alarm.js";
import {
  DEFAULT_WINDOW,
  defaultScoreName,
  HammingProbe,
  type ScoringOptions,
  supportsHamming,
  TraceAccumulator,
  type TraceScoreName,
  type TraceSummary,
} from "./traceScore.js";

export interface StreamScorerOptions extends ScoringOptions {
  /** When to raise alarms; none are raised without a rule. */
  alarm?: AlarmRule;
  /** Calls kept per stream for an alarm's window (default: `window`, i.e. 20). */
  context?: number;
  /** Called for each alarm, synchronously, inside `push`. */
  onAlarm?: (alarm: Alarm) => void;
}

class StreamEntry<S extends DetectorState> {
  readonly state: S;
  readonly acc: TraceAccumulator;
  readonly recentCalls: Uint16Array;
  head = 0;
  armed = true;
  alarms = 0;

  constructor(state: S, acc: TraceAccumulator, context: number) {
    this.state = state;
    this.acc = acc;
    this.recentCalls = new Uint16Array(context);
  }

  reset(): void {
    this.state.reset();
    this.acc.reset();
    this.recentCalls.fill(0);
    this.head = 0;
    this.armed = true;
    this.alarms = 0;
  }
}

export class StreamScorer<S extends DetectorState = DetectorState> {
  readonly detector: Detector<S>;
  private readonly options: ScoringOptions;
  private readonly context: number;
  private readonly hamming: HammingProbe<S> | null;
  private readonly measure: AlarmMeasure | null;
  private readonly threshold: number;
  private readonly scoreName: TraceScoreName;
  private readonly onAlarm: ((alarm: Alarm) => void) | undefined;
  private readonly entries = new Map<number, StreamEntry<S>>();
  // Calls of one stream usually come in runs: remembering the last entry skips most map lookups.
  private lastId = Number.NaN;
  private lastEntry: StreamEntry<S> | undefined;

  /** The alarm raised by the last `push`, or null when it raised none. */
  lastAlarm: Alarm | null = null;

  constructor(detector: Detector<S>, options: StreamScorerOptions = {}) {
    this.detector = detector;
    this.options = { frame: options.frame, window: options.window, hamming: options.hamming };
    const context = options.context ?? options.window ?? DEFAULT_WINDOW;
    if (!Number.isInteger(context) || context < 1) {
      throw new HomeostatError("E_USAGE", `alarm context must be a positive integer, got ${context}`);
    }
    this.context = context;
    this.hamming = options.hamming === true && supportsHamming(detector) ? new HammingProbe(detector) : null;
    this.measure = options.alarm?.measure ?? null;
    this.threshold = options.alarm?.threshold ?? Number.POSITIVE_INFINITY;
    this.scoreName = options.alarm?.scoreName ?? defaultScoreName(detector);
    if (this.measure === "score" && this.scoreName === "hamming" && this.hamming === null) {
      throw new HomeostatError(
        "E_USAGE",
        `alarms on the hamming score need hamming scoring and a detector that supports it (${detector.kind} does not, or hamming is off)`,
      );
    }
    this.onAlarm = options.onAlarm;
    // Fail on bad frame/window options now rather than at the first call.
    new TraceAccumulator(detector.signal, this.options);
  }

  private entry(stream: number): StreamEntry<S> {
    if (stream === this.lastId && this.lastEntry !== undefined) return this.lastEntry;
    let e = this.entries.get(stream);
    if (e === undefined) {
      e = new StreamEntry(
        this.detector.newState(),
        new TraceAccumulator(this.detector.signal, this.options, this.hamming !== null),
        this.context,
      );
      this.entries.set(stream, e);
    }
    this.lastId = stream;
    this.lastEntry = e;
    return e;
  }

  /** Scores the next call of a stream; returns its signal (NaN = none). Sets `lastAlarm` and calls `onAlarm`. */
  push(stream: number, syscall: number): number {
    const e = this.entry(stream);
    const signal = this.detector.step(e.state, syscall);
    const position = e.acc.calls;
    const lfc = this.hamming === null ? e.acc.add(signal) : e.acc.add(signal, this.hamming.measure(e.state, signal));
    e.recentCalls[e.head] = syscall;
    e.head = e.head + 1 === this.context ? 0 : e.head + 1;
    this.lastAlarm = null;
    if (this.measure === null) return signal;

    let value: number;
    switch (this.measure) {
      case "lfc":
        value = lfc;
        break;
      case "signal":
        value = signal;
        break;
      case "windowMean":
        value = e.acc.windowMean;
        break;
      case "score":
        value = e.acc.score(this.scoreName);
        break;
    }
    // NaN compares false both ways: it neither fires nor re-arms.
    if (value > this.threshold) {
      if (e.armed) {
        e.armed = false;
        e.alarms++;
        const alarm: Alarm = {
          stream,
          position,
          syscall,
          signal,
          lfc,
          measure: this.measure,
          value,
          threshold: this.threshold,
          window: this.windowOf(e),
        };
        this.lastAlarm = alarm;
        this.onAlarm?.(alarm);
      }
    } else if (value <= this.threshold) {
      e.armed = true;
    }
    return signal;
  }

  private windowOf(e: StreamEntry<S>): Uint16Array {
    const n = Math.min(e.acc.calls, this.context);
    const out = new Uint16Array(n);
    // The ring's oldest kept call sits at head once full, at 0 before.
    let at = e.acc.calls >= this.context ? e.head : 0;
    for (let i = 0; i < n; i++) {
      out[i] = e.recentCalls[at]!;
      at = at + 1 === this.context ? 0 : at + 1;
    }
    return out;
  }

  /** The summary of a stream so far, or undefined for a stream never seen (or ended). */
  summary(stream: number): TraceSummary | undefined {
    return this.entries.get(stream)?.acc.summary();
  }

  /** The number of alarms a stream has raised. */
  alarmCount(stream: number): number {
    return this.entries.get(stream)?.alarms ?? 0;
  }

  /** Ends a stream (e.g. the thread exited): returns its final summary and forgets its state. */
  end(stream: number): TraceSummary | undefined {
    const e = this.entries.get(stream);
    if (e === undefined) return undefined;
    this.entries.delete(stream);
    if (this.lastId === stream) {
      this.lastId = Number.NaN;
      this.lastEntry = undefined;
    }
    return e.acc.summary();
  }

  /** Starts a stream over (e.g. after execve), keeping its memory. */
  reset(stream: number): void {
    this.entries.get(stream)?.reset();
  }

  /** Ids of the streams being scored, in order of first call. */
  streams(): number[] {
    return [...this.entries.keys()];
  }

  get size(): number {
    return this.entries.size;
  }
}
