// Live detection of one command: runs it under strace capture (src/capture) and scores every system call against
// a trained profile as it happens, one detector state per process or thread, raising alarms through a StreamScorer
// (src/detect). This is the monitoring loop of Hofmeyr, Forrest & Somayaji (1998) and of pH (Somayaji & Forrest
// 2000) for a single program: normal behaviour stays quiet, and a deviation is reported with the calls behind it.
// No I/O of its own beyond the capture: alarms go to a callback, and the caller decides what to print.

import { type StraceCaptureResult, startStraceCapture } from "../capture/straceCapture.js";
import type { Alarm, AlarmRule } from "../detect/alarm.js";
import { StreamScorer } from "../detect/streamScorer.js";
import type { ScoringOptions, TraceSummary } from "../detect/traceScore.js";
import type { EventSink, SourceInfo, StreamNote } from "../ingest/event.js";
import type { Detector } from "../models/detector.js";
import type { Vocabulary } from "../syscalls/vocabulary.js";

export interface MonitoredAlarm extends Alarm {
  /** The program the stream was executing when the alarm fired, when known (from exec notes). */
  program?: string;
}

export interface CommandMonitorOptions extends ScoringOptions {
  /** The command and its arguments: an argument vector, never given to a shell. */
  command: readonly string[];
  detector: Detector;
  /** The profile's vocabulary: calls it has never seen get new ids, which the detector treats as never seen. */
  vocabulary: Vocabulary;
  rule: AlarmRule;
  /** Calls kept per stream for an alarm's window (default 20). */
  context?: number;
  onAlarm?: (alarm: MonitoredAlarm) => void;
  env?: NodeJS.ProcessEnv;
  graceMs?: number;
}

export interface StreamResult {
  stream: number;
  program?: string;
  summary: TraceSummary;
  alarms: number;
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

/** Feeds captured events into the scorer and remembers each stream's program. */
class ScoringSink implements EventSink {
  readonly programs = new Map<number, string>();
  readonly ended: StreamResult[] = [];

  constructor(private readonly scorer: StreamScorer) {}

  beginSource(_source: SourceInfo): void {}

  call(stream: number, syscall: number): void {
    this.scorer.push(stream, syscall);
  }

  note(stream: number, note: StreamNote): void {
    if (note.kind === "exec" && note.detail !== undefined) this.programs.set(stream, note.detail);
  }

  endSource(): void {}

  /** Summaries of every stream, in the order they were first seen. */
  results(): StreamResult[] {
    return this.scorer.streams().map((stream) => {
      const program = this.programs.get(stream);
      return {
        stream,
        ...(program !== undefined ? { program } : {}),
        summary: this.scorer.summary(stream)!,
        alarms: this.scorer.alarmCount(stream),
      };
    });
  }
}

export function monitorCommand(options: CommandMonitorOptions): CommandMonitor {
  let total = 0;
  const scorer = new StreamScorer(options.detector, {
    ...(options.frame !== undefined ? { frame: options.frame } : {}),
    ...(options.window !== undefined ? { window: options.window } : {}),
    alarm: options.rule,
    context: options.context ?? 20,
    onAlarm: (alarm) => {
      total++;
      const program = sink.programs.get(alarm.stream);
      options.onAlarm?.({ ...alarm, ...(program !== undefined ? { program } : {}) });
    },
  });
  const sink = new ScoringSink(scorer);
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
