// Trains a model on every trace of an input as it is read, for models that can learn call by call (Detector's
// `learner`): fed by a StreamChunker, short traces are gathered into batches for `train` (the fast path, and the
// same order of traces as training on everything at once), long ones are learnt chunk by chunk as they arrive.
// Memory is the model plus a bounded batch, never the input. Sources the filter rejects (attack traces, other
// splits) are counted, not learnt.

import type { SourceInfo } from "../ingest/event.js";
import type { StreamConsumer } from "../ingest/streamChunker.js";
import type { Detector, TraceLearner } from "../models/detector.js";

/** A detector that can learn call by call. */
export type StreamTrainable = Detector & { learner(): TraceLearner };

export function canTrainStreaming(detector: Detector): detector is StreamTrainable {
  return typeof detector.learner === "function";
}

export class TraceStreamTrainer implements StreamConsumer<TraceLearner | null> {
  /** Traces learnt. */
  traces = 0;
  /** Traces of sources labelled attack, never learnt. */
  attackTraces = 0;
  /** Seconds spent in the model's training code (not in reading or parsing). */
  seconds = 0;
  private batch: Uint16Array[] = [];
  private batchCalls = 0;
  private learning = false;
  private attack = false;

  /** `keep`: whether a source's traces are learnt; `maxBatchCalls`: calls of short traces gathered per `train`. */
  constructor(
    private readonly detector: StreamTrainable,
    private readonly keep: (source: SourceInfo) => boolean,
    private readonly maxBatchCalls = 1 << 20,
  ) {}

  beginSource(source: SourceInfo): void {
    this.learning = this.keep(source);
    this.attack = source.label === "attack";
  }

  whole(_stream: number, calls: Uint16Array): void {
    if (!this.counted()) return;
    this.batch.push(calls.slice());
    this.batchCalls += calls.length;
    if (this.batchCalls >= this.maxBatchCalls) this.flush();
  }

  open(_stream: number): TraceLearner | null {
    if (!this.learning) return null;
    // Batched traces came first: learnt first, so that order-sensitive tables (n-gram) see the input's order.
    this.flush();
    return this.detector.learner();
  }

  feed(learner: TraceLearner | null, calls: Uint16Array, n: number): void {
    if (learner === null) return;
    const t0 = performance.now();
    for (let i = 0; i < n; i++) learner.push(calls[i]!);
    this.seconds += (performance.now() - t0) / 1000;
  }

  close(_stream: number, learner: TraceLearner | null): void {
    if (!this.counted()) return;
    const t0 = performance.now();
    learner!.end();
    this.seconds += (performance.now() - t0) / 1000;
  }

  endSource(): void {}

  /** Learns what is still batched; call once after the input is read. */
  finish(): void {
    this.flush();
  }

  /** Counts a finished trace of the current source; whether it is learnt. */
  private counted(): boolean {
    if (this.learning) this.traces++;
    else if (this.attack) this.attackTraces++;
    return this.learning;
  }

  private flush(): void {
    if (this.batch.length === 0) return;
    const t0 = performance.now();
    this.detector.train(this.batch);
    this.seconds += (performance.now() - t0) / 1000;
    this.batch = [];
    this.batchCalls = 0;
  }
}
