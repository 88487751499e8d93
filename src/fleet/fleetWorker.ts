// The fleet's stream publishing off the engine's thread: the NATS connection (fleetLink.ts), the publisher and its
// spool (fleetPublisher.ts) run in a worker thread, so that what an alert costs the thread that scores events is
// its JSON (made once, for every output) and a copy into shared memory. Messages go through the ring of shared
// memory the alert output worker uses too (watch/outputs/sharedRing.ts; a postMessage of the strings themselves
// costs ten times more): each as one line, a letter for its kind then its JSON (which never holds a raw newline),
// and once per turn the worker is told which part of the ring holds the turn's lines; it copies them out, says how
// far it has taken (the CONSUMED word, which frees that part), and numbers them (sequence, id, time) in order.
// When the ring is full (the worker behind), the turn's other lines go as one string message, after the ring's.
//
// Figures are shared, not sent: the worker keeps its counters in a SharedArrayBuffer, which the main thread reads
// when asked (heartbeats, the summary). Connection news come as messages. Opening is synchronous, as the alert
// output worker's is (watch/outputs/httpWorker.ts): the main thread waits (bounded) until the worker has opened the
// spool or failed to, and a failure throws the same typed error. What is handed over but not yet taken by the
// worker is bounded by the spool's size; beyond, messages are counted as dropped, like those the spool refuses.

import { readlinkSync } from "node:fs";
import { setPriority } from "node:os";
import { isMainThread, type MessagePort, workerData } from "node:worker_threads";
import { type ErrorCode, isHomeostatError } from "../errors.js";
import type { BackoffOptions } from "../watch/outputs/backoff.js";
import { FleetLink } from "./fleetLink.js";
import type { FleetKind } from "./fleetNames.js";
import { FleetPublisher, type FleetPublisherStats } from "./fleetPublisher.js";
import type { FleetConnectPlan } from "./natsOptions.js";
import { CONSUMED, FAILED, HANDSHAKE, OPEN, type RingSegment } from "../watch/outputs/sharedRing.js";

/** The shared counters, by index in a Float64Array. */
export const F = {
  made: 0,
  published: 1,
  duplicates: 2,
  replayed: 3,
  rejected: 4,
  spooled: 5,
  spoolDropped: 6,
  inflight: 7,
  queued: 8,
  connected: 9,
  connects: 10,
  failures: 11,
  /** Characters of message text the worker has taken (to bound what is in flight). */
  taken: 12,
} as const;
export const FIELDS = 13;

/** The state buffer's words and the handshake's values, as the shared ring defines them. */
export { CONSUMED, FAILED, HANDSHAKE, OPEN, OPENING } from "../watch/outputs/sharedRing.js";

/** One letter per kind in a batch's `kinds`. */
export const KIND_LETTER: Readonly<Record<FleetKind, string>> = { alerts: "a", actions: "c", heartbeats: "h" };
/** The letter of an alert whose program is known: the program id and a space come before its JSON. */
export const ALERT_WITH_PROGRAM = "A";
const LETTER_KIND: Readonly<Record<string, FleetKind>> = { a: "alerts", c: "actions", h: "heartbeats" };

export interface FleetWorkerConfig {
  homeostatFleetPublisher: true;
  host: string;
  run: string;
  plan: FleetConnectPlan;
  spoolDir: string;
  spoolMaxBytes: number;
  replicas?: number;
  window?: number;
  timeoutMs?: number;
  backoff?: Omit<BackoffOptions, "random">;
  state: SharedArrayBuffer;
  figures: SharedArrayBuffer;
  ring: SharedArrayBuffer;
  port: MessagePort;
}

export type ToWorker = RingSegment | { kind: "lines"; text: string } | { kind: "close"; drainMs: number };

export type FromWorker =
  | { kind: "up" }
  | { kind: "down"; reason: string }
  | { kind: "attemptFailed"; reason: string; attempt: number }
  | { kind: "error"; text: string | undefined }
  | { kind: "failed"; code: ErrorCode; message: string }
  | { kind: "closed" };

/**
 * This thread yields to the engine's when the machine is busy: Linux gives each thread its own nice value
 * (setpriority on the thread's id), and the fleet can always catch up later (window, spool) while a scored event
 * cannot wait. Where that is not possible, the thread keeps the process's priority.
 */
function lowerThreadPriority(): void {
  try {
    const tid = Number(readlinkSync("/proc/thread-self").split("/").pop());
    if (Number.isInteger(tid) && tid > 0 && tid !== process.pid) setPriority(tid, 10);
  } catch {
    // not Linux, or not permitted: run at the process's priority
  }
}

