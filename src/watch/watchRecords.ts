// The alerts and response actions of a watch on their way to the state store. The engine and the responder hand
// them over as they happen; the store takes them in batches (one transaction each) on watch's timers. The queues are
// bounded: when the store cannot keep up, what does not fit is dropped and counted, and once the queues have room
// again one overload alert says how many were lost (the terminal saw them all).

import type { HostAlert, HostMonitor } from "../engine/hostMonitor.js";
import type { ResponseAction } from "../response/responder.js";
import type { ActionRecord, AlertRecord, StateStore } from "../store/stateStore.js";

export class WatchRecords {
  private readonly alerts: AlertRecord[] = [];
  private readonly actions: ActionRecord[] = [];
  private reportedDropped = 0;
  alertsStored = 0;
  actionsStored = 0;
  /** Alerts and actions dropped because the queues were full. */
  dropped = 0;

  constructor(private readonly maxQueued: number) {}

  /** Alerts and actions waiting for the store (queue depths, for the metrics). */
  get queued(): { alerts: number; actions: number } {
    return { alerts: this.alerts.length, actions: this.actions.length };
  }

  /** Queues an engine alert for the store; `json` is JSON.stringify(alert) when made already (for the outputs). */
  alert(alert: HostAlert, json?: string): void {
    if (this.alerts.length >= this.maxQueued) {
      this.dropped++;
      return;
    }
    const f = alert.output_fields;
    this.alerts.push({
      time: Date.parse(alert.time) / 1000,
      rule: alert.rule,
      priority: alert.priority,
      pid: typeof f["proc.pid"] === "number" ? f["proc.pid"] : null,
      exe: typeof f["proc.exepath"] === "string" ? f["proc.exepath"] : null,
      key: typeof f["homeostat.profile"] === "string" ? f["homeostat.profile"] : null,
      output: alert.output,
      json: alert,
      jsonText: json,
    });
  }

  /** Queues a responder action for the store. */
  action(action: ResponseAction): void {
    if (this.actions.length >= this.maxQueued) {
      this.dropped++;
      return;
    }
    this.actions.push({
      time: action.time,
      pid: action.pid,
      exe: action.exe === "" ? null : action.exe,
      action: action.kind,
      outcome: action.outcome,
      reason: action.reason,
      json: action,
    });
  }

  /** Writes what is queued; then, if records were dropped since the last report, raises (and stores) the alert. */
  flush(store: StateStore, monitor: HostMonitor): void {
    this.flushAlerts(store);
    if (this.actions.length > 0) {
      const batch = this.actions.splice(0);
      store.addActions(batch);
      this.actionsStored += batch.length;
    }
    if (this.dropped > this.reportedDropped) {
      // Raised once the queues are empty, so that this alert itself reaches the store.
      const n = this.dropped - this.reportedDropped;
      this.reportedDropped = this.dropped;
      monitor.raise(
        "homeostat overload: alerts dropped",
        "Error",
        `${n} alerts or actions were dropped because the store could not keep up (${this.dropped} in total); they were shown but not stored`,
        { "homeostat.dropped_records": n, "homeostat.dropped_records_total": this.dropped },
        ["overload"],
      );
      this.flushAlerts(store);
    }
  }

  private flushAlerts(store: StateStore): void {
    if (this.alerts.length === 0) return;
    const batch = this.alerts.splice(0);
    store.addAlerts(batch);
    this.alertsStored += batch.length;
  }
}
