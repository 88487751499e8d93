// The HTTP output off the engine's thread: the spool (alertSpool.ts) and its sender (httpAlertSink.ts) run in a worker
// thread, so that what an alert costs the thread that scores events is its JSON (made once, for every output) and a
// copy of it into shared memory. Once per output window (outputWindow.ts; sooner when the ring fills) the alerts
// gathered go to the worker as lines (their JSON and a newline, which JSON never holds raw) with one postMessage; the
// worker frames them into spool records (length, crc32), writes them in one write, fsyncs before acknowledging, posts
// them to the receiver (pipelined, in order) and acknowledges them, exactly as the in-process output does: the same
// classes, on another thread.
//
// The worker runs at a lower scheduling priority than the engine (nice 10, Linux): on a busy host, delivery waits (its
// spool holds what comes meanwhile) rather than the scoring of events.
//
// This file is the worker's entry (started by its own path, httpWorkerScript) and the main thread's side; the worker's
// side is httpWorkerThread.ts, what the two share httpWorkerChannel.ts, and the ring of shared memory sharedRing.ts
// (the fleet's worker uses it too).
//
// Figures are shared, not sent: the worker keeps its counters (spooled, waiting, delivered, overflowed, ...) in a
// SharedArrayBuffer, updated after each batch and each delivery, and the main thread reads them when asked (a
// Prometheus scrape, the overflow alert's tick, the summary). The last error, a string, comes as a message.
//
// Opening is synchronous, as the in-process spool's is: the main thread waits (Atomics.wait, bounded) until the worker
// has opened the spool (recovering a torn tail, replaying what waits) or failed to, and a failure throws the same typed
// error. Alerts handed over but not yet taken by the worker are bounded too: beyond the spool's size in flight, they
// are refused and counted as overflow, like alerts that do not fit the spool. If the worker dies, the output counts
// what it is then given as overflow (reported by the overflow alert) and says why in lastError.

import { existsSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import {
  isMainThread,
  MessageChannel,
  type MessagePort,
  receiveMessageOnPort,
  Worker,
  workerData,
} from "node:worker_threads";
import { type ErrorCode, HomeostatError } from "../../errors.js";
import type { BackoffOptions } from "./backoff.js";
import {
  CONSUMED,
  F,
  FIELDS,
  type FromWorker,
  HANDSHAKE,
  type HttpOutputFigures,
  OPEN,
  OPENING,
  readFigures,
  type ToWorker,
  type WorkerConfig,
} from "./httpWorkerChannel.js";
import { afterWindow } from "./outputWindow.js";
import { SharedRing } from "./sharedRing.js";
import { serveHttpOutput } from "./httpWorkerThread.js";

export type { HttpOutputFigures } from "./httpWorkerChannel.js";

// Loaded as the worker (by httpWorkerScript's path): serve the output in this thread.
if (!isMainThread && (workerData as WorkerConfig | undefined)?.homeostatHttpOutput === true) {
  serveHttpOutput(workerData as WorkerConfig);
}

/**
 * The worker's script: this module's compiled JavaScript. From dist/ that is this very file; under vitest (this
 * file is src/watch/outputs/httpWorker.ts) it is dist/watch/outputs/httpWorker.js beside src/, built by `npm run build`.
 */
export function httpWorkerScript(): URL {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith(".js")) return new URL(import.meta.url);
  const m = /^(.*)[\\/]src([\\/]watch[\\/]outputs[\\/]httpWorker)\.ts$/.exec(here);
  if (m === null) {
    throw new HomeostatError(
      "E_DEPENDENCY",
      `cannot tell where the built alert output worker is (this module is ${here})`,
    );
  }
  return pathToFileURL(`${m[1]}/dist${m[2]!.replaceAll("\\", "/")}.js`);
}

