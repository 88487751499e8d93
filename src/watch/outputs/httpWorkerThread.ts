// The worker thread's side of the HTTP output (its entry is httpWorker.ts, which runs this when loaded as the
// worker): the spool (alertSpool.ts) and its sender (httpAlertSink.ts), the same classes as the in-process output,
// fed with the lines the main thread hands over. The worker yields to the engine: on a busy host, delivery waits (its
// spool holds what comes meanwhile) rather than the scoring of events.

import { readlinkSync } from "node:fs";
import { setPriority } from "node:os";
import type { MessagePort } from "node:worker_threads";
import { type ErrorCode, isHomeostatError } from "../../errors.js";
import { AlertSpool } from "./alertSpool.js";
import { HttpAlertSink } from "./httpAlertSink.js";
import { pipelinedPoster } from "./httpPipeline.js";
import {
  CONSUMED,
  F,
  FAILED,
  type FromWorker,
  HANDSHAKE,
  OPEN,
  type ToWorker,
  type WorkerConfig,
  writeFigures,
} from "./httpWorkerChannel.js";

const WORKER_NICENESS = 10;

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

/** The spool and its sender, open in this thread; `publish` shares their figures with the main thread. */
interface OpenOutput {
  spool: AlertSpool;
  sink: HttpAlertSink;
  closePoster: () => void;
  publish: () => void;
}

/** Opens the spool and its sender; the main thread waits on the handshake until this has succeeded or failed. */
export function serveHttpOutput(config: WorkerConfig): void {
  yieldToTheEngine();
  const state = new Int32Array(config.state);
  const figures = new Float64Array(config.figures);
  let output: OpenOutput;
  try {
    output = openOutput(config, figures);
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
  output.sink.kick();
  config.port.on("message", (m: ToWorker) => take(m, output, config, state, figures));
}

function openOutput(config: WorkerConfig, figures: Float64Array): OpenOutput {
  const spool = AlertSpool.open({ dir: config.dir, name: config.name, maxBytes: config.maxBytes });
  const poster = pipelinedPoster({ timeoutMs: config.timeoutMs, userAgent: config.userAgent });
  let lastError: string | undefined;
  // Called by the sender after each delivery, and here once it exists.
  const publish = (): void => {
    const s = spool.stats;
    const h = sink.stats;
    writeFigures(figures, s, h);
    if (h.lastError !== lastError) {
      lastError = h.lastError;
      config.port.postMessage({ kind: "error", text: lastError } satisfies FromWorker);
    }
  };
  const sink = new HttpAlertSink({
    url: new URL(config.url),
    spool,
    post: poster.post,
    onProgress: publish,
    ...(config.pipeline !== undefined ? { pipeline: config.pipeline } : {}),
    ...(config.backoff !== undefined ? { backoff: config.backoff } : {}),
  });
  publish();
  return { spool, sink, closePoster: poster.close, publish };
}

/** One message from the main thread. */
function take(m: ToWorker, output: OpenOutput, config: WorkerConfig, state: Int32Array, figures: Float64Array): void {
  const { spool, sink, publish } = output;
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
      void closeOutput(output, m.drainMs, config.port);
      break;
  }
}

/** Sends for up to `drainMs`, closes the spool, and tells the main thread it is done. */
async function closeOutput(output: OpenOutput, drainMs: number, port: MessagePort): Promise<void> {
  try {
    await output.sink.close(drainMs);
  } finally {
    output.closePoster();
    await output.spool.close();
    output.publish();
    port.postMessage({ kind: "closed" } satisfies FromWorker);
    port.close();
  }
}
