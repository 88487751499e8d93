// `homeostat watch` as a library: a capture backend (bpftrace system-wide, or strace on a command or pid) feeding
// the host monitor engine (hostMonitor.ts), the engine's profiles kept in the state store (src/store) and saved
// periodically and at the end, its alerts and the responder's actions recorded there too, and changes that an
// administrator made to stored profiles (`homeostat profiles normalize ...`) picked up while running. This is pH's
// daemon loop (Somayaji & Forrest 2000; ebpH's daemon) in user space.
// It prints nothing: alerts and actions go to callbacks; the CLI decides what the terminal sees.
//
// Static models (`staticModels`): each new executable is analysed (src/static, Wagner & Dean's set model) in one
// worker thread with a bounded queue, using a summary cache in the state directory, and the engine checks every call
// of the executable against the set from then on (and the calls it made meanwhile). Models are stored beside the
// profiles with a stamp of every file they were derived from: a stored model is used again while its files are
// unchanged, and re-derived when one changed (checked again every minute while watch runs); a library replaced under
// running processes makes the model the union of the old and new analyses, since both versions may be mapped. A
// model whose executable's path now names another file (upgraded: the old inode still runs) stays as it is.

import { statSync } from "node:fs";
import { hostname as osHostname } from "node:os";
import { join } from "node:path";
import { startBpftraceCapture } from "../capture/bpftraceCapture.js";
import type { ExeIdentity, HostCapture, HostCaptureStats } from "../capture/hostEvents.js";
import { identifyProcess, taskAlive } from "../capture/procIdentity.js";
import { type StraceHostCapture, startStraceHostCapture } from "../capture/straceHostCapture.js";
import type { StraceCaptureResult } from "../capture/straceCapture.js";
import { HomeostatError, isHomeostatError } from "../errors.js";
import { type ResponseAction, Responder, type ResponderOptions, type ResponderStats } from "../response/responder.js";
import { WriterLock } from "../store/writerLock.js";
import { type FileStamp, sameFile, StaticAnalysisWorker, type StaticSummary } from "../static/analysisWorker.js";
import type { ActionRecord, AlertRecord, ProfileRecord, StateStore, StaticModelRecord } from "../store/stateStore.js";
import {
  type HostAlert,
  HostMonitor,
  type HostMonitorStats,
  type ProfileEntry,
  type StaticSyscallSet,
} from "../engine/hostMonitor.js";
import { DetectorProfile } from "../lifecycle/detectorProfile.js";
import { type LiveProfile, modelKind } from "../lifecycle/liveProfile.js";
import { PhProfile, type LifecycleSettings } from "../lifecycle/phProfile.js";

export type WatchBackend = "bpftrace" | "strace";

/** Static models: off, alert on calls outside them, or also kill the process (complete models only). */
export type StaticPolicy = "off" | "alert" | "kill";
export const STATIC_POLICIES: readonly StaticPolicy[] = ["off", "alert", "kill"];

/** A stored profile's model from its blob, by the model spec stored beside it ("ph:..." or a detector's). */
export function restoreProfile(model: string, blob: Uint8Array, what: string): LiveProfile {
  return modelKind(model) === "ph" ? PhProfile.deserialize(blob, what) : DetectorProfile.deserialize(blob, what);
}

/** A new profile of `model` ("ph" or a detector spec such as "stide:k=6"), or pH's when undefined. */
export function profileFactory(model: string | undefined): ((settings: LifecycleSettings) => LiveProfile) | undefined {
  if (model === undefined || modelKind(model) === "ph") return undefined;
  DetectorProfile.fromSpec(model); // validates the spec now, with the user's words, rather than at the first process
  return (settings) => DetectorProfile.fromSpec(model, settings);
}

/** The store's record of a profile. */
export function profileRecord(key: string, exe: ExeIdentity, p: LiveProfile): ProfileRecord {
  return {
    key,
    exe: exe.path,
    dev: exe.dev,
    ino: exe.ino,
    model: p.model,
    state: p.state,
    trainCount: p.trainCount,
    lastModCount: p.lastModCount,
    anomalies: p.anomalies,
    normalTime: Number.isNaN(p.normalTime) ? null : p.normalTime,
    blob: p.serialize(),
  };
}

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
  startedAt: number;
  endedAt: number;
}

