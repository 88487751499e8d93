// `homeostat watch` as a library: a capture backend (bpftrace system-wide, or strace on a command or pid) feeding
// the host monitor engine (hostMonitor.ts), the engine's profiles kept in the state store (src/store) and saved
// periodically and at the end, its alerts and the responder's actions recorded there too, and changes that an
// administrator made to stored profiles (`homeostat profiles normalize ...`) picked up while running. This is pH's
// daemon loop (Somayaji & Forrest 2000; ebpH's daemon) in user space.
// It prints nothing: alerts and actions go to callbacks; the CLI decides what the terminal sees.

import { hostname as osHostname } from "node:os";
import { startBpftraceCapture } from "../capture/bpftraceCapture.js";
import type { ExeIdentity, HostCapture, HostCaptureStats } from "../capture/hostEvents.js";
import { identifyProcess, taskAlive } from "../capture/procIdentity.js";
import { type StraceHostCapture, startStraceHostCapture } from "../capture/straceHostCapture.js";
import type { StraceCaptureResult } from "../capture/straceCapture.js";
import { HomeostatError, isHomeostatError } from "../errors.js";
import { type ResponseAction, Responder, type ResponderOptions, type ResponderStats } from "../response/responder.js";
import type { ActionRecord, AlertRecord, ProfileRecord, StateStore } from "../store/stateStore.js";
import { type HostAlert, HostMonitor, type HostMonitorStats, type ProfileEntry } from "./hostMonitor.js";
import { DetectorProfile } from "./detectorProfile.js";
import type { LiveProfile } from "./liveProfile.js";
import { PhProfile, type PhSettings } from "./phProfile.js";

export type WatchBackend = "bpftrace" | "strace";

/** A stored profile's model from its blob, by the model spec stored beside it ("ph:..." or a detector's). */
export function restoreProfile(model: string, blob: Uint8Array, what: string): LiveProfile {
  return model.startsWith("ph:") ? PhProfile.deserialize(blob, what) : DetectorProfile.deserialize(blob, what);
}

/** A new profile of `model` ("ph" or a detector spec such as "stide:k=6"), or pH's when undefined. */
export function profileFactory(model: string | undefined): ((settings: PhSettings) => LiveProfile) | undefined {
  if (model === undefined || model === "ph" || model.startsWith("ph:")) return undefined;
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
  settings?: Partial<PhSettings>;
  /** The model of new profiles: "ph" (pH's lookahead pairs, the default) or a detector spec, e.g. "stide:k=6". */
  model?: string;
  /** Response policy; undefined = log only. */
  response?: Omit<ResponderOptions, "onAction" | "protect">;
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
  /** The watched command's exit status (strace backend with a command). */
  command?: StraceCaptureResult;
  startedAt: number;
  endedAt: number;
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

export function startHostWatch(options: HostWatchOptions): HostWatch {
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

  const responder =
    options.response !== undefined
      ? new Responder({
          ...options.response,
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
      throw new HomeostatError("E_USAGE", "the bpftrace backend watches the whole host: a command or --pid needs --backend strace");
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

  let failure: unknown;
  const guard = (fn: () => void) => () => {
    try {
      fn();
    } catch (err) {
      failure ??= err;
      capture.stop();
    }
  };
  const timers = [
    setInterval(guard(saveProfiles), options.saveIntervalMs ?? 30_000),
    setInterval(
      guard(() => {
        monitor.tick();
        flushQueues();
        pickUpAdminChanges();
      }),
      options.pollIntervalMs ?? 2_000,
    ),
    setInterval(
      guard(() => monitor.sweep((_pid, tid) => taskAlive(tid))),
      60_000,
    ),
  ];

  const done = (async (): Promise<HostWatchSummary> => {
    let stats: HostCaptureStats;
    try {
      stats = await capture.done;
    } finally {
      for (const t of timers) clearInterval(t);
      responder?.stop();
    }
    monitor.tick(Number.POSITIVE_INFINITY);
    // Everything learned and every alert is stored before watch reports the end, even after a failure elsewhere.
    saveProfiles();
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
      startedAt,
      endedAt: Date.now() / 1000,
    };
    if (commandResult !== undefined) summary.command = await commandResult;
    return summary;
  })();

  return { monitor, backend: options.backend, tracerPid, ready, done, stop: () => capture.stop() };
}
