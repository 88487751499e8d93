// The host engine's alerts: Falco's alert shape (rule, priority, output text, output fields), so that Falco consumers
// (falcosidekick, SIEM rules) read them as they are, built here for each thing the engine reports: an anomalous call
// (pH), a profile's lifecycle step, a call outside the binary's static model (Wagner & Dean), and overloads (events
// dropped or lost, analyses dropped). The texts themselves are in alertText.ts; the engine decides when to alert.

import type { LossSite } from "../capture/hostEvents.js";
import type { LifecycleSettings, LifecycleStep } from "../lifecycle/phProfile.js";
import { X86_64_SYSCALLS } from "../syscalls/x86_64.js";
import {
  anomalyText,
  droppedText,
  frozenText,
  impossibleText,
  lostText,
  normalText,
  retrainText,
  staticDroppedText,
  staticUnavailableText,
  tolerizeText,
} from "./alertText.js";
import type { ProfileEntry } from "./profileEntry.js";
import { HOST_SYMBOLS, type StaticSyscallSet, Verdict, type Violation } from "./staticCheck.js";

const SYSCALL_NAMES: readonly string[] = (() => {
  const names: string[] = [];
  for (let i = 0; i < HOST_SYMBOLS; i++) names.push(`syscall_${i}`);
  for (const [n, name] of X86_64_SYSCALLS) if (n < HOST_SYMBOLS) names[n] = name;
  return names;
})();

/** The x86_64 name of a syscall number. */
export function syscallName(nr: number): string {
  return SYSCALL_NAMES[nr] ?? `syscall_${nr}`;
}

/** The rule of alerts on calls outside an executable's static model. */
export const IMPOSSIBLE_RULE = "Impossible system call for this binary";

/** Falco's priorities, most severe first. */
export type AlertPriority =
  "Emergency" | "Alert" | "Critical" | "Error" | "Warning" | "Notice" | "Informational" | "Debug";

/** An alert with Falco's output fields, so that Falco consumers (falcosidekick, SIEM rules) can read it. */
export interface HostAlert {
  time: string;
  rule: string;
  priority: AlertPriority;
  source: "syscall";
  hostname: string;
  tags: string[];
  output: string;
  output_fields: Record<string, string | number | boolean | null | string[]>;
}

/** What an alert says of the task it is about. */
export interface AlertTask {
  readonly pid: number;
  readonly tid: number;
  /** Anomalous calls the task has made since it began its program. */
  readonly anomalies: number;
  /** Its recent calls, most recent first (-1 = none), for the window an alert shows. */
  readonly stream: { readonly recent: Int32Array };
}

const TAGS = ["homeostat", "pH", "host", "process"];

export class HostAlerts {
  /** Alerts emitted. */
  count = 0;

  constructor(
    private readonly hostname: string,
    private readonly settings: LifecycleSettings,
    private readonly onAlert: ((alert: HostAlert) => void) | undefined,
  ) {}

  /** Emits one alert at event time `now` (epoch seconds). */
  emit(
    now: number,
    rule: string,
    priority: AlertPriority,
    output: string,
    fields: HostAlert["output_fields"],
    tags: string[],
  ): void {
    this.count++;
    this.onAlert?.({
      time: new Date(now * 1000).toISOString(),
      rule,
      priority,
      source: "syscall",
      hostname: this.hostname,
      tags: [...TAGS, ...tags],
      output,
      output_fields: { "evt.time": now, ...fields },
    });
  }

  /** An anomalous call; `suppressed`: anomalies of the task not alerted since its last alert (rate limit). */
  anomaly(
    now: number,
    task: AlertTask,
    entry: ProfileEntry,
    step: LifecycleStep,
    nr: number,
    suppressed: number,
  ): void {
    const name = syscallName(nr);
    const lfc = step.lfc;
    const priority: AlertPriority = lfc > this.settings.tolerizeLimit ? "Critical" : lfc > 1 ? "Error" : "Warning";
    const text = anomalyText({
      call: name,
      pid: task.pid,
      path: entry.exe.path,
      missing: entry.profile.kind === "ph" ? step.missing : null,
      model: entry.profile.model,
      lfc,
      frame: this.settings.frame,
      anomalies: task.anomalies,
      suppressed,
    });
    const fields = {
      ...procFields(task, entry),
      "evt.type": name,
      "homeostat.misses": step.missing,
      "homeostat.lfc": lfc,
      "homeostat.anomalies": task.anomalies,
      "homeostat.profile_anomalies": entry.profile.anomalies,
      "homeostat.model": entry.profile.model,
      "homeostat.window": callWindow(task, nr),
      "homeostat.suppressed": suppressed,
    };
    this.emit(now, "Anomalous system calls", priority, text, fields, ["anomaly"]);
  }

