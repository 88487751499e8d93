// Scores every trace of an input as it is read, in memory bounded by the model, the score window and the locality
// frame rather than by the trace: fed by a StreamChunker, a short trace is scored whole through `scoreTrace` (the
// batch path), a long one call by call through `step` as its chunks arrive. The Detector contract makes the two
// equal, and both summaries come from the same TraceAccumulator, so the per-trace results do not depend on which
// path a trace took.

import type { SourceInfo } from "../ingest/event.js";
import type { StreamConsumer } from "../ingest/streamChunker.js";
import type { Detector, DetectorState } from "../models/detector.js";
import {
  HammingProbe,
  type ScoringOptions,
  scoreTrace,
  supportsHamming,
  TraceAccumulator,
  type TraceScoreOptions,
  type TraceSummary,
} from "./traceScore.js";

/** One trace's result: `source#stream` when the source had several streams, as TraceCollector names traces. */
export interface ScoredTrace {
  source: SourceInfo;
  stream: number;
  multiStream: boolean;
  summary: TraceSummary;
}

/** The name of a scored trace, as traceName gives it for a collected trace. */
export function scoredTraceName(t: ScoredTrace): string {
  return t.multiStream ? `${t.source.path}#${t.stream}` : t.source.path;
}

/** A trace being scored call by call. */
export class OpenTrace<S extends DetectorState> {
  constructor(
    readonly state: S,
    readonly acc: TraceAccumulator,
  ) {}
}

export class TraceStreamScorer<S extends DetectorState> implements StreamConsumer<OpenTrace<S>> {
  private source: SourceInfo | undefined;
  // One signal buffer for every whole trace, grown to the longest, instead of one allocation per trace; the options
  // of whole traces hold it, made once rather than per trace.
  private readonly wholeOptions: TraceScoreOptions & { buffer: Float64Array };
  private readonly probe: HammingProbe<S> | null;

  constructor(
    private readonly detector: Detector<S>,
    private readonly options: ScoringOptions,
    private readonly onScored: (trace: ScoredTrace) => void,
  ) {
    this.probe = options.hamming === true && supportsHamming(detector) ? new HammingProbe(detector) : null;
    this.wholeOptions = { ...options, buffer: new Float64Array(4096) };
  }

  beginSource(source: SourceInfo): void {
    this.source = source;
  }

  whole(stream: number, calls: Uint16Array, multiStream: boolean): void {
    const options = this.wholeOptions;
    if (calls.length > options.buffer.length) {
      options.buffer = new Float64Array(Math.max(calls.length, 2 * options.buffer.length));
    }
    const summary = scoreTrace(this.detector, calls, options);
    this.onScored({ source: this.source!, stream, multiStream, summary });
  }

  open(_stream: number): OpenTrace<S> {
    const acc = new TraceAccumulator(this.detector.signal, this.options, this.probe !== null);
    return new OpenTrace(this.detector.newState(), acc);
  }

  feed(open: OpenTrace<S>, calls: Uint16Array, n: number): void {
    const detector = this.detector;
    const { state, acc } = open;
    const probe = this.probe;
    if (probe === null) {
      for (let i = 0; i < n; i++) acc.add(detector.step(state, calls[i]!));
      return;
    }
    for (let i = 0; i < n; i++) {
      const signal = detector.step(state, calls[i]!);
      acc.add(signal, probe.measure(state, signal));
    }
  }

  close(stream: number, open: OpenTrace<S>, multiStream: boolean): void {
    this.onScored({ source: this.source!, stream, multiStream, summary: open.acc.summary() });
  }

  endSource(): void {
    this.source = undefined;
  }
}
