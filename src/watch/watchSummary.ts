// What one host watch did (hostWatch.ts), summed up when it ends: the capture's, the engine's and the responder's
// figures, what was stored, the static models' counts, each observer's figures, and the watched command's exit.

import type { HostCaptureStats } from "../capture/hostEvents.js";
import type { StraceCaptureResult } from "../capture/straceCapture.js";
import type { HostMonitorStats } from "../engine/hostMonitor.js";
import type { ResponderStats } from "../response/responder.js";
import type { StaticModelCounts, StaticPolicy } from "./staticModels.js";
import type { WatchBackend } from "./watchCapture.js";
import type { WatchParts } from "./watchParts.js";

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

/** The summary of a watch whose capture has ended with `stats`. */
export function summarise(parts: WatchParts, stats: HostCaptureStats): HostWatchSummary {
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
