// The host monitor's engine: pH (Somayaji & Forrest 2000) in user space. Every task's system calls are scored
// against the profile of the executable its process runs (one profile per executable, keyed by path, device and
// inode), profiles train themselves and become normal (phProfile.ts), anomalies raise alerts, and anomalous tasks
// produce response requests (graduated delay, kill at anomaly_limit, suspended execve) for a responder to carry out.
//
// Like Falco's engine, it does no I/O: events arrive through the HostEventSink interface from any backend
// (bpftrace system-wide, strace per command), executables are identified, profiles loaded, alerts and responses
// delivered through callbacks the caller supplies. Memory is bounded: at most `maxTasks` tasks and `maxProfiles`
// profiles are tracked; past that, events are dropped, counted, and an alert says so, rather than growing.
// The hot path (`syscall`) does one Map lookup per task switch, two table probes per lag, and no allocation unless
// the call is anomalous.
//
// This file is the state machine over tasks (events in: syscall, exec, fork, exit); its parts have a file each:
// a task's state (hostTask.ts) and the tasks held until their program is certain (heldTasks.ts), the profiles
// (profileTable.ts), what a scored call leads to (phReactions.ts: alerts, pH's graduated response), static models
// from the binary, Wagner & Dean's (staticModelAttachment.ts), losses and drops (hostLosses.ts), the alerts
// (hostAlerts.ts), its options (hostMonitorOptions.ts) and counters (hostMonitorStats.ts).

import type { ExeIdentity, HostEventSink, LossSite } from "../capture/hostEvents.js";
import { HomeostatError } from "../errors.js";
import type { LiveProfile, LiveStream } from "../lifecycle/liveProfile.js";
import { validateSettings } from "../lifecycle/lifecycleSettings.js";
import { type LifecycleSettings, PhStream } from "../lifecycle/phProfile.js";
import { type AlertPriority, type HostAlert, HostAlerts } from "./hostAlerts.js";
import { DEFAULT_CONFIRM_GRACE, type HostMonitorOptions, type StaticCheckMode } from "./hostMonitorOptions.js";
import { type HostMonitorStats, newHostCounts } from "./hostMonitorStats.js";
import { HeldTasks } from "./heldTasks.js";
import { HostLosses } from "./hostLosses.js";
import { continueParent, createTask, leaveProgram, PENDING_CALLS, restartTask, type Task } from "./hostTask.js";
import type { ProfileEntry } from "./profileEntry.js";
import { PhReactions } from "./phReactions.js";
import { ProfileTable } from "./profileTable.js";
import { HOST_SYMBOLS, type StaticCheck, type StaticSyscallSet, Verdict } from "./staticCheck.js";
import { StaticModelAttachment } from "./staticModelAttachment.js";

export { type AlertPriority, type HostAlert, IMPOSSIBLE_RULE, syscallName } from "./hostAlerts.js";
export type { HostMonitorOptions, StaticCheckMode } from "./hostMonitorOptions.js";
export type { HostMonitorStats } from "./hostMonitorStats.js";
export type { ProfileEntry } from "./profileEntry.js";
export type { ResponseKind, ResponseRequest } from "./responseRequest.js";
export { HOST_SYMBOLS, type StaticSyscallSet } from "./staticCheck.js";

export class HostMonitor implements HostEventSink {
  readonly settings: LifecycleSettings;
  private readonly tasks = new Map<number, Task>();
  private readonly entries: ProfileTable;
  private readonly statics: StaticModelAttachment;
  private readonly maxTasks: number;
  private readonly maxProfiles: number;
  private readonly ignore: Set<number>;
  private readonly alerts: HostAlerts;
  private readonly reactions: PhReactions;
  private readonly losses: HostLosses;
  private readonly clock: () => number;
  private lastTid = -1;
  private lastTask: Task | undefined;
  private readonly staticMode: StaticCheckMode | undefined;
  private readonly confirmGrace: number;
  private readonly held = new HeldTasks((task, entry, nr, now) => this.score(task, entry, nr, now));
  /** The latest event time seen: when to score held calls. */
  private latestTime = Number.NEGATIVE_INFINITY;
  private readonly counts = newHostCounts();

