// `homeostat watch` as a library, and its composition root: a capture backend (bpftrace system-wide, or strace on a
// command or pid; watchCapture.ts) feeds the host monitor engine (src/engine); the engine's profiles are kept in the
// state store (src/store), saved periodically and at the end (profileSaver.ts); its alerts and the responder's
// actions are recorded there too (watchRecords.ts); changes an administrator made to stored profiles are picked up
// while running; static models of each executable are derived and checked (staticModels.ts). This is pH's daemon
// loop (Somayaji & Forrest 2000; ebpH's daemon) in user space. It prints nothing: alerts and actions go to
// callbacks; the CLI decides what the terminal sees. Alerts also go to the output plugins the caller opened
// (outputs/alertOutputs.ts: HTTP with a spool, syslog), and the Prometheus metrics (outputs/metricsRegistry.ts) read
// the parts' counters when scraped. The parts are made and wired to each other in watchParts.ts; this file starts
// them, runs their timers and ends them in order; the summary is watchSummary.ts.

import type { HostCaptureStats } from "../capture/hostEvents.js";
import { taskAlive } from "../capture/procIdentity.js";
import type { StraceCaptureResult } from "../capture/straceCapture.js";
import type { HostMonitor } from "../engine/hostMonitor.js";
import { isHomeostatError } from "../errors.js";
import { WriterLock } from "../store/writerLock.js";
import type { HostWatchOptions } from "./hostWatchOptions.js";
import { startWatchCapture, type WatchBackend } from "./watchCapture.js";
import { watchMetricsSource } from "./watchMetricsSource.js";
import { makeParts, monitorSink, type WatchParts } from "./watchParts.js";
import { WatchRun } from "./watchRun.js";
import { type HostWatchSummary, summarise } from "./watchSummary.js";
import type { WatchObservers } from "./watchObserver.js";

export type { HostWatchOptions } from "./hostWatchOptions.js";
export { STATIC_POLICIES, type StaticPolicy, staleness } from "./staticModels.js";
export { profileFactory, profileRecord, restoreProfile } from "./storedProfiles.js";
export type { WatchBackend } from "./watchCapture.js";
export type { SavedProfile, WatchObserver } from "./watchObserver.js";
export type { HostWatchSummary, StaticWatchStats } from "./watchSummary.js";

export interface HostWatch {
  readonly monitor: HostMonitor;
  readonly backend: WatchBackend;
  /** The tracer's pid (strace or bpftrace). */
  readonly tracerPid: number | undefined;
  /** Resolves when the capture is attached (bpftrace's probes; at once for strace); rejects when it failed. */
  readonly ready: Promise<void>;
  readonly done: Promise<HostWatchSummary>;
  /** Ends the capture; `done` resolves once every profile, alert and action is stored. */
  stop(): void;
}

/**
 * Starts watching, holding the state directory's writer lock until `done` settles: a second watch on the same
 * directory is refused (E_LOCKED, naming the first's pid) instead of losing one's training to the other's saves.
 */
export function startHostWatch(options: HostWatchOptions): HostWatch {
  const lock = WriterLock.acquire(options.store.dir);
  let watch: HostWatch;
  try {
    watch = startLockedWatch(options);
  } catch (err) {
    lock.release();
    throw err;
  }
  return { ...watch, done: watch.done.finally(() => lock.release()) };
}

function startLockedWatch(options: HostWatchOptions): HostWatch {
  const startedAt = Date.now() / 1000;
  let failure: unknown;
  // A failure in a callback or a timer ends the capture; `done` then rejects with it, after the final save.
  let stopCapture = (): void => {};
  const fail = (err: unknown): void => {
    failure ??= err;
    stopCapture();
  };
  const parts = makeParts(options, startedAt, fail);
  const { monitor, responder, records, saver } = parts;
  options.metrics?.attach(watchMetricsSource(options.outputs, monitor, records, saver));
  // The console's record of this run: a failed write is a warning, never a reason not to watch.
  const run = new WatchRun({ store: options.store, backend: options.backend, startedAt, onWarning: options.onWarning });
  run.begin();
  const { capture, tracerPid, ready, commandResult } = startWatchCapture(options, monitorSink(monitor, responder));
  stopCapture = () => capture.stop();
  // The tracer is never acted on (a paused strace would pause everything it traces).
  if (tracerPid !== undefined) responder?.protectPid(tracerPid);
  const timers = startTimers(parts, fail);
  timers.push(setInterval(() => run.update(monitor.stats()), Math.max(1_000, options.saveIntervalMs ?? 30_000)));
  const finished = finish(parts, capture.done, timers, commandResult, () => failure);
  const done = recordEnd(run, monitor, finished);
  return { monitor, backend: options.backend, tracerPid, ready, done, stop: () => capture.stop() };
}

