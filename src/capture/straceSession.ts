// A running strace capture (started by straceCapture.ts): strace's trace read from its FIFO and parsed into the
// caller's sink as it arrives, the source record written once the root pid is known, stopped on request
// (straceStop.ts), and at the end the traced command's result, or why the trace failed (straceDiagnosis.ts).

import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, readdirSync } from "node:fs";
import net from "node:net";
import { constants as osConstants } from "node:os";
import { HomeostatError } from "../errors.js";
import type { SourceInfo, StreamNote } from "../ingest/event.js";
import { StraceParser } from "../ingest/straceParser.js";
import { CaptureSink } from "./captureSink.js";
import type { ProcessInfo } from "./procIdentity.js";
import type { CaptureTarget, StraceCaptureOptions, StraceCaptureResult } from "./straceCaptureOptions.js";
import { diagnoseStraceFailure } from "./straceDiagnosis.js";
import { StraceStop } from "./straceStop.js";
import { removeTraceFifo, type TraceFifo } from "./traceFifo.js";

interface StraceExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  error: Error | undefined;
}

/** Epoch seconds. */
export function nowSeconds(): number {
  return Date.now() / 1000;
}

/** A running capture: strace's trace parsed into the sink as it arrives, stopped on request, then its result. */
export class StraceSession {
  readonly tracerPid: number;
  readonly done: Promise<StraceCaptureResult>;
  private readonly counted: CaptureSink;
  private readonly parser: StraceParser;
  private readonly child: ChildProcess;
  private readonly reader: net.Socket;
  private readonly stopper: StraceStop;
  /** strace's stderr lines in attach mode, for diagnosing a refusal. */
  private readonly messages: string[] = [];
  private began = false;
  private failure: unknown;
  private anyData = false;
  private exited = false;

  constructor(
    private readonly options: StraceCaptureOptions,
    private readonly target: CaptureTarget,
    private readonly fifo: TraceFifo,
    straceArgs: string[],
    private readonly source: SourceInfo,
    private readonly startedAt: number,
  ) {
    this.counted = new CaptureSink(options.sink);
    this.parser = new StraceParser({
      file: source.path,
      vocab: options.vocab,
      sink: this.counted,
      // A live capture must not die on one odd line (a new strace's new decoration): skip and count it.
      lenient: true,
    });
    this.child = spawnStrace(target, straceArgs, options, fifo);
    this.tracerPid = this.child.pid ?? -1;
    this.reader = new net.Socket({ fd: fifo.readFd, readable: true, writable: false });
    this.reader.on("data", (chunk: Buffer) => this.onData(chunk));
    if (this.child.stderr) this.readMessages(this.child.stderr);
    this.stopper = new StraceStop({
      tracerPid: this.tracerPid,
      attached: target.attachPid !== undefined,
      live: this.counted.live,
      exited: () => this.exited,
      graceMs: options.graceMs ?? 3000,
    });
    const straceDone = this.straceExit();
    const readerDone = this.readerEnd();
    if (target.attachPid !== undefined) {
      try {
        this.begin(target.attachPid);
      } catch (err) {
        this.fail(err);
      }
    }
    this.done = this.finish(straceDone, readerDone);
  }

  /** Ends the capture; a second call skips the grace period. */
  stop(): void {
    this.stopper.request();
  }

  /** Writes the source record once the root pid is known (the first line's, or the attached pid). */
  private begin(rootPid: number | undefined): void {
    if (this.began) return;
    this.began = true;
    this.counted.rootPid = rootPid;
    const meta = this.source.meta;
    if (this.target.command !== undefined && rootPid !== undefined && meta !== undefined) meta.pid = rootPid;
    this.counted.beginSource(this.source);
    if (this.target.attached !== undefined) this.announceAttached(this.target.attached);
  }

  /** The attached process began its program before the trace did: say what it runs, for every thread. */
  private announceAttached(attached: ProcessInfo): void {
    let tids: number[] = [attached.pid];
    try {
      tids = readdirSync(`/proc/${attached.pid}/task`)
        .map(Number)
        .filter((t) => Number.isInteger(t) && t > 0)
        .sort((a, b) => (a === attached.pid ? -1 : b === attached.pid ? 1 : a - b));
    } catch {
      // the process may have gone already; the leader alone is named
    }
    for (const tid of tids) {
      const note: StreamNote = { kind: "exec", time: this.startedAt };
      const exe = attached.exe ?? attached.argv[0];
      if (exe !== undefined) note.detail = exe;
      this.counted.note(tid, note);
    }
  }

  private onData(chunk: Buffer): void {
    if (this.failure !== undefined) return;
    this.anyData = true;
    try {
      if (!this.began) this.begin(leadingPid(chunk));
      this.options.onRawChunk?.(chunk);
      this.parser.write(chunk);
    } catch (err) {
      this.fail(err);
    }
  }

  /**
   * After a failure (a sink that cannot write), strace's output is still read and dropped, so that strace never
   * blocks on a full FIFO while stop() ends it.
   */
  private fail(err: unknown): void {
    if (this.failure === undefined) this.failure = err;
    this.stopper.now();
  }

