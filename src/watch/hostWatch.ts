// `homeostat watch` as a library, and its composition root: a capture backend (bpftrace system-wide, or strace on a
// command or pid; watchCapture.ts) feeds the host monitor engine (src/engine); the engine's profiles are kept in the
// state store (src/store), saved periodically and at the end (profileSaver.ts); its alerts and the responder's
// actions are recorded there too (watchRecords.ts); changes an administrator made to stored profiles are picked up
// while running; static models of each executable are derived and checked (staticModels.ts). This is pH's daemon
// loop (Somayaji & Forrest 2000; ebpH's daemon) in user space. It prints nothing: alerts and actions go to
// callbacks; the CLI decides what the terminal sees. Alerts also go to the output plugins the caller opened
// (outputs/alertOutputs.ts: HTTP with a spool, syslog), and the Prometheus metrics (outputs/metricsRegistry.ts) read
// the parts' counters when scraped.

import { hostname as osHostname } from "node:os";
import type { HostCaptureStats, HostEventSink } from "../capture/hostEvents.js";
import { identifyProcess, taskAlive } from "../capture/procIdentity.js";
import type { StraceCaptureResult } from "../capture/straceCapture.js";
import { type HostAlert, HostMonitor, type HostMonitorStats } from "../engine/hostMonitor.js";
import { isHomeostatError } from "../errors.js";
import type { LifecycleSettings } from "../lifecycle/lifecycleSettings.js";
import { type ResponseAction, Responder, type ResponderOptions, type ResponderStats } from "../response/responder.js";
import type { StateStore } from "../store/stateStore.js";
import { WriterLock } from "../store/writerLock.js";
import { ProfileSaver } from "./profileSaver.js";
import { type StaticModelCounts, type StaticPolicy, WatchStaticModels } from "./staticModels.js";
import { profileFactory, restoreProfile } from "./storedProfiles.js";
import { startWatchCapture, type WatchBackend } from "./watchCapture.js";
import type { AlertOutputs } from "./outputs/alertOutputs.js";
import type { WatchMetrics } from "./outputs/metricsRegistry.js";
import { type WatchObserver, WatchObservers } from "./watchObserver.js";
import { WatchRecords } from "./watchRecords.js";
import { WatchRun } from "./watchRun.js";
import { watchMetricsSource } from "./watchMetricsSource.js";

export { STATIC_POLICIES, type StaticPolicy, staleness } from "./staticModels.js";
export { profileFactory, profileRecord, restoreProfile } from "./storedProfiles.js";
export type { WatchBackend } from "./watchCapture.js";
export type { SavedProfile, WatchObserver } from "./watchObserver.js";

