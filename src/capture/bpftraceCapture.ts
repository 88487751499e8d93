// System-wide capture through eBPF with bpftrace(8): runs the capture program (bpftraceScript.ts) and streams its
// output through BpftraceOutputParser into a HostEventSink, the host-wide view of pH (Somayaji & Forrest 2000)
// and ebpH (Findlay 2020). How bpftrace is started, excluded from its own trace, stopped, and what is counted as
// lost are in docs/ebpf-capture.md.

import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus } from "node:os";
import { HomeostatError } from "../errors.js";
import {
  checkBpftrace,
  diagnoseBpftraceStart,
  exitText,
  firstError,
  HARMLESS,
  sentence,
} from "./bpftraceAvailability.js";
import { BpftraceOutputParser } from "./bpftraceOutput.js";
import { BATCH, bpftraceScript, NAME_BYTES } from "./bpftraceScript.js";
import type { ExeResolver } from "./execIdentity.js";
import type { HostCapture, HostCaptureStats, HostEventSink } from "./hostEvents.js";

// This file's path is imported by bench/monitor.js and the watch command's tests for these names.
export { bpftraceUnavailableReason } from "./bpftraceAvailability.js";
export { BpftraceOutputParser } from "./bpftraceOutput.js";
export { BATCH } from "./bpftraceScript.js";

/** Default perf ring buffer per CPU, in 4 KiB pages (bpftrace's own default is 64). */
export const DEFAULT_RING_BUFFER_PAGES = 1024;

export interface BpftraceCaptureOptions {
  sink: HostEventSink;
  /** More processes whose calls are not captured (homeostat's own pid and bpftrace's always are). */
  excludePids?: readonly number[];
  /** Perf ring buffer per CPU in 4 KiB pages, a power of two (default DEFAULT_RING_BUFFER_PAGES, scaled down on
   * hosts with more than 64 CPUs so that the buffers stay within 256 MiB). */
  ringBufferPages?: number;
  /** Environment of bpftrace and where it is looked up (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** bpftrace's stderr, line by line (its harmless RLIMIT_MEMLOCK warning left out). */
  onMessage?: (line: string) => void;
  /** Milliseconds stop() waits after SIGINT (bpftrace then runs END) before SIGKILL (default 5000). */
  graceMs?: number;
  /** How exec lines are named (default procExeIdentity). */
  resolveExe?: ExeResolver;
}

export interface BpftraceCapture extends HostCapture {
  /** bpftrace's pid. */
  readonly tracerPid: number;
  /** Resolves when every probe is attached (events from then on are captured); rejects like `done` when
   * bpftrace fails to start. */
  readonly ready: Promise<void>;
}

/**
 * Starts capturing every system call on the host. Throws at once when eBPF capture cannot run here (E_DEPENDENCY
 * or E_PERMISSION, with bpftraceUnavailableReason's sentence); a bpftrace that fails to start rejects `ready` and
 * `done` with one diagnosed sentence.
 */
export function startBpftraceCapture(options: BpftraceCaptureOptions): BpftraceCapture {
  const env = options.env ?? process.env;
  const pages = options.ringBufferPages ?? defaultPages();
  if (!Number.isInteger(pages) || pages < 1 || (pages & (pages - 1)) !== 0 || pages > 1 << 20) {
    throw new HomeostatError("E_USAGE", `the ring buffer size must be a power of two of pages, not ${pages}`);
  }
  const script = bpftraceScript({ excludePids: [process.pid, ...(options.excludePids ?? [])] });
  const found = checkBpftrace(env);
  if ("reason" in found) throw new HomeostatError(found.code, found.reason);
  const run = new BpftraceRun(options, () => spawnBpftrace(found.bpftrace, script, env, pages));
  return { backend: "bpftrace", tracerPid: run.tracerPid, ready: run.ready, done: run.done, stop: () => run.stop() };
}

/** One more than the highest CPU id the kernel may use (/sys/devices/system/cpu/possible, e.g. `0-63`). */
function cpuIdLimit(): number {
  try {
    const ids = readFileSync("/sys/devices/system/cpu/possible", "utf8").match(/\d+/g)?.map(Number) ?? [];
    if (ids.length > 0) return Math.max(...ids) + 1;
  } catch {
    // not Linux's sysfs: the CPUs Node sees
  }
  return Math.max(1, cpus().length);
}

function defaultPages(): number {
  const n = Math.max(1, cpus().length);
  let pages = DEFAULT_RING_BUFFER_PAGES;
  while (pages > 16 && pages * 4096 * n > 256 * 1024 * 1024) pages /= 2;
  return pages;
}

/** Starts bpftrace on the program, passing its own pid as $1 (`exec` keeps the shell's pid, so "$$" is it). */
function spawnBpftrace(bpftrace: string, script: string, env: NodeJS.ProcessEnv, pages: number): ChildProcess {
  return spawn("/bin/sh", ["-c", 'exec "$0" "$@" "$$"', bpftrace, "-e", script], {
    env: {
      ...env,
      BPFTRACE_PERF_RB_PAGES: String(pages),
      BPFTRACE_STRLEN: String(NAME_BYTES),
      BPFTRACE_MAX_TYPE_RES_ITERATIONS: "4",
      // @b holds BATCH slots per CPU; bpftrace's default of 4096 keys would do for 128 CPUs only.
      BPFTRACE_MAP_KEYS_MAX: String(Math.max(4096, cpuIdLimit() * BATCH)),
    },
    stdio: ["ignore", "pipe", "pipe"],
    // Its own session: a terminal's Ctrl-C must not end it behind homeostat's back; only stop() does. If
    // homeostat dies, bpftrace's next write to the closed pipe ends it.
    detached: true,
  });
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  error?: Error;
}

