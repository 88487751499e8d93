// The capture's own tallies of what strace streamed: calls, exec notes, distinct streams, the streams believed
// alive (which stop() signals), and how the traced command's root process ended.

import type { EventSink, SourceInfo, StreamNote } from "../ingest/event.js";

/**
 * Forwards events to the caller's sink while keeping the capture's own tallies: calls, distinct streams, the
 * streams believed alive (for stop()), and the root process's fate. Per call it only compares with the last
 * stream, so the hot path stays a counter increment.
 */
export class CaptureSink implements EventSink {
  calls = 0;
  execs = 0;
  readonly seen = new Set<number>();
  readonly live = new Set<number>();
  rootPid: number | undefined;
  rootExit: number | undefined;
  rootSignal: string | undefined;
  private last = Number.NaN;

  constructor(private readonly sink: EventSink) {}

  beginSource(source: SourceInfo): void {
    this.sink.beginSource(source);
  }

  call(stream: number, syscall: number, time: number, ret: number, args: string | undefined): void {
    this.calls++;
    if (stream !== this.last) this.stream(stream);
    this.sink.call(stream, syscall, time, ret, args);
  }

  note(stream: number, note: StreamNote): void {
    this.stream(stream);
    if (note.kind === "exec") this.execs++;
    else if (note.kind === "exit" || note.kind === "killed") {
      this.live.delete(stream);
      this.last = Number.NaN;
      if (stream === this.rootPid) {
        if (note.kind === "exit") this.rootExit = note.code;
        else this.rootSignal = note.detail;
      }
    }
    this.sink.note(stream, note);
  }

  endSource(): void {
    this.sink.endSource();
  }

  private stream(stream: number): void {
    this.last = stream;
    if (!this.seen.has(stream)) {
      this.seen.add(stream);
      this.live.add(stream);
    }
  }
}