  constructor(private readonly options: HostMonitorOptions = {}) {
    this.settings = validateSettings(options.settings ?? {});
    this.maxTasks = options.maxTasks ?? 65_536;
    this.maxProfiles = options.maxProfiles ?? 4_096;
    if (!(this.maxTasks >= 1 && this.maxProfiles >= 1)) {
      throw new HomeostatError("E_USAGE", "maxTasks and maxProfiles must be at least 1");
    }
    this.ignore = new Set(options.ignorePids ?? []);
    this.alerts = new HostAlerts(options.hostname ?? "localhost", this.settings, options.onAlert);
    this.reactions = new PhReactions(this.settings, this.alerts, this.counts, options);
    this.losses = new HostLosses(this.alerts, this.counts);
    this.clock = options.clock ?? (() => Date.now() / 1000);
    this.staticMode = options.staticModels;
    this.confirmGrace = options.confirmGrace ?? DEFAULT_CONFIRM_GRACE;
    if (!(this.confirmGrace >= 0))
      throw new HomeostatError("E_USAGE", `confirmGrace must be >= 0, got ${this.confirmGrace}`);
    this.entries = new ProfileTable(this.settings, options, this.maxProfiles, this.staticMode);
    this.statics = new StaticModelAttachment({
      mode: this.staticMode,
      profiles: this.entries,
      tasks: this.tasks,
      alerts: this.alerts,
      counts: this.counts,
      clock: this.clock,
      options,
    });
  }

  // ------------------------------------------------------------------------------------------------ events

  syscall(pid: number, tid: number, nr: number, time: number): void {
    this.counts.events++;
    if (time > this.latestTime) this.latestTime = time;
    let task = tid === this.lastTid ? this.lastTask : this.tasks.get(tid);
    if (task === undefined) {
      if (this.ignore.has(pid)) {
        this.counts.ignored++;
        return;
      }
      task = this.newTask(pid, tid, undefined, time);
      if (task === undefined) return;
    }
    this.lastTid = tid;
    this.lastTask = task;
    const entry = task.entry;
    if (entry === null) {
      if (task.pending !== null && task.pendingCount < PENDING_CALLS) task.pending[task.pendingCount++] = nr;
      else this.counts.unattributed++;
      return;
    }
    const now = time === time ? time : this.clock();
    if (task.pending !== null) {
      // Held: its program is not certain yet.
      if (now < task.confirmAt && task.pendingCount < PENDING_CALLS) {
        task.pending[task.pendingCount++] = nr;
        return;
      }
      this.held.confirm(task, now);
    }
    this.score(task, entry, nr, now);
  }

  /** One call of a task against its program's profile: lifecycle, alerts, responses. */
  private score(task: Task, entry: ProfileEntry, nr: number, now: number): void {
    const step = entry.profile.step(task.stream, nr, now);
    entry.dirty = true;
    this.counts.processed++;
    this.reactions.react(task, entry, step, nr, now);
    const check = entry.static;
    if (check !== null && nr >= 0 && nr < HOST_SYMBOLS) this.checkCall(task, entry, check, nr, now);
  }

  exec(pid: number, tid: number, exe: ExeIdentity | undefined, time: number): void {
    if (this.ignore.has(pid)) return;
    const task = this.tasks.get(tid);
    if (task === undefined) {
      this.newTask(pid, tid, exe, time);
      return;
    }
    // pH: a new program starts a new sequence against its own profile. Calls of the old program that could not be
    // attributed are given up.
    const next = exe === undefined ? null : this.entryFor(exe, time);
    if (task.entry !== null && task.pending !== null) {
      // Held: when /proc named another program than this exec's, it was read before the exec, and the calls held
      // were that program's: scored now. When it named this one, they were made by whatever ran before: given up.
      if (next !== task.entry) this.held.confirm(task, time === time ? time : this.clock());
    }
    this.counts.unattributed += this.held.giveUp(task);
    leaveProgram(task);
    restartTask(task, pid, next, this.streamFor(next));
  }

  fork(parentPid: number, parentTid: number, childPid: number, childTid: number, time: number): void {
    if (this.ignore.has(parentPid)) {
      // Descendants of an ignored process (homeostat's own helpers) are not ignored: only the process itself.
      return;
    }
    const parent = this.tasks.get(parentTid) ?? this.tasks.get(parentPid);
    // A held parent that forks runs its program (it is not between a fork and an exec): certain now.
    if (parent !== undefined && parent.entry !== null && parent.pending !== null)
      this.held.confirm(parent, time === time ? time : this.clock());
    const early = this.tasks.get(childTid);
    if (early !== undefined) {
      // The child's calls arrived before its parent's fork returned (strace prints them in any order): it runs
      // the parent's program, from the parent's sequence; replay what it did meanwhile.
      if (early.entry === null && parent !== undefined && parent.entry !== null) this.adopt(early, parent, time);
      // Held because /proc named its program. No exec of the child has come through yet (an exec ends the holding),
      // so every call held was made by the program a fork starts with, the parent's: whatever /proc showed (another
      // program when it was read after execs still on their way), the child continues the parent's sequence, its
      // held calls scored there, as adopt does. The execs, when they come, start the programs /proc saw.
      else if (early.entry !== null && early.pending !== null && parent !== undefined && parent.entry !== null) {
        continueParent(early, parent);
        this.held.confirm(early, time === time ? time : this.clock());
      }
      return;
    }
    if (parent === undefined || this.tasks.size >= this.maxTasks) {
      if (parent === undefined) this.newTask(childPid, childTid, undefined, time);
      else this.dropped(time, "tasks");
      return;
    }
    // pH keeps the sequence and locality frame in the task, and fork copies the task.
    const child = this.addTask(childPid, childTid, parent.entry, parent.stream.clone());
    child.anomalies = parent.anomalies;
  }

