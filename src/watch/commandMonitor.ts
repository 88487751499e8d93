// Live detection of one command: runs it under strace capture (src/capture) and scores every system call against
// one or more trained models as it happens, one detector state per process or thread, raising alarms through a
// StreamScorer (src/detect) per model. This is the monitoring loop of Hofmeyr, Forrest & Somayaji (1998) and of pH
// (Somayaji & Forrest 2000) for a single program: normal behaviour stays quiet, and a deviation is reported with
// the calls behind it. Several models score the same capture side by side, so that a comparison of models (the
// demo) costs one traced run, not one per model.
// No I/O of its own beyond the capture: alarms go to a callback, and the caller decides what to print.

import { type StraceCaptureResult, startStraceCapture } from "../capture/straceCapture.js";
import type { Alarm, AlarmRule } from "../detect/alarm.js";
import { StreamScorer } from "../detect/streamScorer.js";
import type { ScoringOptions, TraceSummary } from "../detect/traceScore.js";
import { HomeostatError } from "../errors.js";
import type { EventSink, SourceInfo, StreamNote } from "../ingest/event.js";
import type { Detector } from "../models/detector.js";
import type { Vocabulary } from "../syscalls/vocabulary.js";

/** One model watching the command, with its own alarm rule (thresholds are per model: their signals differ). */
export interface MonitoredModel {
  /** A name for reports, e.g. "stide:k=6". */
  name: string;
  detector: Detector;
  rule: AlarmRule;
}

export interface MonitoredAlarm extends Alarm {
  /** The model that raised it. */
  model: string;
  /** The program the stream was executing when the alarm fired, when known (from exec notes). */
  program?: string;
}

export interface CommandMonitorOptions extends ScoringOptions {
  /** The command and its arguments: an argument vector, never given to a shell. */
  command: readonly string[];
  /** One model (with `rule`), or several through `models`. */
  detector?: Detector;
  rule?: AlarmRule;
  models?: readonly MonitoredModel[];
  /** The profile's vocabulary: calls it has never seen get new ids, which the detector treats as never seen. */
  vocabulary: Vocabulary;
  /** Calls kept per stream for an alarm's window (default 20). */
  context?: number;
  onAlarm?: (alarm: MonitoredAlarm) => void;
  /** Every call as it is scored (stream, vocabulary id, return value or NaN), e.g. to notice that a server listens. */
  onCall?: (stream: number, syscall: number, ret: number) => void;
  /** Keep every call's signal per stream and model (for timelines); default false. */
  keepSignals?: boolean;
  env?: NodeJS.ProcessEnv;
  graceMs?: number;
}

export interface StreamModelResult {
  model: string;
  summary: TraceSummary;
  alarms: number;
  /** Per-call signals (NaN = none), when `keepSignals` was set. */
  signals?: Float64Array;
}

export interface StreamResult {
  stream: number;
  program?: string;
  /** The first model's summary (the only model's, with `detector`). */
  summary: TraceSummary;
  /** Alarms of all models on this stream. */
  alarms: number;
  /** Per model, in the order of `models`. */
  models: StreamModelResult[];
  /** The stream's calls (vocabulary ids), when `keepSignals` was set. */
  calls?: Uint16Array;
}

export interface CommandMonitorResult {
  capture: StraceCaptureResult;
  alarms: number;
  /** Every stream (process or thread) that made calls, with its summary. */
  streams: StreamResult[];
}

export interface CommandMonitor {
  readonly done: Promise<CommandMonitorResult>;
  /** Stops the command and the tracer (what Ctrl-C does); `done` still resolves with what was scored. */
  stop(): void;
}

/** A growable array of numbers, doubling as it fills. */
class Growing<T extends Float64Array | Uint16Array> {
  n = 0;
  constructor(private data: T) {}
  push(v: number): void {
    if (this.n === this.data.length) {
      const next = new (this.data.constructor as new (n: number) => T)(this.n * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.n++] = v;
  }
  values(): T {
    return this.data.slice(0, this.n) as T;
  }
}

/** Feeds captured events into every model's scorer and remembers each stream's program. */
class ScoringSink implements EventSink {
  readonly programs = new Map<number, string>();
  private readonly signals: Map<number, Growing<Float64Array>[]> | undefined;
  private readonly calls: Map<number, Growing<Uint16Array>> | undefined;

