// The strace backend of the host monitor: one command (and all its descendants) or one running process traced
// with `strace -f` (straceCapture.ts), its events turned into host events (hostEvents.ts): per-thread streams get
// their process from /proc, exec notes become exec events with the executable's device and inode, clone returns
// become fork events, syscall names become x86_64 numbers. This is what `homeostat watch` uses where eBPF is not
// available, and to watch a single service; ptrace slows the traced program, which eBPF does not.

import { HomeostatError } from "../errors.js";
import type { EventSink, SourceInfo, StreamNote } from "../ingest/event.js";
import { syscallTable } from "../syscalls/abi.js";
import { Vocabulary } from "../syscalls/vocabulary.js";
import type { ExeIdentity, HostCapture, HostCaptureStats, HostEventSink } from "./hostEvents.js";
import { identifyExecTarget, identifyProcess, threadGroupOf } from "./procIdentity.js";
import { type StraceCapture, type StraceCaptureResult, startStraceCapture } from "./straceCapture.js";

export interface StraceHostCaptureOptions {
  command?: readonly string[];
  pid?: number;
  sink: HostEventSink;
  env?: NodeJS.ProcessEnv;
  graceMs?: number;
  programOutput?: "inherit" | "ignore";
  onMessage?: (line: string) => void;
}

export interface StraceHostCapture extends HostCapture {
  /** strace's pid: the responder must never act on it. */
  readonly tracerPid: number;
  /** The underlying capture's result (the command's exit status). */
  readonly result: Promise<StraceCaptureResult>;
}

const X86_64 = syscallTable("x86_64");
const CLONE_NAMES = new Set(["clone", "clone3", "fork", "vfork"]);

/** Turns the strace parser's per-tid events into host events. */
class HostAdapter implements EventSink {
  /** Vocabulary id -> x86_64 number (-1: not an x86_64 call, -2: not looked up yet). */
  private numbers = new Int32Array(512).fill(-2);
  private readonly clones = new Set<number>();
  private readonly tgid = new Map<number, number>();
  syscalls = 0;
  unknown = 0;

  constructor(
    private readonly vocab: Vocabulary,
    private readonly sink: HostEventSink,
  ) {}

  beginSource(_source: SourceInfo): void {}

  private numberOf(id: number): number {
    if (id >= this.numbers.length) {
      const next = new Int32Array(Math.max(id + 1, this.numbers.length * 2)).fill(-2);
      next.set(this.numbers);
      this.numbers = next;
    }
    let n = this.numbers[id]!;
    if (n === -2) {
      const token = this.vocab.token(id);
      n = X86_64.numberOf(token) ?? -1;
      this.numbers[id] = n;
      if (CLONE_NAMES.has(token)) this.clones.add(id);
    }
    return n;
  }

  private pidOf(tid: number): number {
    let pid = this.tgid.get(tid);
    if (pid === undefined) {
      pid = threadGroupOf(tid) ?? tid;
      this.tgid.set(tid, pid);
    }
    return pid;
  }

  call(tid: number, id: number, time: number, ret: number): void {
    const nr = this.numberOf(id);
    if (nr < 0) {
      this.unknown++;
      return;
    }
    const pid = this.pidOf(tid);
    this.syscalls++;
    this.sink.syscall(pid, tid, nr, time);
    if (ret > 0 && this.clones.has(id)) {
      // The child may already have made calls (strace prints the parent's return when the parent resumes).
      const childTid = ret;
      const childPid = threadGroupOf(childTid) ?? childTid;
      this.tgid.set(childTid, childPid);
      this.sink.fork(pid, tid, childPid, childTid, time);
    }
  }

  note(tid: number, note: StreamNote): void {
    if (note.kind === "exec") {
      // A thread that execs becomes its process's leader; strace reports it under the leader's id already.
      const pid = threadGroupOf(tid) ?? tid;
      this.tgid.set(tid, pid);
      this.sink.exec(pid, tid, execIdentity(tid, note.detail), note.time);
    } else if (note.kind === "exit" || note.kind === "killed") {
      this.sink.exit(this.pidOf(tid), tid, note.time);
      this.tgid.delete(tid);
    }
  }

  endSource(): void {}
}

/**
 * The program an exec note's task runs: /proc's answer when it is the file the exec named (its path is the one the
 * kernel shows), the named file (or its script's interpreter) when /proc shows another, since the task has exec'd
 * again before its line was read; /proc's alone when the trace does not name the file.
 */
export function execIdentity(tid: number, file: string | undefined): ExeIdentity | undefined {
  const now = identifyProcess(tid);
  const ran = file !== undefined ? identifyExecTarget(tid, file) : undefined;
  if (ran === undefined) return now;
  return now !== undefined && now.dev === ran.dev && now.ino === ran.ino ? now : ran;
}

/** Starts `strace -f` on a command or a pid, delivering host events; throws what startStraceCapture throws. */
export function startStraceHostCapture(options: StraceHostCaptureOptions): StraceHostCapture {
  if ((options.command === undefined) === (options.pid === undefined)) {
    throw new HomeostatError("E_USAGE", "the strace backend watches a command or a pid: give one of them");
  }
  const vocab = new Vocabulary();
  const adapter = new HostAdapter(vocab, options.sink);
  const capture: StraceCapture = startStraceCapture({
    ...(options.command !== undefined ? { command: options.command } : {}),
    ...(options.pid !== undefined ? { pid: options.pid } : {}),
    sink: adapter,
    vocab,
    ...(options.env !== undefined ? { env: options.env } : {}),
    ...(options.graceMs !== undefined ? { graceMs: options.graceMs } : {}),
    ...(options.programOutput !== undefined ? { programOutput: options.programOutput } : {}),
    ...(options.onMessage !== undefined ? { onMessage: options.onMessage } : {}),
  });
  const done = capture.done.then((r): HostCaptureStats => ({
    backend: "strace",
    syscalls: adapter.syscalls,
    lost: 0,
    skippedLines: r.skippedLines + adapter.unknown,
    startedAt: r.startedAt,
    endedAt: r.endedAt,
  }));
  return {
    backend: "strace",
    tracerPid: capture.tracerPid,
    result: capture.done,
    done,
    stop: () => capture.stop(),
  };
}