export interface StaticWatchStats {
  policy: StaticPolicy;
  /** Models taken from the store (their files unchanged), and analyses run in this watch. */
  fromStore: number;
  analysed: number;
  /** Analyses that failed (not ELF, a library missing, a timeout...), and executables left out of a full queue. */
  failed: number;
  dropped: number;
  /** Models re-derived because a file they came from changed. */
  reanalysed: number;
  /** Analyses still queued or running when watch ended (their executables were not checked). */
  unfinished: number;
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

function startLockedWatch(options: HostWatchOptions): HostWatch {
  const store = options.store;
  const startedAt = Date.now() / 1000;
  const unreadable = new Set<string>();
  const maxQueued = options.maxQueued ?? 10_000;
  const alertQueue: AlertRecord[] = [];
  const actionQueue: ActionRecord[] = [];
  let queueDropped = 0;
  let alertsStored = 0;
  let actionsStored = 0;
  let saves = 0;
  let profilesSaved = 0;
  let reloaded = 0;

  const staticPolicy = options.staticModels ?? "off";
  const responder =
    options.response !== undefined || staticPolicy === "kill"
      ? new Responder({
          ...(options.response ?? { policies: new Set(["log"]), delayFactorMs: 0, maxDelayMs: 0, suspendExecveMs: 0 }),
          staticKill: staticPolicy === "kill",
          onAction: (action) => {
            if (actionQueue.length < maxQueued) {
              actionQueue.push({
                time: action.time,
                pid: action.pid,
                exe: action.exe === "" ? null : action.exe,
                action: action.kind,
                outcome: action.outcome,
                reason: action.reason,
                json: action,
              });
            } else queueDropped++;
            options.onAction?.(action);
          },
        })
      : undefined;

  // ---- static models: the worker is started at the first executable to analyse
  const staticCounts = { fromStore: 0, analysed: 0, failed: 0, dropped: 0, reanalysed: 0, unfinished: 0 };
  /** The summary behind each attached model (its stamps, for staleness; its set, for a union after a change). */
  const staticSummaries = new Map<string, StaticSummary>();
  const staticQueue: StaticModelRecord[] = [];
  const digraph = options.staticDigraph ?? true;
  let analyzer: StaticAnalysisWorker | undefined;
  let failure: unknown;

  const attachStatic = (key: string, exe: string, summary: StaticSummary, save: boolean): void => {
    staticSummaries.set(key, summary);
    monitor.attachStaticModel(key, staticSet(summary));
    if (save) staticQueue.push({ key, exe, complete: summary.complete, syscalls: summary.syscalls, detail: summary });
  };

  /** Analyses the executable of `key`; `previous` (a model whose files changed) is merged into the new one. */
  const analyse = (entry: ProfileEntry, previous: StaticSummary | undefined): void => {
    const { key, exe } = entry;
    analyzer ??= new StaticAnalysisWorker({
      cacheDir: options.staticCacheDir ?? join(store.dir, "static-cache"),
      digraph,
      ...(options.staticQueue !== undefined ? { maxPending: options.staticQueue } : {}),
    });
    const queued = analyzer.submit({ path: exe.path, dev: exe.dev, ino: exe.ino }, (outcome) => {
      try {
        if (monitor.profile(key) === undefined) return;
        if (outcome.ok) {
          staticCounts.analysed++;
          attachStatic(key, exe.path, previous !== undefined ? unionOf(previous, outcome.model) : outcome.model, true);
        } else {
          staticCounts.failed++;
          staticSummaries.delete(key);
          monitor.staticModelUnavailable(key, `static analysis failed: ${outcome.message}`, outcome.code);
        }
      } catch (err) {
        failure ??= err;
        capture.stop();
      }
    });
    if (!queued) {
      staticCounts.dropped++;
      staticSummaries.delete(key);
      monitor.staticAnalysisDropped(key);
    }
  };

  /** A new profile entry: its stored model when its files are unchanged, else an analysis. */
  const onProfileAdded = (entry: ProfileEntry): void => {
    const { key, exe } = entry;
    if (!exe.path.startsWith("/") || exe.ino === 0) {
      monitor.staticModelUnavailable(
        key,
        "the executable's file is not known (no absolute path, device and inode)",
        "E_NOT_FOUND",
      );
      return;
    }
    let stored: StaticSummary | undefined;
    try {
      const row = store.loadStaticModel(key);
      if (row !== undefined) stored = storedSummary(row.syscalls, row.complete, row.detail);
    } catch (err) {
      if (!isHomeostatError(err)) throw err;
      options.onWarning?.(
        `stored static model of ${key} cannot be read (${err.oneLine()}); analysing the binary again`,
      );
    }
    if (stored !== undefined && digraph && stored.pairs === undefined) {
      // Derived without its digraph (by a set-only watch): derived again, with it.
      staticCounts.reanalysed++;
      analyse(entry, undefined);
      return;
    }
    if (stored !== undefined) {
      const state = staleness(exe, stored.files);
      if (state !== "stale") {
        staticCounts.fromStore++;
        attachStatic(key, exe.path, stored, false);
        return;
      }
      staticCounts.reanalysed++;
    }
    analyse(entry, stored !== undefined ? mappedStill(stored) : undefined);
  };

  /** Models whose files changed since they were derived (a library upgraded): re-derived, merged with the old. */
  const revalidateStatic = (): void => {
    for (const [key, summary] of staticSummaries) {
      const entry = monitor.profile(key);
      if (entry === undefined || staleness(entry.exe, summary.files) !== "stale") continue;
      staticSummaries.delete(key);
      staticCounts.reanalysed++;
      monitor.detachStaticModel(key);
      analyse(entry, mappedStill(summary));
    }
  };

  const monitor = new HostMonitor({
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
        const stored = store.loadProfile(key);
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
      if (alertQueue.length < maxQueued) {
        const f = alert.output_fields;
        alertQueue.push({
          time: Date.parse(alert.time) / 1000,
          rule: alert.rule,
          priority: alert.priority,
          pid: typeof f["proc.pid"] === "number" ? f["proc.pid"] : null,
          exe: typeof f["proc.exepath"] === "string" ? f["proc.exepath"] : null,
          key: typeof f["homeostat.profile"] === "string" ? f["homeostat.profile"] : null,
          output: alert.output,
          json: alert,
        });
      } else queueDropped++;
      options.onAlert?.(alert);
    },
    ...(responder !== undefined ? { onResponse: (req) => responder.handle(req) } : {}),
    ...(staticPolicy !== "off" ? { staticModels: staticPolicy, onProfileAdded } : {}),
  });