  constructor(
    private readonly models: readonly MonitoredModel[],
    private readonly scorers: readonly StreamScorer[],
    private readonly onCall: ((stream: number, syscall: number, ret: number) => void) | undefined,
    keepSignals: boolean,
  ) {
    if (keepSignals) {
      this.signals = new Map();
      this.calls = new Map();
    }
  }

  beginSource(_source: SourceInfo): void {}

  call(stream: number, syscall: number, _time: number, ret: number): void {
    const kept = this.signals === undefined ? undefined : this.keptFor(stream);
    for (let m = 0; m < this.scorers.length; m++) {
      const signal = this.scorers[m]!.push(stream, syscall);
      kept?.[m]!.push(signal);
    }
    this.calls?.get(stream)!.push(syscall);
    this.onCall?.(stream, syscall, ret);
  }

  private keptFor(stream: number): Growing<Float64Array>[] {
    let kept = this.signals!.get(stream);
    if (kept === undefined) {
      kept = this.models.map(() => new Growing(new Float64Array(256)));
      this.signals!.set(stream, kept);
      this.calls!.set(stream, new Growing(new Uint16Array(256)));
    }
    return kept;
  }

  note(stream: number, note: StreamNote): void {
    if (note.kind === "exec" && note.detail !== undefined) this.programs.set(stream, note.detail);
  }

  endSource(): void {}

  /** Summaries of every stream, in the order they were first seen. */
  results(): StreamResult[] {
    const first = this.scorers[0]!;
    return first.streams().map((stream) => {
      const program = this.programs.get(stream);
      const kept = this.signals?.get(stream);
      const models = this.scorers.map((s, m) => ({
        model: this.models[m]!.name,
        summary: s.summary(stream)!,
        alarms: s.alarmCount(stream),
        ...(kept !== undefined ? { signals: kept[m]!.values() } : {}),
      }));
      const calls = this.calls?.get(stream)?.values();
      return {
        stream,
        ...(program !== undefined ? { program } : {}),
        summary: models[0]!.summary,
        alarms: models.reduce((n, r) => n + r.alarms, 0),
        models,
        ...(calls !== undefined ? { calls } : {}),
      };
    });
  }
}

function modelsOf(options: CommandMonitorOptions): readonly MonitoredModel[] {
  if (options.models !== undefined) {
    if (options.detector !== undefined) {
      throw new HomeostatError("E_USAGE", "monitorCommand: give `detector` or `models`, not both");
    }
    if (options.models.length === 0) throw new HomeostatError("E_USAGE", "monitorCommand: no model to score with");
    return options.models;
  }
  if (options.detector === undefined || options.rule === undefined) {
    throw new HomeostatError("E_USAGE", "monitorCommand: give a detector and its alarm rule");
  }
  return [{ name: options.detector.kind, detector: options.detector, rule: options.rule }];
}

export function monitorCommand(options: CommandMonitorOptions): CommandMonitor {
  const models = modelsOf(options);
  let total = 0;
  const scorers = models.map(
    (model) =>
      new StreamScorer(model.detector, {
        ...(options.frame !== undefined ? { frame: options.frame } : {}),
        ...(options.window !== undefined ? { window: options.window } : {}),
        alarm: model.rule,
        context: options.context ?? 20,
        onAlarm: (alarm) => {
          total++;
          const program = sink.programs.get(alarm.stream);
          options.onAlarm?.({ ...alarm, model: model.name, ...(program !== undefined ? { program } : {}) });
        },
      }),
  );
  const sink = new ScoringSink(models, scorers, options.onCall, options.keepSignals ?? false);
  const capture = startStraceCapture({
    command: options.command,
    sink,
    vocab: options.vocabulary,
    ...(options.env !== undefined ? { env: options.env } : {}),
    ...(options.graceMs !== undefined ? { graceMs: options.graceMs } : {}),
  });
  const done = capture.done.then((result) => ({ capture: result, alarms: total, streams: sink.results() }));
  return { done, stop: () => capture.stop() };
}
