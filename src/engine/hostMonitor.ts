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
// A sense of self from the binary (Wagner & Dean, IEEE S&P 2001): when static models are on (`staticModels`), the
// caller analyses each new executable's code (src/static, in a worker) and hands the engine the set of system calls
// that code can make (`attachStaticModel`). Every call of that executable is checked against the set, in every
// lifecycle state and from its first run: a call outside it is one the binary cannot make, so something else is
// running in the process (injected code, a hijacked interpreter). Until the analysis is back, the distinct calls each
// executable made (a bitset, with the first task that made each) are kept and checked when it arrives. One alert per
// executable and call. A model the analysis marks incomplete (a `syscall` site whose number it could not resolve, a
// dlopen of plugins it did not see) may miss calls the binary can make: its alerts are Warnings that say so, and
// never ask for a kill.
//
// With static models on, a task whose program only /proc names (a process first seen mid-life, or a child whose
// calls arrive before its parent's fork) is held: its calls (up to 256) wait until it has run `confirmGrace` seconds
// of event time without an exec, or ends, and are then scored and checked; if an exec of the program /proc named
// comes first, they were made by the program before it (the shell's dup2 and execve, charged to the new program
// because /proc already showed it) and are counted unattributed. Neither the profile nor the static check is
// charged with another program's calls.

import { type ExeIdentity, exeKey, type HostEventSink, type LossSite } from "../capture/hostEvents.js";
import { HomeostatError } from "../errors.js";
import type { LiveProfile, LiveStream } from "../lifecycle/liveProfile.js";
import { validateSettings } from "../lifecycle/lifecycleSettings.js";
import { PhProfile, type LifecycleSettings, type LifecycleStep, PhStream } from "../lifecycle/phProfile.js";
import { type AlertPriority, type HostAlert, HostAlerts, syscallName } from "./hostAlerts.js";
import type { ProfileEntry } from "./profileEntry.js";
import type { ResponseRequest } from "./responseRequest.js";
import { HOST_SYMBOLS, type Violation, StaticCheck, type StaticSyscallSet, Verdict } from "./staticCheck.js";

export { type AlertPriority, type HostAlert, IMPOSSIBLE_RULE, syscallName } from "./hostAlerts.js";
export type { ProfileEntry } from "./profileEntry.js";
export type { ResponseKind, ResponseRequest } from "./responseRequest.js";
export { HOST_SYMBOLS, type StaticSyscallSet } from "./staticCheck.js";

const NR_EXECVE = 59;
const NR_EXECVEAT = 322;

/** Calls kept for a task whose program is not known yet (a child seen before its parent's fork returned). */
const PENDING_CALLS = 256;

interface Task {
  pid: number;
  tid: number;
  entry: ProfileEntry | null;
  /**
   * Calls of a task not yet attributed (entry null), replayed when its fork is seen; or of a held task (entry set),
   * replayed when its program is certain; null otherwise.
   */
  pending: Uint16Array | null;
  pendingCount: number;
  stream: LiveStream;
  anomalies: number;
  alertSecond: number;
  alertsInSecond: number;
  suppressed: number;
  tolerizedAlerted: boolean;
  killed: boolean;
  /**
   * The call before, for the static digraph; -1 when unknown: a task's first call, after an exec, a fork (the
   * child's and the parent's calls may arrive in either order), calls given up or lost, or a call outside the model.
   */
  staticPrev: number;
  /**
   * A held task (entry set, `pending` kept): its program is only known from /proc, its calls wait in `pending` until
   * `confirmAt` (event time), its exit, or a full buffer; an exec first gives them up.
   */
  confirmAt: number;
}

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
   * exec meanwhile shows they were another program's). Default 1 with static models on, 0 (at once) otherwise.
   */
  confirmGrace?: number;
}

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