  /** A profile's lifecycle step (frozen, normal, back to training) or a task over tolerize_limit. */
  transition(now: number, task: AlertTask, entry: ProfileEntry, step: LifecycleStep, nr: number): void {
    const p = entry.profile;
    const path = entry.exe.path;
    const s = this.settings;
    const fields = {
      ...procFields(task, entry),
      "homeostat.train_count": p.trainCount,
      "homeostat.model_size": p.modelSize(),
      "homeostat.model_unit": p.modelUnit,
    };
    const lifecycle = ["lifecycle"];
    switch (step.transition) {
      case "froze":
        this.emit(
          now,
          "homeostat profile frozen",
          "Informational",
          frozenText(path, p.trainCount, s.normalWait),
          fields,
          lifecycle,
        );
        break;
      case "normal":
        this.emit(
          now,
          "homeostat profile normal",
          "Notice",
          normalText(path, p.modelSize(), p.modelUnit),
          fields,
          lifecycle,
        );
        break;
      case "retrain":
        this.emit(
          now,
          "homeostat profile back to training",
          "Warning",
          retrainText(path, s.anomalyLimit),
          { ...fields, "evt.type": syscallName(nr) },
          lifecycle,
        );
        break;
      case "tolerized":
        this.emit(
          now,
          "homeostat tolerize limit",
          "Warning",
          tolerizeText(task.pid, path, step.lfc, s.tolerizeLimit),
          { ...fields, "homeostat.lfc": step.lfc },
          lifecycle,
        );
        break;
      default:
        break;
    }
  }

  /** A call (or pair) outside the static model; `task` undefined when it was checked after the analysis landed. */
  impossible(
    now: number,
    entry: ProfileEntry,
    model: StaticSyscallSet,
    v: Violation,
    task: AlertTask | undefined,
  ): void {
    const { verdict, prev, nr, pid, tid } = v;
    const name = syscallName(nr);
    const size = model.syscalls.length;
    const pairs = (model.pairs?.length ?? 0) / 2;
    const pair = verdict === Verdict.Pair;
    const output = impossibleText({
      call: name,
      previous: pair ? syscallName(prev) : null,
      pid,
      path: entry.exe.path,
      calls: size,
      pairs,
      complete: model.complete,
      ...(model.incomplete !== undefined ? { incomplete: model.incomplete } : {}),
      late: task === undefined,
    });
    const fields = {
      "proc.pid": pid,
      "thread.tid": tid,
      ...exeFields(entry),
      "homeostat.profile_state": entry.profile.state,
      "evt.type": name,
      "homeostat.syscall_nr": nr,
      ...(pair ? { "homeostat.static_previous": syscallName(prev), "homeostat.static_pairs": pairs } : {}),
      "homeostat.static_violation": pair ? "pair" : "call",
      "homeostat.static_complete": model.complete,
      "homeostat.static_calls": size,
      "homeostat.static_checked": task !== undefined ? "live" : "after analysis",
      ...(task !== undefined ? { "homeostat.window": callWindow(task, nr) } : {}),
    };
    this.emit(now, IMPOSSIBLE_RULE, model.complete ? "Critical" : "Warning", output, fields, ["static", "impossible"]);
  }

  /** No static model can be had for an executable: it is monitored by its profile only. */
  staticUnavailable(now: number, entry: ProfileEntry, reason: string, code: string): void {
    const fields = { ...exeFields(entry), "homeostat.static_error": code, "homeostat.static_reason": reason };
    this.emit(
      now,
      "homeostat static analysis unavailable",
      "Informational",
      staticUnavailableText(entry.exe.path, reason),
      fields,
      ["static"],
    );
  }

  /** Analyses left out of a full queue since the last such alert. */
  staticDropped(now: number, n: number): void {
    const fields = { "homeostat.dropped_analyses": n };
    this.emit(now, "homeostat overload: static analyses dropped", "Error", staticDroppedText(n), fields, [
      "overload",
      "static",
    ]);
  }

  /** Events dropped because the task or profile limit was reached. */
  dropped(now: number, what: "tasks" | "profiles", limit: number, total: number): void {
    const fields = { "homeostat.limit": what, "homeostat.limit_value": limit, "homeostat.dropped": total };
    this.emit(now, "homeostat overload: events dropped", "Error", droppedText(limit, what, total), fields, [
      "overload",
    ]);
  }

  /** Events the capture reported lost since the last such alert, with the totals by where they were lost. */
  lost(now: number, n: number, lostBy: Readonly<Record<LossSite, number>>): void {
    const fields = {
      "homeostat.lost": n,
      "homeostat.lost_kernel": lostBy.kernel,
      "homeostat.lost_capture": lostBy.capture,
      "homeostat.lost_monitor": lostBy.monitor,
    };
    this.emit(now, "homeostat capture lost events", "Error", lostText(n, lostBy), fields, ["overload"]);
  }
}

/** The task's recent calls, most recent first (the current one when none is recorded). */
function callWindow(task: AlertTask, nr: number): string[] {
  const recent = task.stream.recent;
  const out: string[] = [];
  for (let i = recent.length - 1; i >= 0; i--) if (recent[i]! >= 0) out.push(syscallName(recent[i]!));
  if (out.length === 0) out.push(syscallName(nr));
  return out;
}

function exeFields(entry: ProfileEntry): Record<string, string> {
  const path = entry.exe.path;
  return { "proc.exepath": path, "proc.name": path.slice(path.lastIndexOf("/") + 1), "homeostat.profile": entry.key };
}

function procFields(task: AlertTask, entry: ProfileEntry): Record<string, string | number> {
  return {
    "proc.pid": task.pid,
    "thread.tid": task.tid,
    ...exeFields(entry),
    "homeostat.profile_state": entry.profile.state,
  };
}