export interface HostWatchOptions {
  backend: WatchBackend;
  /** strace backend: the command to run, or the pid to attach to. */
  command?: readonly string[];
  pid?: number;
  store: StateStore;
  settings?: Partial<LifecycleSettings>;
  /** The model of new profiles: "ph" (pH's lookahead pairs, the default) or a detector spec, e.g. "stide:k=6". */
  model?: string;
  /** Response policy; undefined = log only (a responder is still made for `staticModels: "kill"`). */
  response?: Omit<ResponderOptions, "onAction" | "protect" | "staticKill">;
  /** Static models of each executable's binary: "off" (the default here; the CLI's is "alert"), "alert", "kill". */
  staticModels?: StaticPolicy;
  /** Check pairs of consecutive calls against the static digraph too, not only calls against the set (default true). */
  staticDigraph?: boolean;
  /** The static analysis' summary cache (default `<state dir>/static-cache`). */
  staticCacheDir?: string;
  /** Analyses waiting at most (default 64); beyond, executables are monitored without a model, counted and alerted. */
  staticQueue?: number;
  /** Milliseconds watch waits at its end for analyses still queued or running (default 10 s). */
  staticDrainMs?: number;
  /** LFC at or above which execve is suspended (default tolerize_limit). */
  execveLimit?: number;
  /** Milliseconds between profile saves (default 30 s); profiles are also saved when watch ends. */
  saveIntervalMs?: number;
  /** Milliseconds between checks for profiles changed by an administrator (default 2 s). */
  pollIntervalMs?: number;
  maxTasks?: number;
  maxProfiles?: number;
  /** Alerts (and actions) waiting for the store at most; beyond, they are dropped and counted. */
  maxQueued?: number;
  /** Newest alerts, and newest actions, kept in the store (default 1,000,000 each); older ones are pruned. */
  keepRecords?: number;
  ringBufferPages?: number;
  programOutput?: "inherit" | "ignore";
  env?: NodeJS.ProcessEnv;
  /**
   * Alert outputs (HTTP, syslog) the caller opened: watch feeds them, reports their overflow, and closes them at its
   * end, before the state directory's lock is released (the spool is in it), after waiting up to `drainMs`
   * (default 5 s) for the receiver to take what is waiting.
   */
  outputs?: AlertOutputs;
  drainMs?: number;
  /** Prometheus metrics: watch counts alerts and actions there and lets them read its parts when scraped. */
  metrics?: WatchMetrics;
  /** Layers above watch that see its alerts, actions and profiles (the fleet); closed with the outputs. */
  observers?: readonly WatchObserver[];
  onAlert?: (alert: HostAlert) => void;
  onAction?: (action: ResponseAction) => void;
  /** A stored profile could not be read (checksum, format): watch goes on with a new one and keeps the stored copy. */
  onWarning?: (message: string) => void;
  /** The backend's own messages (strace in attach mode, bpftrace's stderr). */
  onMessage?: (line: string) => void;
  /** Profiles were saved (count, milliseconds). */
  onSave?: (profiles: number, ms: number) => void;
}

export interface HostWatchSummary {
  backend: WatchBackend;
  capture: HostCaptureStats;
  monitor: HostMonitorStats;
  responder: ResponderStats;
  /** Profile saves (transactions) and profiles written. */
  saves: number;
  profilesSaved: number;
  /** Alerts and actions written to the store, and those dropped because the queue was full. */
  alertsStored: number;
  actionsStored: number;
  queueDropped: number;
  /** Profiles that an administrator changed while watch ran, reloaded. */
  reloaded: number;
  /** Stored profiles that could not be read, left untouched in the store. */
  unreadable: string[];
  /** Static models (all zero when off). */
  static: StaticWatchStats;
  /** The watched command's exit status (strace backend with a command). */
  command?: StraceCaptureResult;
  /** Each observer's figures, by its name. */
  observers: Record<string, unknown>;
  startedAt: number;
  endedAt: number;
}

export interface StaticWatchStats extends StaticModelCounts {
  policy: StaticPolicy;
  /** Calls made outside their executable's static model, and of those, outside an incomplete one. */
  impossibleCalls: number;
  impossibleUncertain: number;
}

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

/** The parts of one watch, wired together. */
interface WatchParts {
  options: HostWatchOptions;
  monitor: HostMonitor;
  responder: Responder | undefined;
  records: WatchRecords;
  statics: WatchStaticModels;
  saver: ProfileSaver;
  observers: WatchObservers;
  unreadable: Set<string>;
  staticPolicy: StaticPolicy;
  startedAt: number;
}