  // The sink the backend feeds: the engine, plus the responder's bookkeeping of exited pids.
  const sink = {
    syscall: monitor.syscall.bind(monitor),
    exec: monitor.exec.bind(monitor),
    fork: monitor.fork.bind(monitor),
    exit: (pid: number, tid: number, time: number) => {
      monitor.exit(pid, tid, time);
      if (pid === tid) responder?.forget(pid);
    },
    lost: monitor.lost.bind(monitor),
  };

  let capture: HostCapture;
  let tracerPid: number | undefined;
  let commandResult: Promise<StraceCaptureResult> | undefined;
  let ready: Promise<void> = Promise.resolve();
  if (options.backend === "strace") {
    const c: StraceHostCapture = startStraceHostCapture({
      ...(options.command !== undefined ? { command: options.command } : {}),
      ...(options.pid !== undefined ? { pid: options.pid } : {}),
      sink,
      ...(options.env !== undefined ? { env: options.env } : {}),
      ...(options.programOutput !== undefined ? { programOutput: options.programOutput } : {}),
      ...(options.onMessage !== undefined ? { onMessage: options.onMessage } : {}),
    });
    capture = c;
    tracerPid = c.tracerPid;
    commandResult = c.result;
  } else {
    if (options.command !== undefined || options.pid !== undefined) {
      throw new HomeostatError(
        "E_USAGE",
        "the bpftrace backend watches the whole host: a command or --pid needs --backend strace",
      );
    }
    const c = startBpftraceCapture({
      sink,
      excludePids: [process.pid],
      ...(options.ringBufferPages !== undefined ? { ringBufferPages: options.ringBufferPages } : {}),
      ...(options.env !== undefined ? { env: options.env } : {}),
      ...(options.onMessage !== undefined ? { onMessage: options.onMessage } : {}),
    });
    capture = c;
    tracerPid = c.tracerPid;
    ready = c.ready;
    // A failed start rejects `done` too, with the same reason; `ready` is only for waiting.
    ready.catch(() => {});
  }
  // The tracer is never acted on (a paused strace would pause everything it traces).
  if (tracerPid !== undefined) responder?.protectPid(tracerPid);