export class HostMonitor implements HostEventSink {
  readonly settings: LifecycleSettings;
  private readonly tasks = new Map<number, Task>();
  private readonly entries = new Map<string, ProfileEntry>();
  /** The same entries by `dev:ino`, for an exec whose path is only known relative (the process ended first). */
  private readonly byInode = new Map<string, ProfileEntry>();
  private readonly maxTasks: number;
  private readonly maxProfiles: number;
  private readonly ignore: Set<number>;
  private readonly execveLimit: number;
  private readonly alertsPerSecond: number;
  private readonly alerts: HostAlerts;
  private readonly clock: () => number;
  private lastTid = -1;
  private lastTask: Task | undefined;
  private dropAlertAt = Number.NEGATIVE_INFINITY;
  private readonly staticMode: StaticCheckMode | undefined;
  private readonly confirmGrace: number;
  /** Held tasks (Task.confirmAt). */
  private readonly unconfirmed = new Set<Task>();
  /** The latest event time seen, and the event count at the last tick: when to score held calls. */
  private latestTime = Number.NEGATIVE_INFINITY;
  private eventsAtTick = -1;
  private staticDroppedAlertAt = Number.NEGATIVE_INFINITY;
  private staticDroppedPending = 0;
  private pendingLost = 0;
  private lostAlertAt = Number.NEGATIVE_INFINITY;
  private readonly counts = {
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
  private readonly lostBy: Record<LossSite, number> = { kernel: 0, capture: 0, monitor: 0 };

  constructor(private readonly options: HostMonitorOptions = {}) {
    this.settings = validateSettings(options.settings ?? {});
    this.maxTasks = options.maxTasks ?? 65_536;
    this.maxProfiles = options.maxProfiles ?? 4_096;
    if (!(this.maxTasks >= 1 && this.maxProfiles >= 1)) {
      throw new HomeostatError("E_USAGE", "maxTasks and maxProfiles must be at least 1");
    }
    this.ignore = new Set(options.ignorePids ?? []);
    this.execveLimit = options.execveLimit ?? this.settings.tolerizeLimit;
    this.alertsPerSecond = options.alertsPerSecond ?? 5;
    this.alerts = new HostAlerts(options.hostname ?? "localhost", this.settings, options.onAlert);
    this.clock = options.clock ?? (() => Date.now() / 1000);
    this.staticMode = options.staticModels;
    this.confirmGrace = options.confirmGrace ?? (this.staticMode !== undefined ? 1 : 0);
    if (!(this.confirmGrace >= 0))
      throw new HomeostatError("E_USAGE", `confirmGrace must be >= 0, got ${this.confirmGrace}`);
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
      this.confirm(task, now);
    }
    this.score(task, entry, nr, now);
  }

