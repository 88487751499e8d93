// Reads whole traces into memory (one per source and stream), for consumers that need them whole (HMM training,
// eval's protocols), within a budget of calls held. For one-pass consumers that must stay in bounded memory, pass
// `onTrace` and nothing is kept, or read through a StreamChunker (streamChunker.ts).

import type { Vocabulary } from "../syscalls/vocabulary.js";
import { type ReadOptions, type ReadReport, readTraces } from "./reader.js";
import { type Trace, TraceCollector } from "./traceCollector.js";

export interface LoadOptions extends Omit<ReadOptions, "sink" | "vocab"> {
  /** Keep per-call timestamps. */
  times?: boolean;
  /** Stream each finished trace to this callback instead of keeping it. */
  onTrace?: (trace: Trace) => void;
  /** Most calls held in memory at once (TraceCollector's budget: E_LIMIT past it). */
  maxCalls?: number;
  /** Why the caller holds whole traces, for that error. */
  heldFor?: string;
  /** Calls the caller holds already, counted against maxCalls. */
  heldAlready?: number;
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
  const { times, onTrace, maxCalls, heldFor, heldAlready, ...read } = options;
  const collector = new TraceCollector({
    times: times ?? false,
    ...(onTrace !== undefined ? { onTrace } : {}),
    ...(maxCalls !== undefined ? { maxCalls } : {}),
    ...(heldFor !== undefined ? { heldFor } : {}),
    ...(heldAlready !== undefined ? { heldAlready } : {}),
  });
  const report = await readTraces(paths, { ...read, vocab, sink: collector });
  return { traces: collector.traces, report };
}