  /** strace's stderr in attach mode: whole lines, to the caller, and kept for diagnosing a refusal. */
  private readMessages(stderr: NodeJS.ReadableStream): void {
    let carry = "";
    stderr.setEncoding("utf8");
    stderr.on("data", (s: string) => {
      carry += s;
      let nl = carry.indexOf("\n");
      while (nl >= 0) {
        const line = carry.slice(0, nl);
        carry = carry.slice(nl + 1);
        if (this.messages.length < 100) this.messages.push(line);
        this.options.onMessage?.(line);
        nl = carry.indexOf("\n");
      }
    });
    stderr.on("end", () => {
      if (carry !== "") {
        this.messages.push(carry);
        this.options.onMessage?.(carry);
      }
    });
  }

  private straceExit(): Promise<StraceExit> {
    return new Promise<StraceExit>((resolve) => {
      this.child.on("error", (err) => {
        this.exited = true;
        resolve({ code: null, signal: null, error: err });
      });
      this.child.on("close", (code, signal) => {
        this.exited = true;
        resolve({ code, signal, error: undefined });
      });
    });
  }

  private readerEnd(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.reader.on("end", () => resolve());
      this.reader.on("close", () => resolve());
      this.reader.on("error", (err) => {
        if (this.failure === undefined) {
          this.failure = new HomeostatError("E_IO", `reading strace output: ${err.message}`);
        }
        resolve();
      });
    });
  }

  private async finish(straceDone: Promise<StraceExit>, readerDone: Promise<void>): Promise<StraceCaptureResult> {
    const exit = await straceDone;
    this.stopper.clearTimers();
    // strace is gone; with our write end closed too, the reader sees EOF once the FIFO is drained.
    closeSync(this.fifo.holdFd);
    if (this.failure !== undefined) this.reader.destroy();
    await readerDone;
    this.reader.destroy();
    removeTraceFifo(this.fifo);
    const endedAt = nowSeconds();
    this.endTrace(exit);
    if (this.failure !== undefined) throw this.failure;
    const result = this.result(exit, endedAt);
    this.options.onExit?.(result);
    return result;
  }

  /** Finds why the trace failed, if it did, and ends the source (the sink's last word, even after a failure). */
  private endTrace(exit: StraceExit): void {
    if (this.failure === undefined && exit.error !== undefined) {
      this.failure = new HomeostatError(
        "E_DEPENDENCY",
        `cannot run strace: ${exit.error.message}`,
        {},
        { cause: exit.error },
      );
    }
    if (this.failure === undefined && !this.anyData) {
      this.failure = diagnoseStraceFailure(this.target.strace, exit.code, this.messages, this.target.attachPid);
    }
    if (this.failure === undefined) {
      try {
        if (!this.began) this.begin(undefined);
        this.parser.end();
      } catch (err) {
        this.failure = err;
      }
    }
    if (this.began) {
      try {
        this.counted.endSource();
      } catch (err) {
        this.failure ??= err;
      }
    }
  }

  private result(exit: StraceExit, endedAt: number): StraceCaptureResult {
    const { exitCode, signal } = this.exitStatus(exit);
    const counted = this.counted;
    const result: StraceCaptureResult = {
      exitCode,
      calls: counted.calls,
      streams: counted.seen.size,
      execs: counted.execs,
      skippedLines: this.parser.skipped,
      rootPid: counted.rootPid,
      stopped: this.stopper.stopped,
      startedAt: this.startedAt,
      endedAt,
    };
    if (signal !== undefined) result.signal = signal;
    return result;
  }

  /** The traced command's exit status, 128+n for signal n (attached: 0 when homeostat detached first). */
  private exitStatus(exit: StraceExit): { exitCode: number; signal: string | undefined } {
    const counted = this.counted;
    if (this.target.attachPid === undefined) {
      // strace exits with the command's code, or kills itself with the signal that killed the command.
      if (exit.signal !== null) return { exitCode: 128 + (signalNumber(exit.signal) ?? 0), signal: exit.signal };
      return { exitCode: exit.code ?? 1, signal: counted.rootSignal };
    }
    if (counted.rootSignal !== undefined) {
      return { exitCode: 128 + (signalNumber(counted.rootSignal) ?? 0), signal: counted.rootSignal };
    }
    return { exitCode: counted.rootExit ?? 0, signal: undefined };
  }
}

/** Starts strace; E_DEPENDENCY (after removing the FIFO) when it cannot be run at all. */
function spawnStrace(
  target: CaptureTarget,
  straceArgs: string[],
  options: StraceCaptureOptions,
  fifo: TraceFifo,
): ChildProcess {
  try {
    return spawn(target.strace, straceArgs, {
      env: target.env,
      // With a command, strace's stdio is the program's: inherit homeostat's. Attaching, strace's stderr is only
      // its own messages, read to recognise refusals.
      stdio: target.command !== undefined ? (options.programOutput ?? "inherit") : ["ignore", "ignore", "pipe"],
    });
  } catch (err) {
    closeSync(fifo.readFd);
    closeSync(fifo.holdFd);
    removeTraceFifo(fifo);
    throw new HomeostatError("E_DEPENDENCY", `cannot run strace: ${(err as Error).message}`, {}, { cause: err });
  }
}

function signalNumber(name: string): number | undefined {
  const n = (osConstants.signals as Record<string, number | undefined>)[name];
  return n;
}

/** The pid at the start of an `strace -f -o` line (`1234  1700000000.123456 ...`), or undefined. */
function leadingPid(chunk: Uint8Array): number | undefined {
  let v = 0;
  let i = 0;
  while (i < chunk.length && i < 10 && chunk[i]! >= 0x30 && chunk[i]! <= 0x39) v = v * 10 + (chunk[i++]! - 0x30);
  return i > 0 && chunk[i] === 0x20 ? v : undefined;
}