  /** One call of a task against its program's profile: lifecycle, alerts, responses. */
  private score(task: Task, entry: ProfileEntry, nr: number, now: number): void {
    const step = entry.profile.step(task.stream, nr, now);
    entry.dirty = true;
    this.counts.processed++;
    if (step.transition !== null) this.transition(task, entry, step, nr, now);
    else if (task.tolerizedAlerted && step.lfc <= this.settings.tolerizeLimit) task.tolerizedAlerted = false;
    if (step.anomaly) {
      task.anomalies++;
      this.anomaly(task, entry, step, nr, now);
    }
    if (step.lfc > 0 && this.options.onResponse !== undefined) this.respond(task, entry, step, nr, now);
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
      if (next !== task.entry) this.confirm(task, time === time ? time : this.clock());
    }
    this.giveUp(task);
    this.detach(task);
    task.pid = pid;
    task.entry = next;
    if (task.entry !== null) task.entry.tasks++;
    task.stream = this.streamFor(task.entry);
    task.anomalies = 0;
    task.killed = false;
    task.staticPrev = -1;
    task.tolerizedAlerted = false;
  }

  fork(parentPid: number, parentTid: number, childPid: number, childTid: number, time: number): void {
    if (this.ignore.has(parentPid)) {
      // Descendants of an ignored process (homeostat's own helpers) are not ignored: only the process itself.
      return;
    }
    const parent = this.tasks.get(parentTid) ?? this.tasks.get(parentPid);
    // A held parent that forks runs its program (it is not between a fork and an exec): certain now.
    if (parent !== undefined && parent.entry !== null && parent.pending !== null)
      this.confirm(parent, time === time ? time : this.clock());
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
        if (early.entry !== parent.entry) {
          early.entry.tasks--;
          early.entry = parent.entry;
          early.entry.tasks++;
        }
        early.stream = parent.stream.clone();
        early.anomalies = parent.anomalies;
        this.confirm(early, time === time ? time : this.clock());
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
    if (task.entry !== null && task.pending !== null) this.confirm(task, time === time ? time : this.clock());
    this.giveUp(task);
    this.detach(task);
    this.tasks.delete(tid);
    if (this.lastTid === tid) {
      this.lastTid = -1;
      this.lastTask = undefined;
    }
  }

  lost(count: number, site: LossSite, time: number): void {
    if (!(count > 0)) return;
    this.lostBy[site] += count;
    this.pendingLost += count;
    // Whose calls were lost is unknown: no task's next call can be checked as a pair.
    if (this.staticMode !== undefined) for (const t of this.tasks.values()) t.staticPrev = -1;
    if (time - this.lostAlertAt >= 1) this.flushLost(time);
  }

  /**
   * Periodic work (call about once a second): alerts for losses accumulated since the last one; the calls of held
   * tasks are scored once the events have reached their grace time, or at once when no event arrived since the last
   * tick (an exec that /proc already showed would have been delivered by then). tick(Infinity) at the end scores
   * every held call.
   */
  tick(now: number = this.clock()): void {
    if (this.pendingLost > 0 && now - this.lostAlertAt >= 1) this.flushLost(now);
    if (this.staticDroppedPending > 0 && now - this.staticDroppedAlertAt >= 10) this.flushStaticDropped(now);
    const idle = this.counts.events === this.eventsAtTick;
    this.eventsAtTick = this.counts.events;
    if (this.unconfirmed.size > 0) {
      const limit = idle || now === Number.POSITIVE_INFINITY ? Number.POSITIVE_INFINITY : this.latestTime;
      const at = Number.isFinite(now) ? now : this.clock();
      for (const task of [...this.unconfirmed]) if (task.confirmAt <= limit) this.confirm(task, at);
    }
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
    const entry = this.entries.get(key);
    if (entry === undefined) return false;
    this.applySettings(profile);
    entry.profile = profile;
    entry.storedVersion = version;
    entry.dirty = false;
    return true;
  }

  /** The time of the newest event seen (epoch seconds; -Infinity before the first): watch's event lag metric. */
  get latestEventTime(): number {
    return this.latestTime;
  }

  stats(): HostMonitorStats {
    let pending = 0;
    for (const t of this.tasks.values()) pending += t.pendingCount;
    let staticModels = 0;
    let staticPending = 0;
    let staticUnavailable = 0;
    for (const e of this.entries.values()) {
      if (e.static !== null) {
        if (e.static.attached) staticModels++;
        else staticPending++;
      } else if (e.staticError !== null) staticUnavailable++;
    }
    return {
      ...this.counts,
      alerts: this.alerts.count,
      pending,
      lost: { ...this.lostBy },
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
    const entry = this.entries.get(key);
    if (entry === undefined || this.staticMode === undefined) return false;
    const before = entry.static;
    const check = before !== null && !before.attached ? before : new StaticCheck(before ?? undefined);
    entry.static = check;
    entry.staticError = null;
    const late = check.attach(model);
    const now = this.clock();
    for (const v of late) {
      // The task that made it, if it still runs this program (for a kill); the alert names it either way.
      const task = this.tasks.get(v.tid);
      const live = task !== undefined && task.pid === v.pid && task.entry === entry ? task : undefined;
      this.impossible(entry, check, v, now, live, false);
    }
    return true;
  }

  /**
   * The executable's static model is out of date (its binary or a library changed on disk): its calls are kept
   * again until the new analysis is attached. False when no such profile is held, or static models are off.
   */
  detachStaticModel(key: string): boolean {
    const entry = this.entries.get(key);
    if (entry === undefined || this.staticMode === undefined) return false;
    entry.static = new StaticCheck(entry.static ?? undefined);
    return true;
  }

  /**
   * No static model can be had for this executable (not ELF, a library missing, the analysis failed): it is
   * monitored by its learned profile only, and an informational alert says why, once.
   */
  staticModelUnavailable(key: string, reason: string, code = "E_STATIC"): boolean {
    const entry = this.entries.get(key);
    if (entry === undefined || this.staticMode === undefined) return false;
    entry.static = null;
    if (entry.staticError !== null) return true;
    entry.staticError = reason;
    this.alerts.staticUnavailable(this.clock(), entry, reason, code);
    return true;
  }

  /**
   * The executable's analysis could not even be queued (the analysis queue is full): counted, and reported in an
   * overload alert at most every 10 s, like other drops; it is monitored by its learned profile only.
   */
  staticAnalysisDropped(key: string): boolean {
    const entry = this.entries.get(key);
    if (entry === undefined || this.staticMode === undefined) return false;
    entry.static = null;
    entry.staticError = "the static analysis queue was full";
    this.staticDroppedPending++;
    const now = this.clock();
    if (now - this.staticDroppedAlertAt >= 10) this.flushStaticDropped(now);
    return true;
  }

  // ------------------------------------------------------------------------------------------------ internals

  private adopt(task: Task, parent: Task, time: number): void {
    const entry = parent.entry!;
    task.entry = entry;
    entry.tasks++;
    task.stream = parent.stream.clone();
    task.anomalies = parent.anomalies;
    const pending = task.pending;
    const n = task.pendingCount;
    task.pending = null;
    task.pendingCount = 0;
    if (pending === null) return;
    const now = time === time ? time : this.clock();
    for (let i = 0; i < n; i++) this.score(task, entry, pending[i]!, now);
  }

  /** A task's unattributed calls will never be attributed: count them as such. */
  private giveUp(task: Task): void {
    if (task.pending !== null) {
      if (task.pendingCount > 0) task.staticPrev = -1;
      this.counts.unattributed += task.pendingCount;
      task.pending = null;
      task.pendingCount = 0;
      this.unconfirmed.delete(task);
    }
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

  /**
   * A new task running `entry`'s program (null: not known yet, its calls are kept until it is); with `confirmAt`,
   * held until then.
   */
  private addTask(pid: number, tid: number, entry: ProfileEntry | null, stream: LiveStream, confirmAt?: number): Task {
    const task: Task = {
      pid,
      tid,
      entry,
      pending: entry === null || confirmAt !== undefined ? new Uint16Array(PENDING_CALLS) : null,
      pendingCount: 0,
      stream,
      anomalies: 0,
      alertSecond: 0,
      alertsInSecond: 0,
      suppressed: 0,
      tolerizedAlerted: false,
      killed: false,
      staticPrev: -1,
      confirmAt: confirmAt ?? 0,
    };
    if (entry !== null) entry.tasks++;
    if (entry !== null && confirmAt !== undefined) this.unconfirmed.add(task);
    this.tasks.set(tid, task);
    return task;
  }

  private streamFor(entry: ProfileEntry | null): LiveStream {
    return entry !== null ? entry.profile.newStream() : new PhStream(this.settings.lookahead, this.settings.frame);
  }

  private detach(task: Task): void {
    if (task.entry === null) return;
    task.entry.tasks--;
    // What the task did is learned now (models that learn in chunks), and counted as a change to save.
    task.entry.profile.endStream(task.stream);
    task.entry.dirty = true;
  }

  /** The entry of an executable, loading or creating its profile; null (and counted) past maxProfiles. */
  private entryFor(exe: ExeIdentity, time: number): ProfileEntry | null {
    const key = exeKey(exe);
    let entry = this.entries.get(key);
    if (entry !== undefined) return entry;
    const inode = `${exe.dev}:${exe.ino}`;
    if (exe.ino !== 0 && !exe.path.startsWith("/")) {
      // `./prog` run by a process that was gone before its path could be read: the file is the one we know.
      entry = this.byInode.get(inode);
      if (entry !== undefined) return entry;
    }
    if (this.entries.size >= this.maxProfiles) {
      this.dropped(time, "profiles");
      return null;
    }
    const stored = this.options.loadProfile?.(key, exe);
    let profile: LiveProfile;
    if (stored !== undefined) {
      profile = stored.profile;
      this.applySettings(profile);
    } else profile = this.options.createProfile?.({ ...this.settings }) ?? new PhProfile(HOST_SYMBOLS, this.settings);
    entry = {
      key,
      exe,
      profile,
      dirty: stored === undefined,
      tasks: 0,
      storedVersion: stored?.version ?? 0,
      static: this.staticMode !== undefined ? new StaticCheck() : null,
      staticError: null,
    };
    this.entries.set(key, entry);
    if (exe.ino !== 0 && (exe.path.startsWith("/") || !this.byInode.has(inode))) this.byInode.set(inode, entry);
    this.options.onProfileAdded?.(entry);
    return entry;
  }

  /**
   * New lifecycle settings while running (watch's SIGHUP): normal_factor(_den), normal_wait, anomaly_limit and
   * tolerize_limit, for every profile held and every one loaded or created later; the model's own settings
   * (lookahead, frame) and the execve limit stay as they were. Invalid settings throw and change nothing.
   */
  updateSettings(settings: Partial<Omit<LifecycleSettings, "lookahead" | "frame">>): void {
    const next = validateSettings({ ...this.settings, ...settings });
    this.settings.normalFactor = next.normalFactor;
    this.settings.normalFactorDen = next.normalFactorDen;
    this.settings.normalWait = next.normalWait;
    this.settings.anomalyLimit = next.anomalyLimit;
    this.settings.tolerizeLimit = next.tolerizeLimit;
    for (const e of this.entries.values()) this.applySettings(e.profile);
  }

  /** The lifecycle settings of this run apply to loaded profiles too (the table layout stays the profile's own). */
  private applySettings(profile: LiveProfile): void {
    const s = profile.settings;
    s.normalFactor = this.settings.normalFactor;
    s.normalFactorDen = this.settings.normalFactorDen;
    s.normalWait = this.settings.normalWait;
    s.anomalyLimit = this.settings.anomalyLimit;
    s.tolerizeLimit = this.settings.tolerizeLimit;
  }

  /** A held task's program is certain now: its calls are scored (and checked), in order. */
  private confirm(task: Task, now: number): void {
    const calls = task.pending;
    const n = task.pendingCount;
    const entry = task.entry;
    task.pending = null;
    task.pendingCount = 0;
    this.unconfirmed.delete(task);
    if (calls === null || entry === null) return;
    for (let i = 0; i < n; i++) this.score(task, entry, calls[i]!, now);
  }

  private checkCall(task: Task, entry: ProfileEntry, check: StaticCheck, nr: number, now: number): void {
    const prev = task.staticPrev;
    const verdict = check.check(prev, nr, task.pid, task.tid);
    // After an outside call nothing is known of where the code is: the next call is checked against the set only.
    task.staticPrev = verdict === Verdict.Allowed ? nr : -1;
    if (verdict !== Verdict.Allowed)
      this.impossible(entry, check, { verdict, prev, nr, pid: task.pid, tid: task.tid }, now, task, true);
  }

  /**
   * A call (or a pair) the executable's binary cannot make, by its static model: one alert per executable and call
   * or pair; with "kill", a kill request for the task when the model is complete.
   */
  private impossible(
    entry: ProfileEntry,
    check: StaticCheck,
    v: Violation,
    now: number,
    task: Task | undefined,
    live: boolean,
  ): void {
    const { verdict, prev, nr, pid, tid } = v;
    const model = check.model!;
    this.counts.impossibleCalls++;
    if (!model.complete) this.counts.impossibleUncertain++;
    const name = syscallName(nr);
    if (check.firstAlert(verdict, prev, nr)) this.alerts.impossible(now, entry, model, v, live ? task : undefined);
    if (this.staticMode !== "kill" || !model.complete || task === undefined || task.killed) return;
    const onResponse = this.options.onResponse;
    if (onResponse === undefined) return;
    task.killed = true;
    this.counts.responses++;
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

  private flushStaticDropped(now: number): void {
    const n = this.staticDroppedPending;
    this.staticDroppedPending = 0;
    this.staticDroppedAlertAt = now;
    this.alerts.staticDropped(now, n);
  }

  private dropped(time: number, what: "tasks" | "profiles"): void {
    this.counts.dropped++;
    this.lostBy.monitor++;
    const now = time === time ? time : this.clock();
    if (now - this.dropAlertAt < 10) return;
    this.dropAlertAt = now;
    this.alerts.dropped(now, what, what === "tasks" ? this.maxTasks : this.maxProfiles, this.counts.dropped);
  }

  private flushLost(now: number): void {
    const n = this.pendingLost;
    this.pendingLost = 0;
    this.lostAlertAt = now;
    this.alerts.lost(now, n, this.lostBy);
  }

  private anomaly(task: Task, entry: ProfileEntry, step: LifecycleStep, nr: number, now: number): void {
    const second = Math.floor(now);
    if (second !== task.alertSecond) {
      task.alertSecond = second;
      task.alertsInSecond = 0;
    }
    if (task.alertsInSecond >= this.alertsPerSecond) {
      task.suppressed++;
      this.counts.suppressedAlerts++;
      return;
    }
    task.alertsInSecond++;
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

  private respond(task: Task, entry: ProfileEntry, step: LifecycleStep, nr: number, now: number): void {
    const onResponse = this.options.onResponse!;
    const base = {
      pid: task.pid,
      tid: task.tid,
      exe: entry.exe.path,
      lfc: step.lfc,
      anomalies: task.anomalies,
      syscall: syscallName(nr),
      time: now,
    };
    if (!task.killed && task.anomalies >= this.settings.anomalyLimit) {
      task.killed = true;
      this.counts.responses++;
      onResponse({
        ...base,
        kind: "kill",
        reason: `${task.anomalies} anomalies reached anomaly_limit ${this.settings.anomalyLimit}`,
      });
      return;
    }
    if ((nr === NR_EXECVE || nr === NR_EXECVEAT) && step.lfc >= this.execveLimit) {
      this.counts.responses++;
      onResponse({ ...base, kind: "suspend-execve", reason: `execve with LFC ${step.lfc} >= ${this.execveLimit}` });
      return;
    }
    this.counts.responses++;
    onResponse({ ...base, kind: "delay", reason: `LFC ${step.lfc}` });
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