function startLockedWatch(options: HostWatchOptions): HostWatch {
  const startedAt = Date.now() / 1000;
  const staticPolicy = options.staticModels ?? "off";
  const records = new WatchRecords(options.maxQueued ?? 10_000);
  const unreadable = new Set<string>();
  let failure: unknown;
  // A failure in a callback or a timer ends the capture; `done` then rejects with it, after the final save.
  let stopCapture = (): void => {};
  const fail = (err: unknown): void => {
    failure ??= err;
    stopCapture();
  };
  const statics = makeStatics(options, fail);
  const observers = new WatchObservers(options.observers ?? []);
  const responder = makeResponder(options, staticPolicy, records, observers);
  const monitor = makeMonitor(options, { records, responder, statics, staticPolicy, unreadable, observers });
  statics.attachTo(monitor);
  observers.attach(monitor);
  const saver = makeSaver(options, { monitor, records, statics, unreadable, observers });
  options.metrics?.attach(watchMetricsSource(options.outputs, monitor, records, saver));
  // The console's record of this run: a failed write is a warning, never a reason not to watch.
  const run = new WatchRun({ store: options.store, backend: options.backend, startedAt, onWarning: options.onWarning });
  run.begin();
  const { capture, tracerPid, ready, commandResult } = startWatchCapture(options, monitorSink(monitor, responder));
  stopCapture = () => capture.stop();
  // The tracer is never acted on (a paused strace would pause everything it traces).
  if (tracerPid !== undefined) responder?.protectPid(tracerPid);
  const parts: WatchParts = {
    options,
    monitor,
    responder,
    records,
    statics,
    saver,
    observers,
    unreadable,
    staticPolicy,
    startedAt,
  };
  const timers = startTimers(parts, fail);
  timers.push(setInterval(() => run.update(monitor.stats()), Math.max(1_000, options.saveIntervalMs ?? 30_000)));
  const done = (async (): Promise<HostWatchSummary> => {
    const stats = await ended(parts, capture.done, timers);
    parts.monitor.tick(Number.POSITIVE_INFINITY);
    options.outputs?.tick(parts.monitor, true);
    // Everything learned and every alert is stored before watch reports the end, even after a failure elsewhere.
    try {
      saver.final();
      observers.tick(true);
    } finally {
      await closeOutputs(options, observers);
    }
    if (failure !== undefined) throw failure;
    const summary = summarise(parts, stats);
    if (commandResult !== undefined) summary.command = await commandResult;
    return summary;
  })().then(
    (summary) => {
      run.end(summary.monitor, summary, summary.endedAt);
      return summary;
    },
    (err: unknown) => {
      run.end(monitor.stats(), { failed: isHomeostatError(err) ? err.oneLine() : String(err) });
      throw err;
    },
  );
  return { monitor, backend: options.backend, tracerPid, ready, done, stop: () => capture.stop() };
}

/** The alert outputs and the observers, each given `drainMs` to send what waits; both closed whatever happens. */
async function closeOutputs(options: HostWatchOptions, observers: WatchObservers): Promise<void> {
  try {
    await options.outputs?.close(options.drainMs ?? 5_000);
  } finally {
    await observers.close(options.drainMs ?? 5_000);
  }
}

/** The static models of the executables watched, analysed in a worker; a failure there ends the watch. */
function makeStatics(options: HostWatchOptions, fail: (err: unknown) => void): WatchStaticModels {
  return new WatchStaticModels({
    store: options.store,
    digraph: options.staticDigraph ?? true,
    ...(options.staticCacheDir !== undefined ? { cacheDir: options.staticCacheDir } : {}),
    ...(options.staticQueue !== undefined ? { maxPending: options.staticQueue } : {}),
    ...(options.onWarning !== undefined ? { onWarning: options.onWarning } : {}),
    onFailure: fail,
  });
}

/** What saves profiles, alerts and responses to the store, on its interval and at the end. */
function makeSaver(
  options: HostWatchOptions,
  parts: Pick<WatchParts, "monitor" | "records" | "statics" | "unreadable" | "observers">,
): ProfileSaver {
  const { monitor, records, statics, unreadable, observers } = parts;
  return new ProfileSaver({
    store: options.store,
    monitor,
    unreadable,
    keepRecords: options.keepRecords ?? 1_000_000,
    flushRecords: () => {
      statics.flush();
      records.flush(options.store, monitor);
    },
    onSaved: (saved) => observers.profilesSaved(saved),
    ...(options.onSave !== undefined ? { onSave: options.onSave } : {}),
    ...(options.onWarning !== undefined ? { onWarning: options.onWarning } : {}),
  });
}

/** The responder, when a response policy or static kills ask for one; its actions go to the store. */
function makeResponder(
  options: HostWatchOptions,
  staticPolicy: StaticPolicy,
  records: WatchRecords,
  observers: WatchObservers,
): Responder | undefined {
  if (options.response === undefined && staticPolicy !== "kill") return undefined;
  return new Responder({
    ...(options.response ?? { policies: new Set(["log"]), delayFactorMs: 0, maxDelayMs: 0, suspendExecveMs: 0 }),
    staticKill: staticPolicy === "kill",
    onAction: (action) => {
      records.action(action);
      observers.action(action);
      options.metrics?.action(action);
      options.onAction?.(action);
    },
  });
}

