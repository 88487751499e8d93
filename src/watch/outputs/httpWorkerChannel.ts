// What the HTTP output's two threads share (httpWorker.ts on the main thread, httpWorkerThread.ts in the worker):
// the configuration the worker starts with, the words of shared state (the opening handshake, how far into the ring
// the worker has taken), the layout of the shared figures, and the few messages each way. Figures are shared, not
// sent, so that reading them (a Prometheus scrape, the summary) costs the worker nothing.

import type { MessagePort } from "node:worker_threads";
import type { SpoolStats } from "./alertSpool.js";
import type { BackoffOptions } from "./backoff.js";
import type { HttpSinkStats } from "./httpAlertSink.js";
import type { RingSegment } from "./sharedRing.js";

/** The shared counters, by index in a Float64Array. */
export const F = {
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
export const FIELDS = 13;

/** The state buffer's words and the handshake's values, as the shared ring defines them. */
export { CONSUMED, FAILED, HANDSHAKE, OPEN, OPENING } from "./sharedRing.js";

export interface WorkerConfig {
  homeostatHttpOutput: true;
  dir: string;
  name: string;
  maxBytes: number;
  url: string;
  timeoutMs: number;
  userAgent: string;
  pipeline?: number;
  backoff?: Omit<BackoffOptions, "random">;
  state: SharedArrayBuffer;
  figures: SharedArrayBuffer;
  ring: SharedArrayBuffer;
  port: MessagePort;
}

export type ToWorker =
  | RingSegment
  | { kind: "lines"; buffer: ArrayBuffer; length: number; chars: number }
  | { kind: "retarget"; url: string }
  | { kind: "retry" }
  | { kind: "close"; drainMs: number };

export type FromWorker = { kind: "error"; text: string | undefined } | { kind: "closed" };

/** The figures of the HTTP output, as the in-process one gives them. */
export interface HttpOutputFigures extends HttpSinkStats {
  spooled: number;
  spoolPending: number;
  spoolBytes: number;
  overflowed: number;
  replayed: number;
}

/** The worker's side: the spool's and the sender's counters into the shared figures. */
export function writeFigures(figures: Float64Array, s: Readonly<SpoolStats>, h: HttpSinkStats): void {
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
}

/** The main thread's side: the shared figures, with what was refused before reaching the worker. */
export function readFigures(f: Float64Array, refused: number, lastError: string | undefined): HttpOutputFigures {
  return {
    delivered: f[F.delivered]!,
    rejected: f[F.rejected]!,
    failures: f[F.failures]!,
    backingOff: f[F.backingOff] === 1,
    lastError,
    spooled: f[F.appended]!,
    spoolPending: f[F.pendingRecords]!,
    spoolBytes: f[F.pendingBytes]!,
    overflowed: f[F.overflowed]! + refused,
    replayed: f[F.replayed]!,
  };
}
