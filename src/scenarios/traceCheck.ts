// Reads a recording's .strace file back with homeostat's own strace parser (src/ingest/straceParser.ts, strict:
// a line it cannot read is an error (E_IO), not a skip), so that a build never writes a recording homeostat cannot
// read.
// Reports what the sidecar and the checks need: calls, processes, the first and last call times (strace -ttt's
// epoch seconds), the programs exec'd, and for an attack recording how many calls came before and after the attack
// time (LID-DS's exploit time): both must be non-zero for the attack to sit inside normal behaviour.

import { createReadStream } from "node:fs";
import { HomeostatError } from "../errors.js";
import type { EventSink, StreamNote } from "../ingest/event.js";
import { StraceParser } from "../ingest/straceParser.js";
import { Vocabulary } from "../syscalls/vocabulary.js";

export interface TraceFacts {
  calls: number;
  /** Distinct pids/tids that made calls. */
  processes: number;
  /** Epoch seconds of the first and last call. */
  firstTime: number;
  lastTime: number;
  /** Programs exec'd, in order of first appearance. */
  programs: string[];
  /** With an attack time: calls strictly before it, and at or after it. */
  callsBefore: number;
  callsAfter: number;
}

class FactsSink implements EventSink {
  calls = 0;
  readonly streams = new Set<number>();
  firstTime = Number.NaN;
  lastTime = Number.NaN;
  readonly programs: string[] = [];
  callsBefore = 0;
  callsAfter = 0;

  constructor(private readonly attackTime: number | undefined) {}

  beginSource(): void {}
  endSource(): void {}
  call(stream: number, _syscall: number, time: number): void {
    this.calls++;
    this.streams.add(stream);
    if (Number.isFinite(time)) {
      if (!(time >= this.firstTime)) this.firstTime = time;
      if (!(time <= this.lastTime)) this.lastTime = time;
      if (this.attackTime !== undefined) {
        if (time < this.attackTime) this.callsBefore++;
        else this.callsAfter++;
      }
    }
  }
  note(_stream: number, note: StreamNote): void {
    if (note.kind === "exec" && note.detail !== undefined && !this.programs.includes(note.detail)) {
      this.programs.push(note.detail);
    }
  }
}

/** Parses `file` (strict) and returns its facts; E_PARSE on a line homeostat cannot read, E_IO on an empty trace. */
export async function traceFacts(file: string, attackTime?: number): Promise<TraceFacts> {
  const sink = new FactsSink(attackTime);
  const parser = new StraceParser({ file, vocab: new Vocabulary(), sink });
  try {
    for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) parser.write(chunk as Buffer);
    parser.end();
  } catch (err) {
    // strace wrote it, homeostat cannot read it: a problem of this machine's strace, not of the user's input.
    if (!(err instanceof HomeostatError)) throw err;
    throw new HomeostatError(
      "E_IO",
      `homeostat cannot read the trace strace wrote: ${err.oneLine()}`,
      {},
      { cause: err },
    );
  }
  if (sink.calls === 0 || !Number.isFinite(sink.firstTime)) {
    throw new HomeostatError("E_IO", `the recording ${file} holds no timed system call`);
  }
  return {
    calls: sink.calls,
    processes: sink.streams.size,
    firstTime: sink.firstTime,
    lastTime: sink.lastTime,
    programs: sink.programs,
    callsBefore: sink.callsBefore,
    callsAfter: sink.callsAfter,
  };
}
