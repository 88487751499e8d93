// Events the host monitor did not score because they never reached it or it had no room: calls the capture
// reported lost (in the kernel, in the capture, in the monitor) and events dropped at the task or profile limit.
// Each is counted by where it happened, and reported in an overload alert that collects them: losses at most once
// a second, drops at most once every 10 seconds, so that an overloaded host is not flooded with alerts as well.

import type { LossSite } from "../capture/hostEvents.js";
import type { HostAlerts } from "./hostAlerts.js";
import type { HostCounts } from "./hostMonitorStats.js";

export class HostLosses {
  /** Events lost, by where. */
  readonly lostBy: Record<LossSite, number> = { kernel: 0, capture: 0, monitor: 0 };
  private pendingLost = 0;
  private lostAlertAt = Number.NEGATIVE_INFINITY;
  private dropAlertAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly alerts: HostAlerts,
    private readonly counts: HostCounts,
  ) {}

  /** `count` events lost at `site` (the capture's report), at event time `time`. */
  lost(count: number, site: LossSite, time: number): void {
    this.lostBy[site] += count;
    this.pendingLost += count;
    if (time - this.lostAlertAt >= 1) this.flushLost(time);
  }

  /** An event dropped at `now` because `what` reached its `limit`. */
  dropped(now: number, what: "tasks" | "profiles", limit: number): void {
    this.counts.dropped++;
    this.lostBy.monitor++;
    if (now - this.dropAlertAt < 10) return;
    this.dropAlertAt = now;
    this.alerts.dropped(now, what, limit, this.counts.dropped);
  }

  /** Periodic work: the alert for losses accumulated since the last one. */
  tick(now: number): void {
    if (this.pendingLost > 0 && now - this.lostAlertAt >= 1) this.flushLost(now);
  }

  private flushLost(now: number): void {
    const n = this.pendingLost;
    this.pendingLost = 0;
    this.lostAlertAt = now;
    this.alerts.lost(now, n, this.lostBy);
  }
}