function serve(config: FleetWorkerConfig): void {
  lowerThreadPriority();
  const state = new Int32Array(config.state);
  const figures = new Float64Array(config.figures);
  const post = (m: FromWorker): void => config.port.postMessage(m);
  let publisher: FleetPublisher;
  try {
    publisher = new FleetPublisher({
      host: config.host,
      run: config.run,
      spoolDir: config.spoolDir,
      spoolMaxBytes: config.spoolMaxBytes,
      ...(config.window !== undefined ? { window: config.window } : {}),
      ...(config.timeoutMs !== undefined ? { timeoutMs: config.timeoutMs } : {}),
      onFailure: (session, reason) => link.drop(session, reason),
    });
  } catch (err) {
    const code: ErrorCode = isHomeostatError(err) ? err.code : "E_IO";
    post({ kind: "failed", code, message: err instanceof Error ? err.message : String(err) });
    Atomics.store(state, HANDSHAKE, FAILED);
    Atomics.notify(state, HANDSHAKE);
    config.port.close();
    return;
  }
  const link: FleetLink = new FleetLink({
    plan: config.plan,
    ...(config.replicas !== undefined ? { replicas: config.replicas } : {}),
    ...(config.timeoutMs !== undefined ? { timeoutMs: config.timeoutMs } : {}),
    ...(config.backoff !== undefined ? { backoff: config.backoff } : {}),
    onUp: (s) => {
      publisher.up(s);
      post({ kind: "up" });
    },
    onDown: (reason) => {
      publisher.down();
      post({ kind: "down", reason });
    },
    onAttemptFailed: (reason, attempt) => {
      // Until the first attempt fails, messages wait in memory; from then on, in the spool.
      publisher.down();
      post({ kind: "attemptFailed", reason, attempt });
    },
  });
  let lastError: string | undefined;
  const share = (): void => {
    const p: FleetPublisherStats = publisher.stats;
    for (const k of Object.keys(F) as (keyof typeof F)[]) {
      if (k !== "taken" && k !== "connected" && k !== "connects" && k !== "failures") figures[F[k]] = p[k];
    }
    figures[F.connected] = link.stats.connected ? 1 : 0;
    figures[F.connects] = link.stats.connects;
    figures[F.failures] = link.stats.failures;
    if (p.lastError !== lastError) post({ kind: "error", text: (lastError = p.lastError) });
  };
  share();
  Atomics.store(state, HANDSHAKE, OPEN);
  Atomics.notify(state, HANDSHAKE);
  link.start();
  const timer = setInterval(share, 100);
  config.port.on("message", (m: ToWorker) => {
    if (m.kind === "ring") {
      // Copied out in one go (reading shared memory piece by piece is slow), then that part of the ring is free.
      const part = Buffer.allocUnsafe(m.end - m.start);
      part.set(new Uint8Array(config.ring, m.start, m.end - m.start));
      Atomics.store(state, CONSUMED, m.upTo | 0);
      take(publisher, part.toString("utf8"));
      share();
      return;
    }
    if (m.kind === "lines") {
      take(publisher, m.text);
      figures[F.taken] = figures[F.taken]! + m.text.length;
      share();
      return;
    }
    void (async () => {
      try {
        await publisher.close(m.drainMs, pollUntil);
        await link.close();
      } finally {
        clearInterval(timer);
        share();
        post({ kind: "closed" });
        config.port.close();
      }
    })();
  });
}

/**
 * The messages of `text`, in order: one a line, its kind's letter then its JSON; or ALERT_WITH_PROGRAM, the
 * program id, a space, then the alert's JSON.
 */
export function take(publisher: Pick<FleetPublisher, "publish">, text: string): void {
  for (let start = 0; start < text.length;) {
    let nl = text.indexOf("\n", start);
    if (nl < 0) nl = text.length;
    const letter = text[start]!;
    if (letter === ALERT_WITH_PROGRAM) {
      const space = text.indexOf(" ", start);
      if (space > start + 1 && space < nl - 1) {
        publisher.publish("alerts", text.slice(space + 1, nl), text.slice(start + 1, space));
      }
    } else {
      const kind = LETTER_KIND[letter];
      if (kind !== undefined && nl > start + 1) publisher.publish(kind, text.slice(start + 1, nl));
    }
    start = nl + 1;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Checks `until` every 20 ms for up to `ms`. */
export async function pollUntil(until: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!until() && Date.now() < deadline) await sleep(Math.min(20, Math.max(1, deadline - Date.now())));
}

if (!isMainThread && (workerData as FleetWorkerConfig | undefined)?.homeostatFleetPublisher === true) {
  serve(workerData as FleetWorkerConfig);
}