export interface HttpWorkerOptions {
  dir: string;
  name: string;
  maxBytes: number;
  url: URL;
  timeoutMs: number;
  userAgent: string;
  /** POSTs in flight at most (httpAlertSink.ts). */
  pipeline?: number;
  backoff?: Omit<BackoffOptions, "random">;
  /** Milliseconds the opening may take (default 60 s: a 64 MiB spool is read and checked). */
  openTimeoutMs?: number;
}

/** The worker started, with what the two threads share. */
interface StartedWorker {
  worker: Worker;
  port: MessagePort;
  figures: Float64Array;
  state: Int32Array;
  ring: Buffer;
}

/** Starts the worker on `script` with the shared buffers it writes to and a channel of its own. */
function startWorker(script: URL, options: HttpWorkerOptions): StartedWorker {
  const stateBuffer = new SharedArrayBuffer(8);
  const figures = new SharedArrayBuffer(FIELDS * 8);
  const ring = new SharedArrayBuffer(Math.min(Math.max(options.maxBytes, 1 << 20), 8 << 20));
  const channel = new MessageChannel();
  const config: WorkerConfig = {
    homeostatHttpOutput: true,
    dir: options.dir,
    name: options.name,
    maxBytes: options.maxBytes,
    url: options.url.href,
    timeoutMs: options.timeoutMs,
    userAgent: options.userAgent,
    ...(options.pipeline !== undefined ? { pipeline: options.pipeline } : {}),
    ...(options.backoff !== undefined ? { backoff: options.backoff } : {}),
    state: stateBuffer,
    figures,
    ring,
    port: channel.port2,
  };
  const worker = new Worker(script, { workerData: config, transferList: [channel.port2] });
  return {
    worker,
    port: channel.port1,
    figures: new Float64Array(figures),
    state: new Int32Array(stateBuffer),
    ring: Buffer.from(ring),
  };
}

/** Waits (bounded) until the worker has opened the spool; when it has not, ends it and throws its error. */
function awaitOpening(started: StartedWorker, options: HttpWorkerOptions): void {
  const { state, port, worker } = started;
  Atomics.wait(state, HANDSHAKE, OPENING, options.openTimeoutMs ?? 60_000);
  const outcome = Atomics.load(state, HANDSHAKE);
  if (outcome === OPEN) return;
  const failure = receiveMessageOnPort(port)?.message as { code: ErrorCode; message: string } | undefined;
  void worker.terminate();
  port.close();
  if (failure !== undefined) throw new HomeostatError(failure.code, failure.message);
  throw new HomeostatError("E_IO", `the alert spool in ${options.dir} could not be opened in time`);
}

/**
 * The main thread's side of the HTTP output's worker. Alerts go through a ring of shared memory (sharedRing.ts):
 * once per turn the worker is told which part of the ring holds the turn's alerts (one small message). When the ring
 * has no room (the worker is behind), the turn's remaining alerts go in a buffer of their own instead (bounded too),
 * after the ring's part: order is kept.
 */
export class HttpOutputWorker {
  private url: URL;
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private readonly figures: Float64Array;
  private readonly ring: SharedRing;
  /** This window's alerts that did not fit the ring. */
  private batch: string[] = [];
  private flushTimer: NodeJS.Timeout | undefined;
  private flushSoon = false;
  /** Alerts handed to the worker; characters of them sent outside the ring; alerts refused here. */
  private handed = 0;
  private posted = 0;
  private refused = 0;
  private lastError: string | undefined;
  private dead: string | undefined;
  private closed = false;
  private closing: Promise<void> | undefined;

  /** Starts the worker and waits until it has opened the spool; throws (typed) when it cannot. */
  constructor(private readonly options: HttpWorkerOptions) {
    this.url = options.url;
    const script = httpWorkerScript();
    if (script.protocol === "file:" && !existsSync(fileURLToPath(script))) {
      throw new HomeostatError(
        "E_DEPENDENCY",
        `the alert output worker ${fileURLToPath(script)} is missing (npm run build makes it)`,
      );
    }
    const started = startWorker(script, options);
    this.worker = started.worker;
    this.port = started.port;
    this.figures = started.figures;
    this.ring = new SharedRing(started.ring, started.state, CONSUMED, (segment) =>
      this.port.postMessage(segment satisfies ToWorker),
    );
    awaitOpening(started, options);
    this.port.on("message", (m: FromWorker) => {
      if (m.kind === "error") this.lastError = m.text;
    });
    // The worker does not keep watch alive on its own: watch closes it at its end (close).
    this.worker.unref();
    this.port.unref();
    this.worker.on("error", (err) => this.died(err.message));
    this.worker.on("exit", (code) => this.died(`exit code ${code}`));
  }

