// Live capture with strace(1): runs a command under `strace -f -ttt -q -o FIFO -- CMD ARGS...` (or attaches with
// `-p PID`) and streams strace's text through the strace parser into an EventSink while the program runs, so a
// capture never needs a temporary text file. This is the data-collection step of Forrest et al. (1996): one
// system-call stream per process (stream = pid/tid), with exec notes naming the program each stream runs.
// -q, not -qq: -qq would also drop the `+++ exited with N +++` lines that become exit notes; -q drops only the
// `Process N attached` messages, which strace writes to its stderr (the program's, with a command).
//
// Why a FIFO in a private directory: the program's stdio must stay homeostat's own (a terminal stays a terminal),
// so the trace cannot share strace's stdout/stderr, and an inherited pipe fd would leak into the program (strace
// opens its -o file close-on-exec, so a FIFO path does not). We hold a write end of the FIFO ourselves until
// strace has exited: the read end then never sees a spurious EOF before strace opens it, and sees the real EOF
// only after everything strace wrote has been read.
//
// Stopping: strace started with a command blocks fatal signals (-I3 is its default with -o), so SIGINT to strace
// does nothing; a terminal's Ctrl-C reaches the program through the process group instead. stop() does what the
// terminal would: SIGINT to every traced process, then SIGKILL after a grace period, then SIGKILL to strace
// (which started the command with PTRACE_O_EXITKILL, so nothing it traces survives it). In --pid mode stop()
// sends SIGINT to strace, which detaches and leaves the process running. Library code installs no signal
// handlers: the CLI wires SIGINT/SIGTERM to stop().

import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import {
  accessSync,
  closeSync,
  constants as fsConstants,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
} from "node:fs";
import net from "node:net";
import { constants as osConstants, tmpdir } from "node:os";
import path from "node:path";
import { HomeostatError } from "../errors.js";
import type { EventSink, SourceInfo, StreamNote } from "../ingest/event.js";
import { StraceParser } from "../ingest/straceParser.js";
import type { Vocabulary } from "../syscalls/vocabulary.js";

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
  /** Ends the capture (see the module header). A second call escalates at once to SIGKILL. */
  stop(): void;
}

export const STRACE_MISSING = "strace is not installed: apt-get install strace";

/** The absolute path of an executable named `name` on PATH (or `name` itself when it has a slash). */
export function findExecutable(name: string, pathVar: string | undefined): string | undefined {
  const usable = (p: string): boolean => {
    try {
      accessSync(p, fsConstants.X_OK);
      return statSync(p).isFile();
    } catch {
      return false;
    }
  };
  if (name.includes("/")) return usable(name) ? path.resolve(name) : undefined;
  for (const dir of (pathVar ?? "").split(":")) {
    if (dir === "") continue;
    const p = path.join(dir, name);
    if (usable(p)) return p;
  }
  return undefined;
}

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

