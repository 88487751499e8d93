// Live capture with strace(1): runs a command under `strace -f -ttt -q -o FIFO -- CMD ARGS...` (or attaches with
// `-p PID`) and streams strace's text through the strace parser into an EventSink while the program runs. This is
// the data-collection step of Forrest et al. (1996): one system-call stream per process (stream = pid/tid), with
// exec notes naming the program each stream runs. Why the options, the FIFO and the stop sequence are what they
// are: docs/strace-capture.md.

import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, existsSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import net from "node:net";
import { constants as osConstants } from "node:os";
import path from "node:path";
import { HomeostatError } from "../errors.js";
import type { EventSink, SourceInfo, StreamNote } from "../ingest/event.js";
import { StraceParser } from "../ingest/straceParser.js";
import type { Vocabulary } from "../syscalls/vocabulary.js";
import { CaptureSink } from "./captureSink.js";
import { findExecutable } from "./executables.js";
import { diagnoseStraceFailure } from "./straceDiagnosis.js";
import { createTraceFifo, removeTraceFifo, type TraceFifo } from "./traceFifo.js";

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

export const STRACE_MISSING = "strace is not installed: apt-get install strace";

/** The strace binary to use, or E_DEPENDENCY. */
export function requireStrace(env: NodeJS.ProcessEnv = process.env): string {
  const found = findExecutable("strace", env.PATH);
  if (found === undefined) throw new HomeostatError("E_DEPENDENCY", STRACE_MISSING);
  return found;
}

export interface ProcessInfo {
  pid: number;
  argv: string[];
  /** The executable (readlink /proc/PID/exe), when readable. */
  exe: string | undefined;
  comm: string | undefined;
}

/** What /proc says about a running process; E_NOT_FOUND when there is no such process. */
export function processInfo(pid: number): ProcessInfo {
  if (!Number.isInteger(pid) || pid < 1) throw new HomeostatError("E_USAGE", `not a process id: ${pid}`);
  const dir = `/proc/${pid}`;
  if (!existsSync(dir)) throw new HomeostatError("E_NOT_FOUND", `no process with pid ${pid}`);
  const read = (f: string): string | undefined => {
    try {
      return readFileSync(path.join(dir, f), "utf8");
    } catch {
      return undefined;
    }
  };
  const cmdline = read("cmdline") ?? "";
  const argv = cmdline.split("\0");
  if (argv.length > 0 && argv[argv.length - 1] === "") argv.pop();
  let exe: string | undefined;
  try {
    exe = readlinkSync(path.join(dir, "exe"));
  } catch {
    exe = undefined;
  }
  return { pid, argv, exe, comm: read("comm")?.trim() };
}

/**
 * Starts tracing. Throws at once (before anything runs) for a missing strace (E_DEPENDENCY), a command that is not
 * found (E_NOT_FOUND), or a pid that does not exist; failures of strace itself reject `done` (E_PERMISSION when
 * ptrace is refused).
 */
export function startStraceCapture(options: StraceCaptureOptions): StraceCapture {
  const target = captureTarget(options);
  const fifo = createTraceFifo(target.env);
  const straceArgs = ["-f", "-ttt", "-q", "-o", fifo.path];
  if (target.command !== undefined) straceArgs.push("--", ...target.command);
  else straceArgs.push("-p", String(target.attachPid));
  const startedAt = nowSeconds();
  const source = sourceRecord(target, straceArgs, startedAt);
  const session = new StraceSession(options, target, fifo, straceArgs, source, startedAt);
  return { tracerPid: session.tracerPid, source, done: session.done, stop: () => session.stop() };
}

/** Checks what to trace: exactly one of a command found on PATH or a live pid other than ours, and strace. */
function captureTarget(options: StraceCaptureOptions): CaptureTarget {
  const env = options.env ?? process.env;
  const command = options.command !== undefined && options.command.length > 0 ? [...options.command] : undefined;
  const attachPid = options.pid;
  if ((command === undefined) === (attachPid === undefined)) {
    throw new HomeostatError("E_USAGE", "give either a command to run or a pid to attach to (not both)");
  }
  const strace = requireStrace(env);
  if (command !== undefined) {
    const argv0 = command[0]!;
    if (findExecutable(argv0, env.PATH) === undefined) {
      throw new HomeostatError("E_NOT_FOUND", `command not found or not executable: ${argv0}`);
    }
    return { strace, env, command, attachPid, attached: undefined };
  }
  const pid = attachPid!;
  if (pid === process.pid) throw new HomeostatError("E_USAGE", "homeostat cannot trace itself");
  return { strace, env, command, attachPid, attached: processInfo(pid) };
}

