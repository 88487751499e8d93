// The parts of one host watch (hostWatch.ts), made from its options and wired to each other: the engine (stored
// profiles loaded), the responder, the queues of records for the store, the static models, the profile saver and
// the observers. Each alert and each action is routed here to everything that takes it: the store, the outputs,
// the observers, the metrics and the caller.

import { hostname as osHostname } from "node:os";
import type { HostEventSink } from "../capture/hostEvents.js";
import { identifyProcess } from "../capture/procIdentity.js";
import { HostMonitor } from "../engine/hostMonitor.js";
import { isHomeostatError } from "../errors.js";
import { Responder } from "../response/responder.js";
import type { HostWatchOptions } from "./hostWatchOptions.js";
import { ProfileSaver } from "./profileSaver.js";
import { type StaticPolicy, WatchStaticModels } from "./staticModels.js";
import { profileFactory, restoreProfile } from "./storedProfiles.js";
import { WatchObservers } from "./watchObserver.js";
import { WatchRecords } from "./watchRecords.js";

/** The parts of one watch, wired together. */
export interface WatchParts {
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

/** Makes the parts, in the order they need each other; `fail` ends the watch (a failure in the analysis worker). */
export function makeParts(options: HostWatchOptions, startedAt: number, fail: (err: unknown) => void): WatchParts {
  const staticPolicy = options.staticModels ?? "off";
  const records = new WatchRecords(options.maxQueued ?? 10_000);
  const unreadable = new Set<string>();
  const statics = makeStatics(options, fail);
  const observers = new WatchObservers(options.observers ?? []);
  const responder = makeResponder(options, staticPolicy, records, observers);
  const monitor = makeMonitor(options, { records, responder, statics, staticPolicy, unreadable, observers });
  statics.attachTo(monitor);
  observers.attach(monitor);
  const saver = makeSaver(options, { monitor, records, statics, unreadable, observers });
  return { options, monitor, responder, records, statics, saver, observers, unreadable, staticPolicy, startedAt };
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
export function monitorSink(monitor: HostMonitor, responder: Responder | undefined): HostEventSink {
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
