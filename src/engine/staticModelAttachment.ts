// Static models in the host monitor: a sense of self from the binary (Wagner & Dean, IEEE S&P 2001). When static
// models are on, the caller analyses each new executable's code (src/static, in a worker) and hands the engine the
// set of system calls that code can make; every call of that executable is then checked against the set
// (staticCheck.ts), in every lifecycle state and from its first run: a call outside it is one the binary cannot
// make, so something else is running in the process (injected code, a hijacked interpreter). Until the analysis is
// back, the distinct calls each executable made are kept and checked when it arrives. One alert per executable and
// call. A model the analysis marks incomplete (a `syscall` site whose number it could not resolve, a dlopen of
// plugins it did not see) may miss calls the binary can make: its alerts are Warnings that say so, and never ask
// for a kill.
//
// This part attaches, detaches and gives up models, and decides what a call outside one leads to; the monitor
// checks each call as it scores it.

import { type HostAlerts, syscallName } from "./hostAlerts.js";
import type { HostMonitorOptions, StaticCheckMode } from "./hostMonitorOptions.js";
import type { HostCounts } from "./hostMonitorStats.js";
import type { Task } from "./hostTask.js";
import type { ProfileEntry } from "./profileEntry.js";
import type { ProfileTable } from "./profileTable.js";
import { StaticCheck, type StaticSyscallSet, Verdict, type Violation } from "./staticCheck.js";

export interface StaticModelParts {
  readonly mode: StaticCheckMode | undefined;
  readonly profiles: ProfileTable;
  readonly tasks: ReadonlyMap<number, Task>;
  readonly alerts: HostAlerts;
  readonly counts: HostCounts;
  readonly clock: () => number;
  readonly options: HostMonitorOptions;
}

export class StaticModelAttachment {
  private droppedAlertAt = Number.NEGATIVE_INFINITY;
  private droppedPending = 0;

  constructor(private readonly parts: StaticModelParts) {}

  /** See HostMonitor.attachStaticModel. */
  attach(key: string, model: StaticSyscallSet): boolean {
    const entry = this.entry(key);
    if (entry === undefined) return false;
    const before = entry.static;
    const check = before !== null && !before.attached ? before : new StaticCheck(before ?? undefined);
    entry.static = check;
    entry.staticError = null;
    const late = check.attach(model);
    const now = this.parts.clock();
    for (const v of late) {
      // The task that made it, if it still runs this program (for a kill); the alert names it either way.
      const task = this.parts.tasks.get(v.tid);
      const live = task !== undefined && task.pid === v.pid && task.entry === entry ? task : undefined;
      this.impossible(entry, check, v, now, live, false);
    }
    return true;
  }

  /** See HostMonitor.detachStaticModel. */
  detach(key: string): boolean {
    const entry = this.entry(key);
    if (entry === undefined) return false;
    entry.static = new StaticCheck(entry.static ?? undefined);
    return true;
  }

  /** See HostMonitor.staticModelUnavailable. */
  unavailable(key: string, reason: string, code: string): boolean {
    const entry = this.entry(key);
    if (entry === undefined) return false;
    entry.static = null;
    if (entry.staticError !== null) return true;
    entry.staticError = reason;
    this.parts.alerts.staticUnavailable(this.parts.clock(), entry, reason, code);
    return true;
  }

  /** See HostMonitor.staticAnalysisDropped. */
  analysisDropped(key: string): boolean {
    const entry = this.entry(key);
    if (entry === undefined) return false;
    entry.static = null;
    entry.staticError = "the static analysis queue was full";
    this.droppedPending++;
    const now = this.parts.clock();
    if (now - this.droppedAlertAt >= 10) this.flushDropped(now);
    return true;
  }

  /** Periodic work: the overload alert for analyses dropped since the last one, at most every 10 s. */
  tick(now: number): void {
    if (this.droppedPending > 0 && now - this.droppedAlertAt >= 10) this.flushDropped(now);
  }

  /** Executables with a model attached, waiting for their analysis, and without one (failed, dropped). */
  census(): { staticModels: number; staticPending: number; staticUnavailable: number } {
    let staticModels = 0;
    let staticPending = 0;
    let staticUnavailable = 0;
    for (const e of this.parts.profiles.values()) {
      if (e.static !== null) {
        if (e.static.attached) staticModels++;
        else staticPending++;
      } else if (e.staticError !== null) staticUnavailable++;
    }
    return { staticModels, staticPending, staticUnavailable };
  }

  /**
   * A call (or a pair) the executable's binary cannot make, by its static model: one alert per executable and call
   * or pair; with "kill", a kill request for the task when the model is complete.
   */
  impossible(
    entry: ProfileEntry,
    check: StaticCheck,
    v: Violation,
    now: number,
    task: Task | undefined,
    live: boolean,
  ): void {
    const { verdict, prev, nr, pid, tid } = v;
    const model = check.model!;
    const counts = this.parts.counts;
    counts.impossibleCalls++;
    if (!model.complete) counts.impossibleUncertain++;
    const name = syscallName(nr);
    if (check.firstAlert(verdict, prev, nr))
      this.parts.alerts.impossible(now, entry, model, v, live ? task : undefined);
    if (this.parts.mode !== "kill" || !model.complete || task === undefined || task.killed) return;
    const onResponse = this.parts.options.onResponse;
    if (onResponse === undefined) return;
    task.killed = true;
    counts.responses++;
    const what = verdict === Verdict.Pair ? `${name} right after ${syscallName(prev)}` : name;
    onResponse({
      kind: "kill",
      static: true,
      pid,
      tid,
      exe: entry.exe.path,
      lfc: task.stream.lfc,
      anomalies: task.anomalies,
      syscall: name,
      time: now,
      reason: `${what} is outside the static model of ${entry.exe.path}`,
    });
  }

  /** The entry of `key` when it is held and static models are on. */
  private entry(key: string): ProfileEntry | undefined {
    const entry = this.parts.profiles.get(key);
    if (entry === undefined || this.parts.mode === undefined) return undefined;
    return entry;
  }

  private flushDropped(now: number): void {
    const n = this.droppedPending;
    this.droppedPending = 0;
    this.droppedAlertAt = now;
    this.parts.alerts.staticDropped(now, n);
  }
}
