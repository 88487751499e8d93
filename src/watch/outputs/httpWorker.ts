// The HTTP output off the engine's thread: the spool (alertSpool.ts) and its sender (httpAlertSink.ts) run in a
// worker thread, so that what an alert costs the thread that scores events is its JSON (made once, for every output)
// and a copy of it into shared memory. Once per turn of the event loop the alerts of that turn go to the worker as
// lines (their JSON and a newline, which JSON never holds raw) with one postMessage; the worker frames them into spool
// records (length, crc32), writes them in one write, fsyncs before acknowledging, posts them to the receiver one at a
// time and acknowledges each, exactly as the in-process output does: the same classes, on another thread.
//
// The worker runs at a lower scheduling priority than the engine (nice 10, Linux): on a busy host, delivery waits
// (its spool holds what comes meanwhile) rather than the scoring of events.
//
// Figures are shared, not sent: the worker keeps its counters (spooled, waiting, delivered, overflowed, ...) in a
// SharedArrayBuffer, updated after each batch and each delivery, and the main thread reads them when asked (a
// Prometheus scrape, the overflow alert's tick, the summary). The last error, a string, comes as a message.
//
// Opening is synchronous, as the in-process spool's is: the main thread waits (Atomics.wait, bounded) until the
// worker has opened the spool (recovering a torn tail, replaying what waits) or failed to, and a failure throws the
// same typed error. Alerts handed over but not yet taken by the worker are bounded too: beyond the spool's size in
// flight, they are refused and counted as overflow, like alerts that do not fit the spool. If the worker dies, the
// output counts what it is then given as overflow (reported by the overflow alert) and says why in lastError.

import { existsSync, readlinkSync } from "node:fs";
import { setPriority } from "node:os";
import { fileURLToPath, pathToFileURL } from "node:url";
import {
  isMainThread,
  MessageChannel,
  type MessagePort,
  receiveMessageOnPort,
  Worker,
  workerData,
} from "node:worker_threads";
import { type ErrorCode, HomeostatError, isHomeostatError } from "../../errors.js";
import { AlertSpool } from "./alertSpool.js";
import type { BackoffOptions } from "./backoff.js";
import { HttpAlertSink, type HttpSinkStats } from "./httpAlertSink.js";
import { httpPoster } from "./httpPost.js";

/** The shared counters, by index in a Float64Array. */
const F = {
  appended: 0,
  pendingRecords: 1,
  pendingBytes: 2,
  acked: 3,
  overflowed: 4,
  replayed: 5,
  damaged: 6,
  writeErrors: 7,
  delivered: 8,
  rejected: 9,
  failures: 10,
  backingOff: 11,
  /** Characters of alert text the worker has taken (to bound what is in flight). */
  taken: 12,
} as const;
const FIELDS = 13;

/** The state buffer's words: the handshake, and how far into the ring (bytes, modulo 2^32) the worker has taken. */
const HANDSHAKE = 0;
const CONSUMED = 1;
/** The handshake: 0 opening, 1 open, 2 failed. */
const OPENING = 0;
const OPEN = 1;
const FAILED = 2;

interface WorkerConfig {
  homeostatHttpOutput: true;
  dir: string;
  name: string;
  maxBytes: number;
  url: string;
  timeoutMs: number;
  userAgent: string;
  backoff?: Omit<BackoffOptions, "random">;
  state: SharedArrayBuffer;
  figures: SharedArrayBuffer;
  ring: SharedArrayBuffer;
  port: MessagePort;
}

type ToWorker =
  | { kind: "ring"; start: number; end: number; upTo: number }
  | { kind: "lines"; buffer: ArrayBuffer; length: number; chars: number }
  | { kind: "retarget"; url: string }
  | { kind: "retry" }
  | { kind: "close"; drainMs: number };

type FromWorker = { kind: "error"; text: string | undefined } | { kind: "closed" };

/** The figures of the HTTP output, as the in-process one gives them. */
export interface HttpOutputFigures extends HttpSinkStats {
  spooled: number;
  spoolPending: number;
  spoolBytes: number;
  overflowed: number;
  replayed: number;
}

// ------------------------------------------------------------------------------------------------ the worker