  let reportedDropped = 0;
  const flushAlerts = (): void => {
    if (alertQueue.length === 0) return;
    const batch = alertQueue.splice(0);
    store.addAlerts(batch);
    alertsStored += batch.length;
  };
  const flushQueues = (): void => {
    if (staticQueue.length > 0) store.saveStaticModels(staticQueue.splice(0));
    flushAlerts();
    if (actionQueue.length > 0) {
      const batch = actionQueue.splice(0);
      store.addActions(batch);
      actionsStored += batch.length;
    }
    if (queueDropped > reportedDropped) {
      // Raised once the queues are empty, so that this alert itself reaches the store.
      const n = queueDropped - reportedDropped;
      reportedDropped = queueDropped;
      monitor.raise(
        "homeostat overload: alerts dropped",
        "Error",
        `${n} alerts or actions were dropped because the store could not keep up (${queueDropped} in total); they were shown but not stored`,
        { "homeostat.dropped_records": n, "homeostat.dropped_records_total": queueDropped },
        ["overload"],
      );
      flushAlerts();
    }
  };

  /** Profiles an administrator changed in the store since we loaded or saved them: reload instead of overwriting. */
  const pickUpAdminChanges = (): void => {
    for (const s of store.listProfiles()) {
      const entry = monitor.profile(s.key);
      if (entry === undefined || s.version <= entry.storedVersion || unreadable.has(s.key)) continue;
      try {
        const stored = store.loadProfile(s.key);
        if (stored === undefined) continue;
        monitor.replaceProfile(s.key, restoreProfile(stored.model, stored.blob, `profile ${s.key}`), stored.version);
        reloaded++;
      } catch (err) {
        if (!isHomeostatError(err)) throw err;
        options.onWarning?.(`stored profile ${s.key} changed but cannot be read: ${err.oneLine()}`);
      }
    }
  };

  const saveProfiles = (): void => {
    const t0 = performance.now();
    const dirty: ProfileEntry[] = [];
    for (const e of monitor.profiles()) if (e.dirty && !unreadable.has(e.key)) dirty.push(e);
    if (dirty.length > 0) {
      // Written only where the store still has the version we know (checked inside the transaction): a change an
      // administrator made meanwhile wins, and is loaded instead.
      const conflicts = new Set(
        store.saveProfiles(
          dirty.map((e) => ({ ...profileRecord(e.key, e.exe, e.profile), expectVersion: e.storedVersion })),
        ),
      );
      for (const e of dirty) {
        if (conflicts.has(e.key)) continue;
        e.dirty = false;
        e.storedVersion++;
      }
      saves++;
      profilesSaved += dirty.length - conflicts.size;
      if (conflicts.size > 0) pickUpAdminChanges();
    }
    flushQueues();
    store.prune(options.keepRecords ?? 1_000_000);
    options.onSave?.(dirty.length, performance.now() - t0);
  };

