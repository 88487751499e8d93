// The host monitor's counters: what happened to the events it was given (scored, ignored, unattributed, dropped,
// held, lost), what it holds (tasks, profiles, static models) and what it produced (alerts, responses, calls
// outside a binary's static model). watch reports them in its summary, run records and metrics.

import type { LossSite } from "../capture/hostEvents.js";

export interface HostMonitorStats {
  /** Syscall events received from the capture. */
  events: number;
  /** Events scored against a profile. */
  processed: number;
  /** Events of ignored pids (homeostat, its tracer). */
  ignored: number;
  /** Events of processes whose executable could not be identified. */
  unattributed: number;
  /** Events dropped because a limit was reached (tasks or profiles). */
  dropped: number;
  /** Events kept for tasks whose program is not known yet (attributed or given up later). */
  pending: number;
  /** Events the capture backend reported lost. */
  lost: Record<LossSite, number>;
  tasks: number;
  profiles: number;
  alerts: number;
  suppressedAlerts: number;
  responses: number;
  /** Static models: attached now, waiting for their analysis, and executables without one (failed, dropped). */
  staticModels: number;
  staticPending: number;
  staticUnavailable: number;
  /** Calls outside their executable's static model (each one, also those whose alert was deduplicated). */
  impossibleCalls: number;
  /** Of those, calls outside an incomplete model (alerted as Warnings). */
  impossibleUncertain: number;
}

/** The counters the monitor and its parts increment as events arrive (the rest of the stats is counted on demand). */
export interface HostCounts {
  events: number;
  processed: number;
  ignored: number;
  unattributed: number;
  dropped: number;
  suppressedAlerts: number;
  responses: number;
  impossibleCalls: number;
  impossibleUncertain: number;
}

export function newHostCounts(): HostCounts {
  return {
    events: 0,
    processed: 0,
    ignored: 0,
    unattributed: 0,
    dropped: 0,
    suppressedAlerts: 0,
    responses: 0,
    impossibleCalls: 0,
    impossibleUncertain: 0,
  };
}