  exit(_pid: number, tid: number, time: number): void {
    const task = this.tasks.get(tid);
    if (task === undefined) return;
    // Held, and ended without an exec: the program /proc showed was the one it ran.
    if (task.entry !== null && task.pending !== null) this.held.confirm(task, time === time ? time : this.clock());
    this.counts.unattributed += this.held.giveUp(task);
    leaveProgram(task);
    this.tasks.delete(tid);
    if (this.lastTid === tid) {
      this.lastTid = -1;
      this.lastTask = undefined;
    }
  }

  lost(count: number, site: LossSite, time: number): void {
    if (!(count > 0)) return;
    // Whose calls were lost is unknown: no task's next call can be checked as a pair.
    if (this.staticMode !== undefined) for (const t of this.tasks.values()) t.staticPrev = -1;
    this.losses.lost(count, site, time);
  }

  /**
   * Periodic work (call about once a second): alerts for losses accumulated since the last one; the calls of held
   * tasks are scored once the events have reached their grace time, or at once when no event arrived since the last
   * tick (an exec that /proc already showed would have been delivered by then). tick(Infinity) at the end scores
   * every held call.
   */
  tick(now: number = this.clock()): void {
    // The end's tick(Infinity) still flushes losses, but an alert must carry a real time.
    this.losses.tick(Number.isFinite(now) ? now : Math.max(this.latestTime, this.clock()));
    this.statics.tick(now);
    this.held.tick(now, this.counts.events, this.latestTime, this.clock);
  }

  /** Forgets tasks whose process is gone (an exit the capture missed); returns how many. */
  sweep(isAlive: (pid: number, tid: number) => boolean): number {
    let n = 0;
    for (const [tid, task] of this.tasks) {
      if (!isAlive(task.pid, tid)) {
        this.exit(task.pid, tid, Number.NaN);
        n++;
      }
    }
    return n;
  }

  // ------------------------------------------------------------------------------------------------ profiles

  /** Every profile held, for saving and reports. */
  profiles(): IterableIterator<ProfileEntry> {
    return this.entries.values();
  }

  profile(key: string): ProfileEntry | undefined {
    return this.entries.get(key);
  }

  /** Replaces a held profile (an administrator changed it in the store); tasks keep their sequences. */
  replaceProfile(key: string, profile: LiveProfile, version: number): boolean {
    return this.entries.replace(key, profile, version);
  }

  /** The time of the newest event seen (epoch seconds; -Infinity before the first): watch's event lag metric. */
  get latestEventTime(): number {
    return this.latestTime;
  }

  stats(): HostMonitorStats {
    let pending = 0;
    for (const t of this.tasks.values()) pending += t.pendingCount;
    const { staticModels, staticPending, staticUnavailable } = this.statics.census();
    return {
      ...this.counts,
      alerts: this.alerts.count,
      pending,
      lost: { ...this.losses.lostBy },
      tasks: this.tasks.size,
      profiles: this.entries.size,
      staticModels,
      staticPending,
      staticUnavailable,
    };
  }

  // ------------------------------------------------------------------------------------------------ static models

  /**
   * The static model of an executable's binary (its analysis is done): from now on every call of it is checked
   * against the set, and the calls it made while the analysis ran are checked now. Replaces an earlier model (a
   * re-analysis). False when no such profile is held, or static models are off.
   */
  attachStaticModel(key: string, model: StaticSyscallSet): boolean {
    return this.statics.attach(key, model);
  }

  /**
   * The executable's static model is out of date (its binary or a library changed on disk): its calls are kept
   * again until the new analysis is attached. False when no such profile is held, or static models are off.
   */
  detachStaticModel(key: string): boolean {
    return this.statics.detach(key);
  }

