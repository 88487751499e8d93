// What the host monitor (hostMonitor.ts) is given: pH's lifecycle settings, its memory bounds, the callbacks that
// do its I/O (identifying an executable, loading a stored profile, delivering alerts and response requests), and
// whether calls are checked against static models. The monitor itself reads no file, clock or socket.

import type { ExeIdentity } from "../capture/hostEvents.js";
import type { LiveProfile } from "../lifecycle/liveProfile.js";
import type { LifecycleSettings } from "../lifecycle/phProfile.js";
import type { HostAlert } from "./hostAlerts.js";
import type { ProfileEntry } from "./profileEntry.js";
import type { ResponseRequest } from "./responseRequest.js";

/** Static models: "alert" on calls outside them; "kill" also asks the responder to kill the process. */
export type StaticCheckMode = "alert" | "kill";

export interface HostMonitorOptions {
  /** pH settings for new profiles (and the lifecycle settings of loaded ones). */
  settings?: Partial<LifecycleSettings>;
  /** Tasks tracked at most (default 65,536); events of tasks beyond are dropped and counted. */
  maxTasks?: number;
  /** Profiles held at most (default 4,096); events of executables beyond are dropped and counted. */
  maxProfiles?: number;
  /** Identifies the executable of a process seen for the first time (I/O: /proc), or undefined. */
  identify?: (pid: number) => ExeIdentity | undefined;
  /** A stored profile for `key`, or undefined to start a new one (I/O: the store). */
  loadProfile?: (key: string, exe: ExeIdentity) => { profile: LiveProfile; version: number } | undefined;
  /** A new profile (default: pH's lookahead pairs with this monitor's settings). */
  createProfile?: (settings: LifecycleSettings) => LiveProfile;
  onAlert?: (alert: HostAlert) => void;
  onResponse?: (request: ResponseRequest) => void;
  /** LFC at or above which a task's execve is suspended (pH's suspend_execve; default tolerize_limit). */
  execveLimit?: number;
  /** Anomaly alerts per task per second at most (default 5); the rest are counted in the next alert. */
  alertsPerSecond?: number;
  /** Pids whose events are ignored (homeostat itself, its tracer). */
  ignorePids?: Iterable<number>;
  hostname?: string;
  /** Clock in epoch seconds, for events without a time (default Date.now()/1000). */
  clock?: () => number;
  /**
   * Check every call against its executable's static model (attachStaticModel); undefined: off. "kill" asks for a
   * kill (a ResponseRequest with `static: true`) of a process that makes a call outside a complete model.
   */
  staticModels?: StaticCheckMode;
  /**
   * A new profile entry is held (loaded or created): the caller may attach a stored static model at once, or start
   * an analysis and attach its model later. Called once per entry, after it is in place.
   */
  onProfileAdded?: (entry: ProfileEntry) => void;
  /**
   * Seconds of event time the calls of a task whose program only /proc names are held before they are scored (an
   * exec meanwhile shows they were another program's, a fork that they continue the parent's sequence); default
   * DEFAULT_CONFIRM_GRACE, static models on or off. 0 scores them at once, from an empty sequence.
   */
  confirmGrace?: number;
}

/**
 * How long, in seconds of event time, the calls of a task only /proc names wait (hostTask.ts). strace prints a
 * child's first calls before its parent's fork returns, under load by a good fraction of a second: scored at once,
 * they would start from an empty sequence instead of the parent's, and pH would flag what the program always does.
 */
export const DEFAULT_CONFIRM_GRACE = 1;