/**
 * Lowers this thread's scheduling priority (nice 10), on Linux, where a thread has its own (setpriority on its
 * thread id, from /proc/thread-self): when the CPUs are busy, the thread that scores events goes first, and delivery
 * catches up from the spool, which is what it is for. Elsewhere, or if refused, the thread keeps its priority.
 */
function yieldToTheEngine(): void {
  try {
    const tid = Number(readlinkSync("/proc/thread-self").split("/").pop());
    if (Number.isInteger(tid) && tid !== process.pid) setPriority(tid, WORKER_NICENESS);
  } catch {
    // not Linux, or not permitted: the same priority as the engine
  }
}

const WORKER_NICENESS = 10;

function serve(config: WorkerConfig): void {
  yieldToTheEngine();
  const state = new Int32Array(config.state);
  const figures = new Float64Array(config.figures);
  let spool: AlertSpool;
  let sink: HttpAlertSink;
  let closePoster: () => void;
  let lastError: string | undefined;
  const publish = (): void => {
    const s = spool.stats;
    const h = sink.stats;
    figures[F.appended] = s.appended;
    figures[F.pendingRecords] = s.pendingRecords;
    figures[F.pendingBytes] = s.pendingBytes;
    figures[F.acked] = s.acked;
    figures[F.overflowed] = s.overflowed;
    figures[F.replayed] = s.replayed;
    figures[F.damaged] = s.damaged;
    figures[F.writeErrors] = s.writeErrors;
    figures[F.delivered] = h.delivered;
    figures[F.rejected] = h.rejected;
    figures[F.failures] = h.failures;
    figures[F.backingOff] = h.backingOff ? 1 : 0;
    if (h.lastError !== lastError) {
      lastError = h.lastError;
      config.port.postMessage({ kind: "error", text: lastError } satisfies FromWorker);
    }
  };
  try {
    spool = AlertSpool.open({ dir: config.dir, name: config.name, maxBytes: config.maxBytes });
    const poster = httpPoster(config.timeoutMs, config.userAgent);
    closePoster = poster.close;
    sink = new HttpAlertSink({
      url: new URL(config.url),
      spool,
      post: poster.post,
      onProgress: publish,
      ...(config.backoff !== undefined ? { backoff: config.backoff } : {}),
    });
    publish();
  } catch (err) {
    const code: ErrorCode = isHomeostatError(err) ? err.code : "E_IO";
    config.port.postMessage({ code, message: err instanceof Error ? err.message : String(err) });
    Atomics.store(state, HANDSHAKE, FAILED);
    Atomics.notify(state, HANDSHAKE);
    config.port.close();
    return;
  }
  Atomics.store(state, HANDSHAKE, OPEN);
  Atomics.notify(state, HANDSHAKE);
  // What the last run left is sent first, before anything this run raises.
  sink.kick();
  config.port.on("message", (m: ToWorker) => {
    switch (m.kind) {
      case "ring": {
        // Copied out in one go (copies from shared memory record by record are slow), then that part is free.
        const part = Buffer.allocUnsafe(m.end - m.start);
        part.set(new Uint8Array(config.ring, m.start, m.end - m.start));
        Atomics.store(state, CONSUMED, m.upTo | 0);
        const taken = spool.appendLines(part, 0, part.length);
        publish();
        if (taken > 0) sink.kick();
        break;
      }
      case "lines": {
        const taken = spool.appendLines(Buffer.from(m.buffer, 0, m.length), 0, m.length);
        figures[F.taken] = figures[F.taken]! + m.chars;
        publish();
        if (taken > 0) sink.kick();
        break;
      }
      case "retarget":
        sink.retarget(new URL(m.url));
        break;
      case "retry":
        sink.retryNow();
        break;
      case "close":
        void (async () => {
          try {
            await sink.close(m.drainMs);
          } finally {
            closePoster();
            await spool.close();
            publish();
            config.port.postMessage({ kind: "closed" } satisfies FromWorker);
            config.port.close();
          }
        })();
        break;
    }
  });
}

if (!isMainThread && (workerData as WorkerConfig | undefined)?.homeostatHttpOutput === true) {
  serve(workerData as WorkerConfig);
}

// ------------------------------------------------------------------------------------------------ the client

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
  backoff?: Omit<BackoffOptions, "random">;
  /** Milliseconds the opening may take (default 60 s: a 64 MiB spool is read and checked). */
  openTimeoutMs?: number;
}