  // A save the disk has no room for: watching goes on (the host stays protected), what changed stays in memory and
  // the next save tries again; one alert says so, another when saves resume. Nothing saved before is touched: the
  // failed transaction is rolled back whole.
  let diskFull = false;
  const periodicSave = (): void => {
    try {
      saveProfiles();
    } catch (err) {
      if (!isDiskFull(err)) throw err;
      if (diskFull) return;
      diskFull = true;
      const unsaved = [...monitor.profiles()].filter((e) => e.dirty).length;
      monitor.raise(
        "homeostat store full: profiles not saved",
        "Error",
        `the state database's disk is full (${store.path}): ${unsaved} profile${unsaved === 1 ? "" : "s"} changed since the last save ${unsaved === 1 ? "is" : "are"} kept in memory and saved when there is room; nothing saved before is lost`,
        { "homeostat.unsaved_profiles": unsaved, "homeostat.state": store.path },
        ["store"],
      );
      return;
    }
    if (!diskFull) return;
    diskFull = false;
    monitor.raise(
      "homeostat store saves resumed",
      "Informational",
      `the state database has room again: every profile is saved (${store.path})`,
      { "homeostat.state": store.path },
      ["store"],
    );
  };

  const guard = (fn: () => void) => () => {
    try {
      fn();
    } catch (err) {
      failure ??= err;
      capture.stop();
    }
  };
  const timers = [
    setInterval(guard(periodicSave), options.saveIntervalMs ?? 30_000),
    setInterval(
      guard(() => {
        monitor.tick();
        flushQueues();
        pickUpAdminChanges();
      }),
      options.pollIntervalMs ?? 2_000,
    ),
    setInterval(
      guard(() => {
        monitor.sweep((_pid, tid) => taskAlive(tid));
        revalidateStatic();
      }),
      60_000,
    ),
  ];

  const done = (async (): Promise<HostWatchSummary> => {
    let stats: HostCaptureStats;
    try {
      try {
        stats = await capture.done;
      } finally {
        for (const t of timers) clearInterval(t);
        responder?.stop();
      }
      // Analyses still running are waited for (bounded): the calls their executables made are checked when they land.
      if (analyzer !== undefined) await analyzer.drain(options.staticDrainMs ?? 10_000);
    } finally {
      if (analyzer !== undefined) staticCounts.unfinished = await analyzer.close();
    }
    monitor.tick(Number.POSITIVE_INFINITY);
    // Everything learned and every alert is stored before watch reports the end, even after a failure elsewhere.
    try {
      saveProfiles();
    } catch (err) {
      if (!isDiskFull(err)) throw err;
      const unsaved = [...monitor.profiles()].filter((e) => e.dirty).length;
      throw new HomeostatError(
        "E_IO",
        `the disk is full: ${unsaved} profile${unsaved === 1 ? "" : "s"} changed since the last save could not be saved; everything saved before is intact`,
        { file: store.path },
        { cause: err },
      );
    }
    if (failure !== undefined) throw failure;
    const summary: HostWatchSummary = {
      backend: options.backend,
      capture: stats,
      monitor: monitor.stats(),
      responder: responder?.stats ?? { paused: 0, pausedMs: 0, killed: 0, suspended: 0, refused: 0, dryRun: 0 },
      saves,
      profilesSaved,
      alertsStored,
      actionsStored,
      queueDropped,
      reloaded,
      unreadable: [...unreadable],
      static: {
        policy: staticPolicy,
        ...staticCounts,
        impossibleCalls: monitor.stats().impossibleCalls,
        impossibleUncertain: monitor.stats().impossibleUncertain,
      },
      startedAt,
      endedAt: Date.now() / 1000,
    };
    if (commandResult !== undefined) summary.command = await commandResult;
    return summary;
  })();

  return { monitor, backend: options.backend, tracerPid, ready, done, stop: () => capture.stop() };
}

// ------------------------------------------------------------------------------------------------ static models

/** The store's "disk is full" (SQLITE_FULL under it). */
function isDiskFull(err: unknown): boolean {
  const cause = (err as { cause?: { code?: unknown } } | null)?.cause;
  return isHomeostatError(err) && cause?.code === "SQLITE_FULL";
}

