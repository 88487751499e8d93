// What a caller asks of `homeostat watch` as a library (hostWatch.ts): the capture backend and its target, the state
// store, the engine's and the responder's settings, the static models, the outputs and observers the caller opened,
// and the callbacks through which alerts, actions and messages reach it (watch itself prints nothing).

import type { HostAlert } from "../engine/hostMonitor.js";
import type { LifecycleSettings } from "../lifecycle/lifecycleSettings.js";
import type { ResponseAction, ResponderOptions } from "../response/responder.js";
import type { StateStore } from "../store/stateStore.js";
import type { AlertOutputs } from "./outputs/alertOutputs.js";
import type { WatchMetrics } from "./outputs/metricsRegistry.js";
import type { StaticPolicy } from "./staticModels.js";
import type { WatchBackend } from "./watchCapture.js";
import type { WatchObserver } from "./watchObserver.js";

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