/** The source record of a capture: what runs, under which strace options, since when. */
function sourceRecord(target: CaptureTarget, straceArgs: string[], startedAt: number): SourceInfo {
  const { command, attachPid, attached } = target;
  const argv = command ?? attached!.argv;
  const argv0 = command !== undefined ? command[0]! : (attached!.argv[0] ?? attached!.comm ?? `pid${attachPid}`);
  return {
    path: `record:${argv0}`,
    format: "strace",
    meta: {
      argv,
      ...(attachPid !== undefined ? { pid: attachPid, attached: true } : {}),
      startedAt: new Date(startedAt * 1000).toISOString(),
      tracer: `strace ${straceArgs.slice(0, 4).join(" ")}`,
    },
  };
}

/** What a capture traces, checked before anything runs. */
interface CaptureTarget {
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

interface StraceExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  error: Error | undefined;
}

/** Epoch seconds. */
function nowSeconds(): number {
  return Date.now() / 1000;
}

/** A running capture: strace's trace parsed into the sink as it arrives, stopped on request, then its result. */
class StraceSession {
  readonly tracerPid: number;
  readonly done: Promise<StraceCaptureResult>;
  private readonly counted: CaptureSink;
  private readonly parser: StraceParser;
  private readonly child: ChildProcess;
  private readonly reader: net.Socket;
  private readonly grace: number;
  private readonly timers: NodeJS.Timeout[] = [];
  /** strace's stderr lines in attach mode, for diagnosing a refusal. */
  private readonly messages: string[] = [];
  private began = false;
  private failure: unknown;
  private stopped = false;
  private stopStage = 0;
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
    this.grace = options.graceMs ?? 3000;
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
    if (this.exited) return;
    if (this.stopped) {
      for (const t of this.timers.splice(0)) clearTimeout(t);
      this.escalate();
      return;
    }
    this.stopNow();
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
    this.stopNow();
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

  private stopNow(): void {
    if (this.exited) return;
    this.stopped = true;
    for (const t of this.timers.splice(0)) clearTimeout(t);
    this.escalate();
  }

  /**
   * The next stop step. A command: SIGINT to every traced process, SIGKILL to them after the grace period, then
   * SIGKILL to strace. Attached: SIGINT, SIGTERM, then SIGKILL to strace, which detaches (the process runs on).
   */
  private escalate(): void {
    if (this.exited) return;
    this.stopStage++;
    const stage = this.stopStage;
    if (this.target.attachPid !== undefined) {
      kill(this.tracerPid, stage === 1 ? "SIGINT" : stage === 2 ? "SIGTERM" : "SIGKILL");
    } else if (stage === 1) {
      for (const pid of this.tracees()) kill(pid, "SIGINT");
    } else if (stage === 2) {
      for (const pid of this.tracees()) kill(pid, "SIGKILL");
    } else {
      kill(this.tracerPid, "SIGKILL");
    }
    if (stage < 3) this.timers.push(setTimeout(() => this.escalate(), stage === 1 ? this.grace : 2000));
  }

  /** Traced processes to signal: those the trace shows alive, and strace's live descendants. */
  private tracees(): Set<number> {
    const set = new Set<number>(this.counted.live);
    if (this.tracerPid > 0) descendants(this.tracerPid, set);
    set.delete(process.pid);
    set.delete(this.tracerPid);
    return set;
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
    for (const t of this.timers.splice(0)) clearTimeout(t);
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
      stopped: this.stopped,
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

function kill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

/** Pids of the live descendants of `pid`, from /proc/PID/task/TID/children (empty where the kernel lacks it). */
function descendants(pid: number, out: Set<number>): void {
  const stack = [pid];
  while (stack.length > 0 && out.size < 1 << 16) {
    const p = stack.pop()!;
    let tasks: string[];
    try {
      tasks = readdirSync(`/proc/${p}/task`);
    } catch {
      continue;
    }
    for (const t of tasks) {
      let text: string;
      try {
        text = readFileSync(`/proc/${p}/task/${t}/children`, "utf8");
      } catch {
        continue;
      }
      for (const c of text.split(" ")) {
        const child = Number(c);
        if (c !== "" && Number.isInteger(child) && child > 0 && !out.has(child)) {
          out.add(child);
          stack.push(child);
        }
      }
    }
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