/**
 * Waits for the capture to end, then stores everything learned and every alert (even after a failure elsewhere)
 * and closes the outputs before the summary; rejects with the first failure (`failure`) when there was one.
 */
async function finish(
  parts: WatchParts,
  captureDone: Promise<HostCaptureStats>,
  timers: NodeJS.Timeout[],
  commandResult: Promise<StraceCaptureResult> | undefined,
  failure: () => unknown,
): Promise<HostWatchSummary> {
  const { options, monitor, saver, observers } = parts;
  const stats = await ended(parts, captureDone, timers);
  monitor.tick(Number.POSITIVE_INFINITY);
  options.outputs?.tick(monitor, true);
  try {
    saver.final();
    observers.tick(true);
  } finally {
    await closeOutputs(options, observers);
  }
  const failed = failure();
  if (failed !== undefined) throw failed;
  const summary = summarise(parts, stats);
  if (commandResult !== undefined) summary.command = await commandResult;
  return summary;
}

/** The run's row in the store closed with how the watch ended. */
function recordEnd(run: WatchRun, monitor: HostMonitor, done: Promise<HostWatchSummary>): Promise<HostWatchSummary> {
  return done.then(
    (summary) => {
      run.end(summary.monitor, summary, summary.endedAt);
      return summary;
    },
    (err: unknown) => {
      run.end(monitor.stats(), { failed: isHomeostatError(err) ? err.oneLine() : String(err) });
      throw err;
    },
  );
}

/** The alert outputs and the observers, each given `drainMs` to send what waits; both closed whatever happens. */
async function closeOutputs(options: HostWatchOptions, observers: WatchObservers): Promise<void> {
  try {
    await options.outputs?.close(options.drainMs ?? 5_000);
  } finally {
    await observers.close(options.drainMs ?? 5_000);
  }
}

/** Saves, store polls and sweeps of dead tasks; an exception in one ends the watch (`fail`) instead of escaping. */
function startTimers(parts: WatchParts, fail: (err: unknown) => void): NodeJS.Timeout[] {
  const { options, monitor, records, statics, saver } = parts;
  const guard = (fn: () => void) => () => {
    try {
      fn();
    } catch (err) {
      fail(err);
    }
  };
  return [
    setInterval(
      guard(() => saver.periodic()),
      options.saveIntervalMs ?? 30_000,
    ),
    setInterval(
      guard(() => {
        monitor.tick();
        statics.flush();
        records.flush(options.store, monitor);
        options.outputs?.tick(monitor);
        parts.observers.tick();
        saver.pickUpAdminChanges();
      }),
      options.pollIntervalMs ?? 2_000,
    ),
    setInterval(
      guard(() => {
        monitor.sweep((_pid, tid) => taskAlive(tid));
        statics.revalidate();
      }),
      60_000,
    ),
  ];
}

/**
 * Waits for the capture to end, then stops the timers and the responder, waits (bounded) for analyses still running
 * (the calls their executables made are checked when they land) and ends the analysis worker, whatever happened.
 */
async function ended(
  parts: WatchParts,
  captureDone: Promise<HostCaptureStats>,
  timers: NodeJS.Timeout[],
): Promise<HostCaptureStats> {
  try {
    let stats: HostCaptureStats;
    try {
      stats = await captureDone;
    } finally {
      for (const t of timers) clearInterval(t);
      parts.responder?.stop();
    }
    await parts.statics.drain(parts.options.staticDrainMs ?? 10_000);
    return stats;
  } finally {
    await parts.statics.close();
  }
}