/** A running bpftrace: its output parsed into the sink, its stderr kept for diagnosis, stopped on request. */
class BpftraceRun {
  readonly tracerPid: number;
  readonly ready: Promise<void>;
  readonly done: Promise<HostCaptureStats>;
  private readonly parser: BpftraceOutputParser;
  private readonly startedAt = Date.now() / 1000;
  private readonly messages: string[] = [];
  private readonly graceMs: number;
  private readonly onMessage: ((line: string) => void) | undefined;
  private readyResolve!: () => void;
  private readyReject!: (err: unknown) => void;
  private failure: unknown;
  private stopped = false;
  private exited = false;
  private timer: NodeJS.Timeout | undefined;
  private stderrCarry = "";
  private readonly child: ChildProcess;

  /** `start` spawns bpftrace; it is called once the run is ready to take its output. */
  constructor(options: BpftraceCaptureOptions, start: () => ChildProcess) {
    this.graceMs = options.graceMs ?? 5000;
    this.onMessage = options.onMessage;
    this.ready = new Promise<void>((resolve, reject) => {
      this.readyResolve = resolve;
      this.readyReject = reject;
    });
    // A caller that only awaits `done` must not see an unhandled rejection of `ready`.
    this.ready.catch(() => undefined);
    this.parser = new BpftraceOutputParser({
      sink: options.sink,
      resolveExe: options.resolveExe,
      onReady: () => this.readyResolve(),
    });
    const child = start();
    this.child = child;
    this.tracerPid = child.pid ?? -1;
    child.stdout!.on("data", (chunk: Buffer) => this.onStdout(chunk));
    child.stderr!.setEncoding("utf8");
    child.stderr!.on("data", (s: string) => this.onStderr(s));
    this.done = this.finish(this.exit());
  }

  /** SIGINT (bpftrace then prints its END lines), SIGKILL after the grace period or at a second request. */
  stop(): void {
    if (this.exited) return;
    if (this.stopped) {
      if (this.timer !== undefined) clearTimeout(this.timer);
      this.kill("SIGKILL");
      return;
    }
    this.stopped = true;
    this.kill("SIGINT");
    this.timer = setTimeout(() => this.kill("SIGKILL"), this.graceMs);
  }

  private kill(signal: NodeJS.Signals): void {
    if (this.exited || this.tracerPid < 0) return;
    try {
      process.kill(this.tracerPid, signal);
    } catch {
      // already gone
    }
  }

  private onStdout(chunk: Buffer): void {
    if (this.failure !== undefined) return; // drained and dropped while bpftrace is being stopped
    try {
      this.parser.write(chunk, Date.now() / 1000);
    } catch (err) {
      this.failure = err;
      this.stop();
    }
  }

  private onStderr(s: string): void {
    this.stderrCarry += s;
    let nl = this.stderrCarry.indexOf("\n");
    while (nl >= 0) {
      this.message(this.stderrCarry.slice(0, nl));
      this.stderrCarry = this.stderrCarry.slice(nl + 1);
      nl = this.stderrCarry.indexOf("\n");
    }
  }

  private message(line: string): void {
    if (this.messages.length < 100) this.messages.push(line);
    if (!HARMLESS.test(line)) this.onMessage?.(line);
  }

  /** Resolves when bpftrace has ended; "close" comes after stdout and stderr have ended, so every line is parsed. */
  private exit(): Promise<Exit> {
    return new Promise<Exit>((resolve) => {
      this.child.on("error", (error) => {
        this.exited = true;
        resolve({ code: null, signal: null, error });
      });
      this.child.on("close", (code, signal) => {
        this.exited = true;
        resolve({ code, signal });
      });
    });
  }

  private async finish(exit: Promise<Exit>): Promise<HostCaptureStats> {
    const { code, signal, error } = await exit;
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.stderrCarry !== "") this.message(this.stderrCarry);
    this.parser.end();
    if (this.failure === undefined) this.failure = this.failureOf(code, signal, error);
    if (this.failure !== undefined) {
      this.readyReject(this.failure);
      throw this.failure;
    }
    // Stopped before it was ready: nothing was captured, which is not an error.
    this.readyResolve();
    return this.stats();
  }

  /** Why the run failed when it ended without a failure of its own: not started, or ended unasked. */
  private failureOf(code: number | null, signal: NodeJS.Signals | null, error: Error | undefined): unknown {
    if (error !== undefined) {
      return new HomeostatError(
        "E_DEPENDENCY",
        sentence(`cannot run bpftrace (${error.message})`),
        {},
        {
          cause: error,
        },
      );
    }
    if (!this.parser.ready && !this.stopped) return diagnoseBpftraceStart(code, signal, this.messages);
    if (!this.stopped) {
      return new HomeostatError(
        "E_DEPENDENCY",
        sentence(`bpftrace ended on its own (${exitText(code, signal)}${firstError(this.messages, ": ")})`),
      );
    }
    return undefined;
  }

  private stats(): HostCaptureStats {
    const parser = this.parser;
    const stats: HostCaptureStats = {
      backend: "bpftrace",
      syscalls: parser.syscalls,
      lost: parser.lost,
      skippedLines: parser.skippedLines,
      startedAt: this.startedAt,
      endedAt: Date.now() / 1000,
    };
    if (parser.kernelSyscalls !== undefined) stats.kernelSyscalls = parser.kernelSyscalls;
    return stats;
  }
}
