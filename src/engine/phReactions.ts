// What one scored call leads to in pH (Somayaji & Forrest 2000): an alert when the profile changes state (frozen,
// normal, back to training) or a task goes over tolerize_limit (once per excursion); an alert for an anomalous call
// (at most `alertsPerSecond` per task, the rest counted in the next); and, while the task's locality frame count is
// above zero, the graduated response asked of the responder: a delay in proportion to the count, a kill once the
// task's anomalies reach anomaly_limit, a suspended execve when the task execs with a count at or above the execve
// limit. The responder applies policy and safety; this only decides what to ask.

import type { LifecycleSettings, LifecycleStep } from "../lifecycle/phProfile.js";
import { type HostAlerts, syscallName } from "./hostAlerts.js";
import type { HostMonitorOptions } from "./hostMonitorOptions.js";
import type { HostCounts } from "./hostMonitorStats.js";
import { type Task, withinAlertBudget } from "./hostTask.js";
import type { ProfileEntry } from "./profileEntry.js";
import type { ResponseRequest } from "./responseRequest.js";

const NR_EXECVE = 59;
const NR_EXECVEAT = 322;

export class PhReactions {
  private readonly alertsPerSecond: number;
  private readonly execveLimit: number;

  /** `settings`: the run's lifecycle settings (one object, updated in place). */
  constructor(
    private readonly settings: LifecycleSettings,
    private readonly alerts: HostAlerts,
    private readonly counts: HostCounts,
    private readonly options: HostMonitorOptions,
  ) {
    this.alertsPerSecond = options.alertsPerSecond ?? 5;
    this.execveLimit = options.execveLimit ?? settings.tolerizeLimit;
  }

  /** The alerts and response `step` (the profile's verdict on `task`'s call `nr`) leads to. */
  react(task: Task, entry: ProfileEntry, step: LifecycleStep, nr: number, now: number): void {
    if (step.transition !== null) this.transition(task, entry, step, nr, now);
    else if (task.tolerizedAlerted && step.lfc <= this.settings.tolerizeLimit) task.tolerizedAlerted = false;
    if (step.anomaly) {
      task.anomalies++;
      this.anomaly(task, entry, step, nr, now);
    }
    const onResponse = this.options.onResponse;
    if (step.lfc > 0 && onResponse !== undefined) {
      const request = graduatedResponse(task, entry, step, nr, now, this.settings.anomalyLimit, this.execveLimit);
      this.counts.responses++;
      onResponse(request);
    }
  }

  private anomaly(task: Task, entry: ProfileEntry, step: LifecycleStep, nr: number, now: number): void {
    if (!withinAlertBudget(task, now, this.alertsPerSecond)) {
      this.counts.suppressedAlerts++;
      return;
    }
    const suppressed = task.suppressed;
    task.suppressed = 0;
    this.alerts.anomaly(now, task, entry, step, nr, suppressed);
  }

  private transition(task: Task, entry: ProfileEntry, step: LifecycleStep, nr: number, now: number): void {
    // A task over tolerize_limit resets the training model on every call: say so once per excursion, and cheaply.
    if (step.transition === "tolerized") {
      if (task.tolerizedAlerted) return;
      task.tolerizedAlerted = true;
    }
    this.alerts.transition(now, task, entry, step, nr);
  }
}

/** The graduated response to `task`'s call `nr` (a kill marks the task killed, so that it is asked for once). */
export function graduatedResponse(
  task: Task,
  entry: ProfileEntry,
  step: LifecycleStep,
  nr: number,
  now: number,
  anomalyLimit: number,
  execveLimit: number,
): ResponseRequest {
  const base = {
    pid: task.pid,
    tid: task.tid,
    exe: entry.exe.path,
    lfc: step.lfc,
    anomalies: task.anomalies,
    syscall: syscallName(nr),
    time: now,
  };
  if (!task.killed && task.anomalies >= anomalyLimit) {
    task.killed = true;
    return { ...base, kind: "kill", reason: `${task.anomalies} anomalies reached anomaly_limit ${anomalyLimit}` };
  }
  if ((nr === NR_EXECVE || nr === NR_EXECVEAT) && step.lfc >= execveLimit) {
    return { ...base, kind: "suspend-execve", reason: `execve with LFC ${step.lfc} >= ${execveLimit}` };
  }
  return { ...base, kind: "delay", reason: `LFC ${step.lfc}` };
}
