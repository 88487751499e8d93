// Reads whole traces into memory (one per source and stream), for training and batch scoring. For one-pass
// consumers that must stay in bounded memory, pass `onTrace` and nothing is kept.

import type { Vocabulary } from "../syscalls/vocabulary.js";
import { type ReadOptions, type ReadReport, readTraces } from "./reader.js";
import { type Trace, TraceCollector } from "./traceCollector.js";

export interface LoadOptions extends Omit<ReadOptions, "sink" | "vocab"> {
  /** Keep per-call timestamps. */
  times?: boolean;
  /** Stream each finished trace to this callback instead of keeping it. */
  onTrace?: (trace: Trace) => void;
}

export interface LoadedTraces {
  traces: Trace[];
  report: ReadReport;
}

export async function loadTraces(
  paths: readonly string[],
  vocab: Vocabulary,
  options: LoadOptions = {},
): Promise<LoadedTraces> {
  const collector = new TraceCollector({
    times: options.times ?? false,
    ...(options.onTrace !== undefined ? { onTrace: options.onTrace } : {}),
  });
  const report = await readTraces(paths, { ...options, vocab, sink: collector });
  return { traces: collector.traces, report };
}
