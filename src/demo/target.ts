// Builds and starts the demonstration target, demo/kvserver.c: an INTENTIONALLY VULNERABLE fork-per-connection
// key-value server listening on 127.0.0.1 only (see demo/README.md). It plays the role of the planted-overflow
// program in Jalaly's evaluation and of the traced daemons in Forrest et al.: a program with several legitimate
// code paths whose exploitation shows up as system calls it never makes normally.

import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { HomeostatError } from "../errors.js";

/** demo/kvserver.c, found from this module both in src/demo and in dist/demo. */
export const TARGET_SOURCE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../demo/kvserver.c");

/**
 * Compiler flags, each one chosen for the exploit demonstration, for this binary only:
 *  -O0                   keeps the call through note.digest an indirect call that reads the (overwritten)
 *                        pointer back from the stack, and keeps `reply` a real function at a fixed address.
 *  -fno-stack-protector  no canary. A canary would not in fact stop this exploit (the overwritten pointer is in the
 *                        same struct as the buffer, below the canary, and is called before the function returns),
 *                        but distributions differ in their default (Ubuntu turns it on), so it is set explicitly.
 *  -no-pie               the executable is mapped at a fixed address, so `reply` and the GOT slot of `read` are
 *                        known from the file alone, although ASLR stays on for the stack, heap and libc.
 *  -g                    debug information only; it does not change the code.
 * No -z execstack: the exploit injects no code (it reuses `reply` and libc's `system`), so the stack stays NX.
 */
export const TARGET_CFLAGS: readonly string[] = ["-O0", "-g", "-fno-stack-protector", "-no-pie", "-std=gnu11"];

const INSTALL_HINT = "install gcc (Debian: apt-get install gcc libc6-dev)";

function run(command: string, args: readonly string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (s: string) => {
      stderr += s;
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stderr }));
  });
}

/**
 * Compiles demo/kvserver.c into `outDir/kvserver` with an argument vector (no shell) and returns the binary's path.
 * The C compiler is `cc` unless `compiler` says otherwise.
 */
export async function buildTarget(outDir: string, compiler = "cc"): Promise<string> {
  if (!existsSync(TARGET_SOURCE)) {
    throw new HomeostatError("E_NOT_FOUND", `demo target source not found: ${TARGET_SOURCE}`, {
      file: TARGET_SOURCE,
    });
  }
  mkdirSync(outDir, { recursive: true });
  const binary = path.join(outDir, "kvserver");
  let result: { code: number | null; stderr: string };
  try {
    result = await run(compiler, [...TARGET_CFLAGS, "-o", binary, TARGET_SOURCE]);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") {
      throw new HomeostatError(
        "E_DEPENDENCY",
        `C compiler '${compiler}' not found: ${INSTALL_HINT}`,
        {},
        { cause: err },
      );
    }
    throw err;
  }
  if (result.code !== 0) {
    // A compiler without libc headers fails here rather than with ENOENT: say what to install either way.
    const hint = /No such file or directory|cannot find/.test(result.stderr) ? ` (${INSTALL_HINT})` : "";
    throw new HomeostatError(
      "E_DEPENDENCY",
      `building the demo target failed${hint}: ${result.stderr.trim().split("\n").slice(0, 3).join(" | ")}`,
      { file: TARGET_SOURCE },
    );
  }
  return binary;
}

export interface StartOptions {
  /** The binary from buildTarget. */
  binary: string;
  /** Where SAVE/LOAD keep store.db; created if absent. */
  dataDir: string;
  /** 0 (the default) lets the kernel choose. */
  port?: number;
  /** A command that wraps the server, e.g. ["strace", "-ff", "-qq", "-o", prefix]; the server's argv follows it. */
  wrapper?: readonly string[];
  /** Milliseconds to wait for the port line; default 10 000. */
  timeoutMs?: number;
}

export interface RunningTarget {
  port: number;
  /** The listening server process (not the wrapper's); every session is a child of it. */
  pid: number;
  process: ChildProcess;
  /** Stops the server (SIGTERM to the server process) and waits for the spawned process to exit. */
  stop(): Promise<void>;
}

/** Starts the server and resolves once it has printed its port and pid (stdout lines 1 and 2). */
export function startTarget(options: StartOptions): Promise<RunningTarget> {
  const { binary, dataDir, port = 0, wrapper = [], timeoutMs = 10_000 } = options;
  mkdirSync(dataDir, { recursive: true });
  const argv = [...wrapper, binary, String(port), dataDir];
  const command = argv[0]!;
  const child = spawn(command, argv.slice(1), { stdio: ["ignore", "pipe", "pipe"] });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return new Promise((resolve, reject) => {
    awaitListening(child, command, timeoutMs, reject, (listenPort, serverPid) =>
      resolve(runningTarget(child, listenPort, serverPid, exited)),
    );
  });
}

/**
 * Calls `listening` with the port and pid the server prints once it listens, or `fail` if it does not within
 * `timeoutMs`, cannot be run, or exits first.
 */
function awaitListening(
  child: ChildProcess,
  command: string,
  timeoutMs: number,
  fail: (e: Error) => void,
  listening: (port: number, pid: number) => void,
): void {
  let out = "";
  let err = "";
  const timer = setTimeout(() => {
    child.kill("SIGKILL");
    fail(new HomeostatError("E_IO", `demo target did not report its port within ${timeoutMs} ms`));
  }, timeoutMs);
  child.on("error", (e: NodeJS.ErrnoException) => {
    clearTimeout(timer);
    fail(
      e.code === "ENOENT"
        ? new HomeostatError("E_DEPENDENCY", `cannot run ${command}: not found`, {}, { cause: e })
        : e,
    );
  });
  child.stderr!.setEncoding("utf8");
  child.stderr!.on("data", (s: string) => {
    err += s;
  });
  const early = (code: number | null) => {
    clearTimeout(timer);
    fail(new HomeostatError("E_IO", `demo target exited (${code}) before listening: ${err.trim()}`));
  };
  child.once("exit", early);
  child.stdout!.setEncoding("utf8");
  child.stdout!.on("data", (s: string) => {
    out += s;
    const m = /^(\d+)\npid (\d+)\n/.exec(out);
    if (m === null) return;
    clearTimeout(timer);
    child.stdout!.removeAllListeners("data");
    child.stdout!.resume();
    child.off("exit", early);
    listening(Number(m[1]), Number(m[2]));
  });
}

function runningTarget(child: ChildProcess, port: number, serverPid: number, exited: Promise<void>): RunningTarget {
  return {
    port,
    pid: serverPid,
    process: child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      try {
        process.kill(serverPid, "SIGTERM");
      } catch {
        // already gone
      }
      await exited;
    },
  };
}