/** The engine's view of an analysis. */
function staticSet(s: StaticSummary): StaticSyscallSet {
  const pairs = s.pairs !== undefined ? { pairs: s.pairs } : {};
  if (s.complete) return { syscalls: s.syscalls, ...pairs, complete: true };
  const why: string[] = [];
  if (s.unresolved > 0) why.push(`${s.unresolved} syscall site${s.unresolved === 1 ? "" : "s"} not resolved`);
  if (s.dlopen > 0) why.push(`${s.dlopen} dlopen call${s.dlopen === 1 ? "" : "s"} of plugins not analysed`);
  return {
    syscalls: s.syscalls,
    ...pairs,
    complete: false,
    incomplete: why.length > 0 ? why.join(", ") : "the analysis may have missed calls",
  };
}

/**
 * The old model when running processes may still map the code it came from: a library replaced under them (a new
 * file at the path; the old one stays mapped). Not when the executable itself was rewritten in place, which Linux
 * refuses while it runs (ETXTBSY): its old code runs nowhere.
 */
function mappedStill(old: StaticSummary): StaticSummary | undefined {
  const exe = old.files[0];
  return exe !== undefined && sameFile(exe) ? old : undefined;
}

/** A model for code that may be either of two analyses (old and new libraries mapped at once): the union. */
function unionOf(old: StaticSummary, fresh: StaticSummary): StaticSummary {
  const all = new Set([...old.syscalls, ...fresh.syscalls]);
  const pairs = unionPairs(old.pairs, fresh.pairs);
  if (all.size === fresh.syscalls.length && pairs === fresh.pairs) return fresh;
  const names = new Map<number, string>();
  old.syscalls.forEach((n, i) => names.set(n, old.names[i] ?? `syscall_${n}`));
  fresh.syscalls.forEach((n, i) => names.set(n, fresh.names[i] ?? `syscall_${n}`));
  const syscalls = [...all].sort((a, b) => a - b);
  const { pairs: _dropped, ...rest } = fresh;
  return {
    ...rest,
    syscalls,
    names: syscalls.map((n) => names.get(n)!),
    ...(pairs !== undefined ? { pairs } : {}),
    complete: old.complete && fresh.complete,
  };
}

/** The union of two flattened digraphs (`fresh` itself when it holds them all); none when either has none. */
function unionPairs(old: number[] | undefined, fresh: number[] | undefined): number[] | undefined {
  if (old === undefined || fresh === undefined) return undefined;
  const keys = new Set<number>();
  for (let i = 0; i + 1 < fresh.length; i += 2) keys.add(fresh[i]! * 65_536 + fresh[i + 1]!);
  const size = keys.size;
  for (let i = 0; i + 1 < old.length; i += 2) keys.add(old[i]! * 65_536 + old[i + 1]!);
  if (keys.size === size) return fresh;
  return [...keys].sort((a, b) => a - b).flatMap((k) => [Math.floor(k / 65_536), k % 65_536]);
}

/** A stored model's summary, or undefined when its detail is not one this build wrote (it is analysed anew). */
function storedSummary(syscalls: number[], complete: boolean, detail: unknown): StaticSummary | undefined {
  const d = detail as Partial<StaticSummary> | null;
  if (d === null || typeof d !== "object" || !Array.isArray(d.files) || !Array.isArray(d.names)) return undefined;
  return { ...(d as StaticSummary), syscalls, complete };
}

/**
 * Whether a model still describes its executable: "valid" while every file it came from is unchanged; "stale" when
 * one changed and the executable at its path is still the file that ran (it can be analysed again); "orphan" when
 * the path now names another file: the one that ran cannot be analysed by its path any more, the model stays.
 */
export function staleness(exe: ExeIdentity, files: readonly FileStamp[]): "valid" | "stale" | "orphan" {
  try {
    const st = statSync(exe.path);
    if (st.dev !== exe.dev || st.ino !== exe.ino) return "orphan";
  } catch {
    return "orphan";
  }
  return files.every(sameFile) ? "valid" : "stale";
}