  get target(): URL {
    return this.url;
  }

  /** Hands one alert's JSON over (the worker gets it with the others of this turn). */
  append(json: string): void {
    if (this.closed) return;
    if (this.dead !== undefined) {
      this.refused++;
      return;
    }
    if (this.batch.length > 0 || !this.ring.write(json)) {
      if (this.posted - this.figures[F.taken]! + json.length > this.options.maxBytes) {
        this.refused++;
        return;
      }
      this.batch.push(json);
      this.posted += json.length + 1;
    }
    this.handed++;
    this.flushTimer ??= afterWindow(this.flush);
    // A ring filling up goes at the end of this turn, not after the wait.
    if (!this.flushSoon && (this.batch.length > 0 || this.ring.unposted > this.ring.size / 4)) {
      this.flushSoon = true;
      setImmediate(this.flush);
    }
  }

  /** Sends the window's alerts to the worker: where they are in the ring, then those that did not fit it. */
  private readonly flush = (): void => {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    this.flushSoon = false;
    if (this.dead !== undefined) return;
    this.ring.postSegment();
    if (this.batch.length === 0) return;
    // Lines in a buffer of their own, handed over (transferred, not copied); not one joined string, which would be
    // a large object on this thread's heap that only a full collection frees.
    let size = 0;
    let chars = 0;
    for (const json of this.batch) {
      size += Buffer.byteLength(json, "utf8") + 1;
      chars += json.length + 1;
    }
    const lines = Buffer.allocUnsafeSlow(size);
    let at = 0;
    for (const json of this.batch) {
      at += lines.write(json, at, "utf8");
      lines[at++] = 0x0a;
    }
    this.batch = [];
    this.port.postMessage({ kind: "lines", buffer: lines.buffer, length: at, chars } satisfies ToWorker, [
      lines.buffer,
    ]);
  };

  retarget(url: URL): void {
    this.url = url;
    this.port.postMessage({ kind: "retarget", url: url.href } satisfies ToWorker);
  }

  retryNow(): void {
    this.port.postMessage({ kind: "retry" } satisfies ToWorker);
  }

  get stats(): HttpOutputFigures {
    return readFigures(this.figures, this.refused, this.dead ?? this.lastError);
  }

  /** Hands over what is left, lets the worker send for up to `drainMs`, close the spool, and end. */
  close(drainMs: number): Promise<void> {
    this.closing ??= this.shut(drainMs);
    return this.closing;
  }

  private async shut(drainMs: number): Promise<void> {
    this.flush();
    this.closed = true;
    if (this.dead === undefined) {
      this.port.ref();
      const closed = new Promise<void>((resolve) => {
        const done = (): void => resolve();
        this.port.on("message", (m: FromWorker) => {
          if (m.kind === "closed") done();
        });
        this.port.once("close", done);
        this.worker.once("exit", done);
      });
      this.port.postMessage({ kind: "close", drainMs } satisfies ToWorker);
      await closed;
    }
    this.closed = true;
    await this.worker.terminate();
    this.port.close();
  }

  private died(why: string): void {
    if (this.dead !== undefined || this.closed) return;
    this.dead = `the alert output worker stopped (${why})`;
    // What it had not taken is lost with it: counted as not delivered.
    const f = this.figures;
    this.refused += Math.max(0, this.handed - f[F.appended]! - f[F.overflowed]!);
    this.batch = [];
  }
}
