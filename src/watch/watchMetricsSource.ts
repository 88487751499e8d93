// What a watch's Prometheus metrics (outputs/metricsRegistry.ts) read when scraped: the engine's counters, the depths
// of the store's queues and of the outputs', and the outputs' and saver's own figures. Nothing is counted twice:
// the metrics read the parts' counters at scrape time.

import type { HostMonitor } from "../engine/hostMonitor.js";
import type { AlertOutputs } from "./outputs/alertOutputs.js";
import type { WatchMetricsSource } from "./outputs/metricsRegistry.js";
import type { ProfileSaver } from "./profileSaver.js";
import type { WatchRecords } from "./watchRecords.js";

export function watchMetricsSource(
  outputs: AlertOutputs | undefined,
  monitor: HostMonitor,
  records: WatchRecords,
  saver: ProfileSaver,
): WatchMetricsSource {
  return {
    monitor: () => monitor.stats(),
    profiles: () => monitor.profiles(),
    latestEventTime: () => monitor.latestEventTime,
    queues: () => {
      const q = records.queued;
      const o = outputs?.stats;
      return {
        store_alerts: q.alerts,
        store_actions: q.actions,
        static_analysis: monitor.stats().staticPending,
        ...(o?.http !== undefined ? { alert_spool: o.http.spoolPending } : {}),
        ...(o?.syslog !== undefined ? { syslog: o.syslog.queued } : {}),
      };
    },
    outputs: () => outputs?.stats ?? {},
    store: () => ({ dropped: records.dropped, saves: saver.saves, profilesSaved: saver.profilesSaved }),
  };
}