/** kernel.yama.ptrace_scope, or undefined when Yama is absent. */
function ptraceScope(): number | undefined {
  try {
    const n = Number(readFileSync("/proc/sys/kernel/yama/ptrace_scope", "utf8").trim());
    return Number.isInteger(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

/** One sentence on how to allow ptrace here. */
export function ptraceAdvice(attaching: boolean): string {
  const scope = ptraceScope();
  const root = process.getuid?.() === 0;
  if (attaching && scope === 1 && !root) {
    return "kernel.yama.ptrace_scope is 1 (a process may only trace its own children): run homeostat as root, or allow it with `sysctl kernel.yama.ptrace_scope=0`";
  }
  if (attaching && scope === 2) {
    return "kernel.yama.ptrace_scope is 2 (only CAP_SYS_PTRACE may attach): run homeostat as root";
  }
  if (scope === 3) {
    return "kernel.yama.ptrace_scope is 3 (ptrace is disabled until reboot): set it lower at boot (sysctl kernel.yama.ptrace_scope=1)";
  }
  if (attaching) {
    return "attach as the process's owner or as root (CAP_SYS_PTRACE); in a container, grant it (docker run --cap-add=SYS_PTRACE)";
  }
  return "ptrace is blocked here (a container's seccomp or capability policy?): allow it, e.g. docker run --cap-add=SYS_PTRACE --security-opt seccomp=unconfined";
}

/** Epoch seconds. */
function nowSeconds(): number {
  return Date.now() / 1000;
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

/**
 * Forwards events to the caller's sink while keeping the capture's own tallies: calls, distinct streams, the
 * streams believed alive (for stop()), and the root process's fate. Per call it only compares with the last
 * stream, so the hot path stays a counter increment.
 */
class CaptureSink implements EventSink {
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

/** The pid at the start of an `strace -f -o` line (`1234  1700000000.123456 ...`), or undefined. */
function leadingPid(chunk: Uint8Array): number | undefined {
  let v = 0;
  let i = 0;
  while (i < chunk.length && i < 10 && chunk[i]! >= 0x30 && chunk[i]! <= 0x39)
    v = v * 10 + (chunk[i++]! - 0x30);
  return i > 0 && chunk[i] === 0x20 ? v : undefined;
}

/**
 * Starts tracing. Throws at once (before anything runs) for a missing strace (E_DEPENDENCY), a command that is not
 * found (E_NOT_FOUND), or a pid that does not exist; failures of strace itself reject `done` (E_PERMISSION when
 * ptrace is refused).
 */
export function startStraceCapture(options: StraceCaptureOptions): StraceCapture {
  const env = options.env ?? process.env;
  const command =
    options.command !== undefined && options.command.length > 0 ? [...options.command] : undefined;
  const attachPid = options.pid;
  if ((command === undefined) === (attachPid === undefined)) {
    throw new HomeostatError("E_USAGE", "give either a command to run or a pid to attach to (not both)");
  }
  const strace = requireStrace(env);
  let argv: string[];
  let sourceArgv0: string;
  let attached: ProcessInfo | undefined;
  if (command !== undefined) {
    const argv0 = command[0]!;
    if (findExecutable(argv0, env.PATH) === undefined) {
      throw new HomeostatError("E_NOT_FOUND", `command not found or not executable: ${argv0}`);
    }
    argv = command;
    sourceArgv0 = argv0;
  } else {
    const pid = attachPid!;
    if (pid === process.pid) throw new HomeostatError("E_USAGE", "homeostat cannot trace itself");
    attached = processInfo(pid);
    argv = attached.argv;
    sourceArgv0 = attached.argv[0] ?? attached.comm ?? `pid${pid}`;
  }

  const dir = mkdtempSync(path.join(tmpdir(), "homeostat-record-"));
  const fifo = path.join(dir, "strace.fifo");
  let readFd = -1;
  let holdFd = -1;
  try {
    const mkfifo = findExecutable("mkfifo", env.PATH) ?? findExecutable("mkfifo", "/usr/bin:/bin");
    if (mkfifo === undefined) throw new HomeostatError("E_DEPENDENCY", "mkfifo (coreutils) is not installed");
    execFileSync(mkfifo, ["-m", "600", fifo], { stdio: "ignore" });
    readFd = openSync(fifo, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
    holdFd = openSync(fifo, fsConstants.O_WRONLY | fsConstants.O_NONBLOCK);
  } catch (err) {
    if (readFd >= 0) closeSync(readFd);
    rmSync(dir, { recursive: true, force: true });
    if (err instanceof HomeostatError) throw err;
    throw new HomeostatError(
      "E_IO",
      `cannot create the trace FIFO: ${(err as Error).message}`,
      {},
      { cause: err },
    );
  }

  const straceArgs = ["-f", "-ttt", "-q", "-o", fifo];
  if (command !== undefined) straceArgs.push("--", ...command);
  else straceArgs.push("-p", String(attachPid));

  const startedAt = nowSeconds();
  const source: SourceInfo = {
    path: `record:${sourceArgv0}`,
    format: "strace",
    meta: {
      argv,
      ...(attachPid !== undefined ? { pid: attachPid, attached: true } : {}),
      startedAt: new Date(startedAt * 1000).toISOString(),
      tracer: `strace ${straceArgs.slice(0, 4).join(" ")}`,
    },
  };

  const counted = new CaptureSink(options.sink);
  const parser = new StraceParser({
    file: source.path,
    vocab: options.vocab,
    sink: counted,
    // A live capture must not die on one odd line (a new strace's new decoration): skip and count it.
    lenient: true,
  });

  let child: ChildProcess;
  try {
    child = spawn(strace, straceArgs, {
      env,
      // With a command, strace's stdio is the program's: inherit homeostat's. Attaching, strace's stderr is only
      // its own messages, read to recognise refusals.
      stdio: command !== undefined ? (options.programOutput ?? "inherit") : ["ignore", "ignore", "pipe"],
    });
  } catch (err) {
    closeSync(readFd);
    closeSync(holdFd);
    rmSync(dir, { recursive: true, force: true });
    throw new HomeostatError(
      "E_DEPENDENCY",
      `cannot run strace: ${(err as Error).message}`,
      {},
      { cause: err },
    );
  }
  const tracerPid = child.pid ?? -1;

  let began = false;
  let failure: unknown;
  let stopped = false;
  let stopStage = 0;
  let anyData = false;
  let exited = false;
  const timers: NodeJS.Timeout[] = [];
  const messages: string[] = [];

  const begin = (rootPid: number | undefined): void => {
    if (began) return;
    began = true;
    counted.rootPid = rootPid;
    if (command !== undefined && rootPid !== undefined && source.meta !== undefined)
      source.meta.pid = rootPid;
    counted.beginSource(source);
    if (attached !== undefined) {
      // The attached process began its program before the trace did: say what it runs, for every thread.
      let tids: number[] = [attached.pid];
      try {
        tids = readdirSync(`/proc/${attached.pid}/task`)
          .map(Number)
          .filter((t) => Number.isInteger(t) && t > 0)
          .sort((a, b) => (a === attached!.pid ? -1 : b === attached!.pid ? 1 : a - b));
      } catch {
        // the process may have gone already; the leader alone is named
      }
      for (const tid of tids) {
        const note: StreamNote = { kind: "exec", time: startedAt };
        const exe = attached.exe ?? attached.argv[0];
        if (exe !== undefined) note.detail = exe;
        counted.note(tid, note);
      }
    }
  };
  const reader = new net.Socket({ fd: readFd, readable: true, writable: false });

  // After a failure (a sink that cannot write), strace's output is still read and dropped, so that strace never
  // blocks on a full FIFO while stop() ends it.
  const fail = (err: unknown): void => {
    if (failure === undefined) failure = err;
    stopNow();
  };

  reader.on("data", (chunk: Buffer) => {
    if (failure !== undefined) return;
    anyData = true;
    try {
      if (!began) begin(leadingPid(chunk));
      options.onRawChunk?.(chunk);
      parser.write(chunk);
    } catch (err) {
      fail(err);
    }
  });

  // stderr of strace in attach mode: whole lines, to the caller, and kept for diagnosing a refusal.
  if (child.stderr) {
    let carry = "";
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (s: string) => {
      carry += s;
      let nl = carry.indexOf("\n");
      while (nl >= 0) {
        const line = carry.slice(0, nl);
        carry = carry.slice(nl + 1);
        if (messages.length < 100) messages.push(line);
        options.onMessage?.(line);
        nl = carry.indexOf("\n");
      }
    });
    child.stderr.on("end", () => {
      if (carry !== "") {
        messages.push(carry);
        options.onMessage?.(carry);
      }
    });
  }

  const kill = (pid: number, signal: NodeJS.Signals): void => {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  };

  /** Traced processes to signal: those the trace shows alive, and strace's live descendants. */
  const tracees = (): Set<number> => {
    const set = new Set<number>(counted.live);
    if (tracerPid > 0) descendants(tracerPid, set);
    set.delete(process.pid);
    set.delete(tracerPid);
    return set;
  };

  const grace = options.graceMs ?? 3000;
  const escalate = (): void => {
    if (exited) return;
    stopStage++;
    if (attachPid !== undefined) {
      // strace detaches on SIGINT/SIGTERM; SIGKILL leaves the kernel to detach (the process keeps running).
      kill(tracerPid, stopStage === 1 ? "SIGINT" : stopStage === 2 ? "SIGTERM" : "SIGKILL");
    } else if (stopStage === 1) {
      for (const pid of tracees()) kill(pid, "SIGINT");
    } else if (stopStage === 2) {
      for (const pid of tracees()) kill(pid, "SIGKILL");
    } else {
      kill(tracerPid, "SIGKILL");
    }
    if (stopStage < 3) timers.push(setTimeout(escalate, stopStage === 1 ? grace : 2000));
  };
  const stopNow = (): void => {
    if (exited) return;
    stopped = true;
    for (const t of timers.splice(0)) clearTimeout(t);
    escalate();
  };

  let straceCode: number | null = null;
  let straceSignal: NodeJS.Signals | null = null;
  let spawnError: Error | undefined;
  const straceDone = new Promise<void>((resolve) => {
    child.on("error", (err) => {
      spawnError = err;
      exited = true;
      resolve();
    });
    child.on("close", (code, signal) => {
      exited = true;
      straceCode = code;
      straceSignal = signal;
      resolve();
    });
  });

  const readerDone = new Promise<void>((resolve) => {
    reader.on("end", () => resolve());
    reader.on("close", () => resolve());
    reader.on("error", (err) => {
      if (failure === undefined)
        failure = new HomeostatError("E_IO", `reading strace output: ${err.message}`);
      resolve();
    });
  });

  if (attachPid !== undefined) {
    try {
      begin(attachPid);
    } catch (err) {
      fail(err);
    }
  }

  const done = (async (): Promise<StraceCaptureResult> => {
    await straceDone;
    for (const t of timers.splice(0)) clearTimeout(t);
    // strace is gone; with our write end closed too, the reader sees EOF once the FIFO is drained.
    closeSync(holdFd);
    if (failure !== undefined) reader.destroy();
    await readerDone;
    reader.destroy();
    rmSync(dir, { recursive: true, force: true });
    const endedAt = nowSeconds();

    if (failure === undefined && spawnError !== undefined) {
      failure = new HomeostatError(
        "E_DEPENDENCY",
        `cannot run strace: ${spawnError.message}`,
        {},
        { cause: spawnError },
      );
    }
    if (failure === undefined && !anyData) failure = diagnose(strace, straceCode, messages, attachPid);
    if (failure === undefined) {
      try {
        if (!began) begin(undefined);
        parser.end();
      } catch (err) {
        failure = err;
      }
    }
    if (began) {
      try {
        counted.endSource();
      } catch (err) {
        failure ??= err;
      }
    }
    if (failure !== undefined) throw failure;

    let exitCode: number;
    let signal: string | undefined;
    if (attachPid === undefined) {
      // strace exits with the command's code, or kills itself with the signal that killed the command.
      if (straceSignal !== null) {
        signal = straceSignal;
        exitCode = 128 + (signalNumber(straceSignal) ?? 0);
      } else exitCode = straceCode ?? 1;
      if (signal === undefined && counted.rootSignal !== undefined) signal = counted.rootSignal;
    } else if (counted.rootSignal !== undefined) {
      signal = counted.rootSignal;
      exitCode = 128 + (signalNumber(signal) ?? 0);
    } else exitCode = counted.rootExit ?? 0;

    const result: StraceCaptureResult = {
      exitCode,
      calls: counted.calls,
      streams: counted.seen.size,
      execs: counted.execs,
      skippedLines: parser.skipped,
      rootPid: counted.rootPid,
      stopped,
      startedAt,
      endedAt,
    };
    if (signal !== undefined) result.signal = signal;
    options.onExit?.(result);
    return result;
  })();

  return {
    tracerPid,
    source,
    done,
    stop: () => {
      if (exited) return;
      if (stopped) {
        // A second request: skip the grace period.
        for (const t of timers.splice(0)) clearTimeout(t);
        escalate();
        return;
      }
      stopNow();
    },
  };
}

/** Why strace wrote nothing: ptrace refused, the process vanished, or strace failed otherwise. */
function diagnose(
  strace: string,
  code: number | null,
  messages: string[],
  attachPid: number | undefined,
): HomeostatError {
  let text = messages.join("\n");
  if (attachPid === undefined) {
    // strace's message went to the inherited stderr; ask it again on a harmless probe to learn the reason.
    const probe = spawnSync(strace, ["-qq", "-o", "/dev/null", "--", strace, "-V"], {
      encoding: "utf8",
      stdio: ["ignore", "ignore", "pipe"],
      timeout: 10_000,
    });
    text = probe.stderr ?? "";
  }
  if (/Operation not permitted|EPERM/.test(text)) {
    const what = attachPid !== undefined ? `attach to pid ${attachPid}` : "trace the command";
    return new HomeostatError(
      "E_PERMISSION",
      `ptrace is not permitted, cannot ${what}: ${ptraceAdvice(attachPid !== undefined)}`,
    );
  }
  if (attachPid !== undefined && /No such process/.test(text)) {
    return new HomeostatError("E_NOT_FOUND", `no process with pid ${attachPid}`);
  }
  const first = text
    .split("\n")
    .find((l) => l.trim() !== "")
    ?.trim();
  return new HomeostatError(
    "E_DEPENDENCY",
    `strace failed (exit status ${code ?? "?"})${first !== undefined ? `: ${first}` : ""}`,
  );
}