/**
 * The main thread's side of the HTTP output's worker. Alerts go through a ring of shared memory: each alert's JSON
 * is written there as UTF-8 with a newline, and once per turn the worker is told which part of the ring holds the
 * turn's alerts (one small message); the worker frames them into records, copies them out and says how far it
 * has taken (the CONSUMED word), which frees that part. When the ring has no room (the worker is behind), the
 * turn's remaining alerts go in a buffer of their own instead (bounded too), after the ring's part: order is kept.
 */
export class HttpOutputWorker {
  private url: URL;
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private readonly figures: Float64Array;
  private readonly state: Int32Array;
  private readonly ring: Buffer;
  /** Ring bytes reserved since the start (positions are these modulo the ring's size), and the turn's start. */
  private written = 0;
  private segmentStart = 0;
  /** This turn's alerts that did not fit the ring. */
  private batch: string[] = [];
  private flushScheduled = false;
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
      ...(options.backoff !== undefined ? { backoff: options.backoff } : {}),
      state: stateBuffer,
      figures,
      ring,
      port: channel.port2,
    };
    this.worker = new Worker(script, { workerData: config, transferList: [channel.port2] });
    this.port = channel.port1;
    this.figures = new Float64Array(figures);
    this.ring = Buffer.from(ring);
    const state = new Int32Array(stateBuffer);
    this.state = state;
    Atomics.wait(state, HANDSHAKE, OPENING, options.openTimeoutMs ?? 60_000);
    const outcome = Atomics.load(state, HANDSHAKE);
    if (outcome !== OPEN) {
      const failure = receiveMessageOnPort(this.port)?.message as { code: ErrorCode; message: string } | undefined;
      void this.worker.terminate();
      this.port.close();
      if (failure !== undefined) throw new HomeostatError(failure.code, failure.message);
      throw new HomeostatError("E_IO", `the alert spool in ${options.dir} could not be opened in time`);
    }
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
    if (this.batch.length > 0 || !this.intoRing(json)) {
      if (this.posted - this.figures[F.taken]! + json.length > this.options.maxBytes) {
        this.refused++;
        return;
      }
      this.batch.push(json);
      this.posted += json.length + 1;
    }
    this.handed++;
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flush);
    }
  }

  /** Writes `json` and a newline into the ring, if it has room (at most 3 bytes per UTF-16 unit). */
  private intoRing(json: string): boolean {
    const size = this.ring.length;
    const need = json.length * 3 + 1;
    let pos = this.written % size;
    let used = (this.written - Atomics.load(this.state, CONSUMED)) >>> 0;
    if (pos + need > size) {
      // Not enough room before the ring's end: the turn's part so far goes now, and this alert at the start.
      const skip = size - pos;
      if (used + skip + need > size) return false;
      this.postSegment();
      this.written += skip;
      this.segmentStart = this.written;
      used += skip;
      pos = 0;
    }
    if (used + need > size) return false;
    const n = this.ring.write(json, pos, "utf8");
    this.ring[pos + n] = 0x0a;
    this.written += n + 1;
    return true;
  }

  /** Tells the worker where this turn's alerts are in the ring. */
  private postSegment(): void {
    if (this.written === this.segmentStart) return;
    const start = this.segmentStart % this.ring.length;
    const end = start + (this.written - this.segmentStart);
    this.segmentStart = this.written;
    this.port.postMessage({ kind: "ring", start, end, upTo: this.written } satisfies ToWorker);
  }

  /** Sends the alerts of this turn to the worker: where they are in the ring, then those that did not fit it. */
  private readonly flush = (): void => {
    this.flushScheduled = false;
    if (this.dead !== undefined) return;
    this.postSegment();
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
    const f = this.figures;
    return {
      delivered: f[F.delivered]!,
      rejected: f[F.rejected]!,
      failures: f[F.failures]!,
      backingOff: f[F.backingOff] === 1,
      lastError: this.dead ?? this.lastError,
      spooled: f[F.appended]!,
      spoolPending: f[F.pendingRecords]!,
      spoolBytes: f[F.pendingBytes]!,
      overflowed: f[F.overflowed]! + this.refused,
      replayed: f[F.replayed]!,
    };
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
