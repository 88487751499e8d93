// Collects parsed events into whole traces: one trace per (source, stream), as Uint16Array of vocabulary ids with
// optional timestamps. This is the in-memory form the models train and score on (Forrest et al. treat each process
// of a run as one trace; LID-DS and strace -f give one stream per thread or process). Holding traces is O(input), so
// callers that must (HMM training, eval) give a budget of calls held; those that need not read through a
// StreamChunker (streamChunker.ts) instead.

import { HomeostatError } from "../errors.js";
import type { EventSink, SourceInfo, StreamNote } from "./event.js";

export interface Trace {
  source: SourceInfo;
  /** Stream id within the source (pid/tid, or 0). */
  stream: number;
  /** Whether the source held more than one stream (then `name` carries `#stream`). */
  multiStream: boolean;
  calls: Uint16Array;
  /** Per-call timestamps in seconds, when collected and present in the input. */
  times?: Float64Array;
  /** The last program the stream executed (from an exec note), when known. */
  program?: string;
  notes: StreamNote[];
}

/** `path`, or `path#stream` when the source held several streams. */
export function traceName(t: Trace): string {
  return t.multiStream ? `${t.source.path}#${t.stream}` : t.source.path;
}

export interface CollectorOptions {
  /** Keep per-call timestamps (default false: they cost 8 bytes a call). */
  times?: boolean;
  /** Drop traces with no calls (default true). */
  dropEmpty?: boolean;
  /** Called with each finished trace instead of storing it (bounded memory for one-pass consumers). */
  onTrace?: (trace: Trace) => void;
  /** Most calls held in memory at once, over all traces (default: no limit); past it, E_LIMIT naming the source. */
  maxCalls?: number;
  /** Why whole traces are held, for that error (e.g. "the hmm model trains on whole traces"). */
  heldFor?: string;
  /** Calls the caller holds already (from an earlier collector), counted against maxCalls. */
  heldAlready?: number;
}

class Growing {
  calls = new Uint16Array(256);
  times: Float64Array | undefined;
  n = 0;
  program: string | undefined;
  notes: StreamNote[] = [];
  constructor(withTimes: boolean) {
    if (withTimes) this.times = new Float64Array(256);
  }
  push(sys: number, time: number): void {
    if (this.n === this.calls.length) {
      const c = new Uint16Array(this.n * 2);
      c.set(this.calls);
      this.calls = c;
      if (this.times) {
        const t = new Float64Array(this.n * 2);
        t.set(this.times);
        this.times = t;
      }
    }
    this.calls[this.n] = sys;
    if (this.times) this.times[this.n] = time;
    this.n++;
  }
}

export class TraceCollector implements EventSink {
  readonly traces: Trace[] = [];
  private source: SourceInfo | undefined;
  private streams = new Map<number, Growing>();
  private lastStream = Number.NaN;
  private last: Growing | undefined;
  /** Calls held now, and the most that may be. */
  private held: number;
  private readonly maxCalls: number;

  constructor(private readonly options: CollectorOptions = {}) {
    this.maxCalls = options.maxCalls ?? Number.POSITIVE_INFINITY;
    this.held = options.heldAlready ?? 0;
  }

  beginSource(source: SourceInfo): void {
    this.source = source;
    this.streams = new Map();
    this.lastStream = Number.NaN;
    this.last = undefined;
  }

  call(stream: number, syscall: number, time: number, _ret: number, _args: string | undefined): void {
    let g = this.last;
    if (stream !== this.lastStream || g === undefined) {
      g = this.streams.get(stream);
      if (g === undefined) {
        g = new Growing(this.options.times ?? false);
        this.streams.set(stream, g);
      }
      this.last = g;
      this.lastStream = stream;
    }
    if (++this.held > this.maxCalls) this.overBudget();
    g.push(syscall, time);
  }

  private overBudget(): never {
    const why = this.options.heldFor !== undefined ? ` (${this.options.heldFor})` : "";
    throw new HomeostatError(
      "E_LIMIT",
      `more than ${this.maxCalls} calls to hold in memory${why}: raise the limit with --max-held-calls, or give less input`,
      this.source !== undefined ? { file: this.source.path } : {},
    );
  }

  note(stream: number, note: StreamNote): void {
    let g = this.streams.get(stream);
    if (g === undefined) {
      g = new Growing(this.options.times ?? false);
      this.streams.set(stream, g);
    }
    if (note.kind === "exec" && note.detail !== undefined) g.program = note.detail;
    g.notes.push(note);
  }

  endSource(): void {
    const source = this.source;
    if (source === undefined) return;
    const dropEmpty = this.options.dropEmpty ?? true;
    let nonEmpty = 0;
    for (const g of this.streams.values()) if (g.n > 0) nonEmpty++;
    const multiStream = (dropEmpty ? nonEmpty : this.streams.size) > 1;
    const ids = [...this.streams.keys()].sort((a, b) => a - b);
    for (const id of ids) {
      const g = this.streams.get(id)!;
      if (dropEmpty && g.n === 0) continue;
      const trace: Trace = {
        source,
        stream: id,
        multiStream,
        calls: g.calls.slice(0, g.n),
        notes: g.notes,
      };
      if (g.times) trace.times = g.times.slice(0, g.n);
      if (g.program !== undefined) trace.program = g.program;
      if (this.options.onTrace) {
        this.held -= g.n;
        this.options.onTrace(trace);
      } else this.traces.push(trace);
    }
    this.source = undefined;
    this.streams = new Map();
    this.last = undefined;
  }
}