/** The engine, loading stored profiles (an unreadable one is left in the store and replaced by a new one). */
function makeMonitor(
  options: HostWatchOptions,
  parts: Pick<WatchParts, "records" | "responder" | "statics" | "staticPolicy" | "unreadable" | "observers">,
): HostMonitor {
  const { records, responder, statics, staticPolicy, unreadable, observers } = parts;
  return new HostMonitor({
    ...(options.settings !== undefined ? { settings: options.settings } : {}),
    ...(options.maxTasks !== undefined ? { maxTasks: options.maxTasks } : {}),
    ...(options.maxProfiles !== undefined ? { maxProfiles: options.maxProfiles } : {}),
    ...(options.execveLimit !== undefined ? { execveLimit: options.execveLimit } : {}),
    ignorePids: [process.pid],
    ...(options.model !== undefined ? { createProfile: profileFactory(options.model) } : {}),
    hostname: osHostname(),
    identify: identifyProcess,
    loadProfile: (key) => {
      try {
        const stored = options.store.loadProfile(key);
        if (stored === undefined) return undefined;
        return { profile: restoreProfile(stored.model, stored.blob, `profile ${key}`), version: stored.version };
      } catch (err) {
        if (!isHomeostatError(err)) throw err;
        unreadable.add(key);
        options.onWarning?.(
          `stored profile ${key} cannot be read (${err.oneLine()}); watching with a new profile, the stored one is left untouched`,
        );
        return undefined;
      }
    },
    onAlert: (alert) => {
      // One JSON for the outputs and the store (which would otherwise make its own when it writes the alert).
      const json = options.outputs?.active === true || observers.wantsAlerts ? JSON.stringify(alert) : undefined;
      records.alert(alert, json);
      if (json !== undefined) {
        options.outputs?.alert(alert, json);
        observers.alert(alert, json);
      }
      options.metrics?.alert(alert);
      options.onAlert?.(alert);
    },
    ...(responder !== undefined ? { onResponse: (req) => responder.handle(req) } : {}),
    ...(staticPolicy !== "off" ? { staticModels: staticPolicy } : {}),
    onProfileAdded: (entry) => {
      if (staticPolicy !== "off") statics.onProfileAdded(entry);
      observers.profileAdded(entry);
    },
  });
}

/** The sink the backend feeds: the engine, plus the responder's bookkeeping of exited pids. */
function monitorSink(monitor: HostMonitor, responder: Responder | undefined): HostEventSink {
  return {
    syscall: monitor.syscall.bind(monitor),
    exec: monitor.exec.bind(monitor),
    fork: monitor.fork.bind(monitor),
    exit: (pid: number, tid: number, time: number) => {
      monitor.exit(pid, tid, time);
      if (pid === tid) responder?.forget(pid);
    },
    lost: monitor.lost.bind(monitor),
  };
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

function summarise(parts: WatchParts, stats: HostCaptureStats): HostWatchSummary {
  const { options, monitor, responder, records, statics, saver } = parts;
  const monitorStats = monitor.stats();
  return {
    backend: options.backend,
    capture: stats,
    monitor: monitorStats,
    responder: responder?.stats ?? { paused: 0, pausedMs: 0, killed: 0, suspended: 0, refused: 0, dryRun: 0 },
    saves: saver.saves,
    profilesSaved: saver.profilesSaved,
    alertsStored: records.alertsStored,
    actionsStored: records.actionsStored,
    queueDropped: records.dropped,
    reloaded: saver.reloaded,
    unreadable: [...parts.unreadable],
    observers: parts.observers.figures(),
    static: {
      policy: parts.staticPolicy,
      ...statics.counts,
      impossibleCalls: monitorStats.impossibleCalls,
      impossibleUncertain: monitorStats.impossibleUncertain,
    },
    startedAt: parts.startedAt,
    endedAt: Date.now() / 1000,
  };
}
