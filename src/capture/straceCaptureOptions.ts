// What a strace capture (straceCapture.ts) is given, what it returns while it runs, and what it reports at its end;
// and the target it settled on before anything ran.

import type { EventSink, SourceInfo } from "../ingest/event.js";
import type { Vocabulary } from "../syscalls/vocabulary.js";
import type { ProcessInfo } from "./procIdentity.js";

export interface StraceCaptureOptions {
  /** The command and its arguments (an argument vector: never interpreted by a shell). */
  command?: readonly string[] | undefined;
  /** Attach to this running process (and its threads and future children) instead of starting a command. */
  pid?: number | undefined;
  sink: EventSink;
  vocab: Vocabulary;
  /** Called once with the result, just before `done` resolves. */
  onExit?: (result: StraceCaptureResult) => void;
  /** strace's own messages (attach mode only; with a command they go straight to the inherited stderr). */
  onMessage?: (line: string) => void;
  /** Each chunk of strace's text as it arrives (a debugging and testing tap; the chunk may be reused later). */
  onRawChunk?: (chunk: Uint8Array) => void;
  /** Environment of the command and where `strace` and the command are looked up (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Milliseconds stop() waits after SIGINT before SIGKILL (default 3000). */
  graceMs?: number;
  /** The command's stdin/stdout/stderr: homeostat's own (default) or /dev/null (e.g. a server run by the demo). */
  programOutput?: "inherit" | "ignore";
}

export interface StraceCaptureResult {
  /** The traced command's exit status: its exit code, or 128+n when signal n killed it (attach mode: 0 when
   * homeostat detached before the process ended). */
  exitCode: number;
  /** The signal that killed the traced command, when one did. */
  signal?: string;
  /** Calls streamed into the sink. */
  calls: number;
  /** Distinct streams (processes and threads, one per pid/tid) that made calls or had notes. */
  streams: number;
  /** exec notes: successful execve/execveat calls, plus one per thread of the attached process in attach mode. */
  execs: number;
  /** Malformed strace lines skipped (expected 0). */
  skippedLines: number;
  /** The first traced pid (the command's process, or the attached pid). */
  rootPid: number | undefined;
  /** stop() was called before the capture ended on its own. */
  stopped: boolean;
  /** Epoch seconds when tracing started and ended. */
  startedAt: number;
  endedAt: number;
}

export interface StraceCapture {
  /** The strace process's pid. */
  readonly tracerPid: number;
  /** The source record written at the start of the capture. */
  readonly source: SourceInfo;
  /** Resolves when strace has exited and all its output is in the sink (sink.endSource called). */
  readonly done: Promise<StraceCaptureResult>;
  /** Ends the capture (docs/strace-capture.md, "Stopping"). A second call escalates at once to SIGKILL. */
  stop(): void;
}

/** What a capture traces, checked before anything runs. */
export interface CaptureTarget {
  /** The strace binary. */
  strace: string;
  env: NodeJS.ProcessEnv;
  /** The command to run, or undefined when attaching. */
  command: string[] | undefined;
  /** The pid to attach to, or undefined when running a command. */
  attachPid: number | undefined;
  /** What /proc said about the attached process. */
  attached: ProcessInfo | undefined;
}