  /**
   * No static model can be had for this executable (not ELF, a library missing, the analysis failed): it is
   * monitored by its learned profile only, and an informational alert says why, once.
   */
  staticModelUnavailable(key: string, reason: string, code = "E_STATIC"): boolean {
    return this.statics.unavailable(key, reason, code);
  }

  /**
   * The executable's analysis could not even be queued (the analysis queue is full): counted, and reported in an
   * overload alert at most every 10 s, like other drops; it is monitored by its learned profile only.
   */
  staticAnalysisDropped(key: string): boolean {
    return this.statics.analysisDropped(key);
  }

  // ------------------------------------------------------------------------------------------------ internals

  /** A child not yet attributed runs its parent's program: its calls so far are scored there. */
  private adopt(task: Task, parent: Task, time: number): void {
    continueParent(task, parent);
    if (task.pending === null) return;
    this.held.confirm(task, time === time ? time : this.clock());
  }

  private newTask(pid: number, tid: number, exe: ExeIdentity | undefined, time: number): Task | undefined {
    if (this.tasks.size >= this.maxTasks) {
      this.dropped(time, "tasks");
      return undefined;
    }
    let entry: ProfileEntry | null = null;
    // A task whose program only /proc names is held (confirmGrace); an exec names it for certain.
    let confirmAt: number | undefined;
    // A thread of a known process runs the same program.
    const sibling = tid !== pid ? this.tasks.get(pid) : undefined;
    if (exe === undefined && sibling !== undefined) {
      entry = sibling.entry;
      if (entry !== null && sibling.pending !== null) confirmAt = sibling.confirmAt;
    } else {
      const id = exe ?? this.options.identify?.(pid);
      if (id !== undefined) {
        entry = this.entryFor(id, time);
        if (entry === null) return undefined;
        if (exe === undefined && this.confirmGrace > 0)
          confirmAt = (time === time ? time : this.clock()) + this.confirmGrace;
      }
    }
    return this.addTask(pid, tid, entry, this.streamFor(entry), confirmAt);
  }

  /** A new task (see createTask), tracked. */
  private addTask(pid: number, tid: number, entry: ProfileEntry | null, stream: LiveStream, confirmAt?: number): Task {
    const task = createTask(pid, tid, entry, stream, confirmAt);
    if (entry !== null) entry.tasks++;
    if (entry !== null && confirmAt !== undefined) this.held.add(task);
    this.tasks.set(tid, task);
    return task;
  }

  private streamFor(entry: ProfileEntry | null): LiveStream {
    return entry !== null ? entry.profile.newStream() : new PhStream(this.settings.lookahead, this.settings.frame);
  }

  /** The entry of an executable, loading or creating its profile; null (and counted) past maxProfiles. */
  private entryFor(exe: ExeIdentity, time: number): ProfileEntry | null {
    const entry = this.entries.entryFor(exe);
    if (entry === null) this.dropped(time, "profiles");
    return entry;
  }

  /**
   * New lifecycle settings while running (watch's SIGHUP): normal_factor(_den), normal_wait, anomaly_limit and
   * tolerize_limit, for every profile held and every one loaded or created later; the model's own settings
   * (lookahead, frame) and the execve limit stay as they were. Invalid settings throw and change nothing.
   */
  updateSettings(settings: Partial<Omit<LifecycleSettings, "lookahead" | "frame">>): void {
    this.entries.updateSettings(settings);
  }

  private checkCall(task: Task, entry: ProfileEntry, check: StaticCheck, nr: number, now: number): void {
    const prev = task.staticPrev;
    const verdict = check.check(prev, nr, task.pid, task.tid);
    // After an outside call nothing is known of where the code is: the next call is checked against the set only.
    task.staticPrev = verdict === Verdict.Allowed ? nr : -1;
    if (verdict !== Verdict.Allowed)
      this.statics.impossible(entry, check, { verdict, prev, nr, pid: task.pid, tid: task.tid }, now, task, true);
  }

  private dropped(time: number, what: "tasks" | "profiles"): void {
    const now = time === time ? time : this.clock();
    this.losses.dropped(now, what, what === "tasks" ? this.maxTasks : this.maxProfiles);
  }

  /** An alert of the caller's own (e.g. the watch loop's overload), in the engine's format and counts. */
  raise(
    rule: string,
    priority: AlertPriority,
    output: string,
    fields: HostAlert["output_fields"],
    tags: string[],
  ): void {
    this.alerts.emit(this.clock(), rule, priority, output, fields, tags);
  }
}
