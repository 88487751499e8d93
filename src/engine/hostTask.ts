// One task (a thread) as the host monitor tracks it: the program it runs (its profile entry), its place in pH's
// sequence (its live stream), its anomaly and alert counts, and the calls it made before its program was certain.
//
// A task whose program only /proc names (a process first seen mid-life, or a child whose calls arrive before its
// parent's fork) is held: its calls (up to 256) wait until it has run `confirmGrace` seconds of event time without
// an exec, or ends, and are then scored and checked; if an exec of the program /proc named comes first, they were
// made by the program before it (the shell's dup2 and execve, charged to the new program because /proc already
// showed it) and are counted unattributed; if its parent's fork comes first, they continue the parent's sequence,
// as the fork would have had it. Neither the profile nor the static check is charged with another program's calls,
// and no call is scored from a sequence it did not have.

import type { LiveStream } from "../lifecycle/liveProfile.js";
import type { ProfileEntry } from "./profileEntry.js";

/** Calls kept for a task whose program is not known yet (a child seen before its parent's fork returned). */
export const PENDING_CALLS = 256;

export interface Task {
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

/**
 * A new task running `entry`'s program (null: not known yet, its calls are kept until it is); with `confirmAt`,
 * held until then.
 */
export function createTask(
  pid: number,
  tid: number,
  entry: ProfileEntry | null,
  stream: LiveStream,
  confirmAt: number | undefined,
): Task {
  return {
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
}

/**
 * Whether an anomaly of the task at `now` may be alerted: at most `perSecond` a second; the rest are counted in
 * `suppressed`, which the next alert reports.
 */
export function withinAlertBudget(task: Task, now: number, perSecond: number): boolean {
  const second = Math.floor(now);
  if (second !== task.alertSecond) {
    task.alertSecond = second;
    task.alertsInSecond = 0;
  }
  if (task.alertsInSecond >= perSecond) {
    task.suppressed++;
    return false;
  }
  task.alertsInSecond++;
  return true;
}

/** pH at an exec: the task starts a new sequence (`stream`) against `entry`'s profile, its counts from zero. */
export function restartTask(task: Task, pid: number, entry: ProfileEntry | null, stream: LiveStream): void {
  task.pid = pid;
  task.entry = entry;
  if (entry !== null) entry.tasks++;
  task.stream = stream;
  task.anomalies = 0;
  task.killed = false;
  task.staticPrev = -1;
  task.tolerizedAlerted = false;
}

/** A forked child whose calls came first continues its parent's program from the parent's sequence. */
export function continueParent(task: Task, parent: Task): void {
  const entry = parent.entry!;
  if (task.entry !== entry) {
    if (task.entry !== null) task.entry.tasks--;
    task.entry = entry;
    entry.tasks++;
  }
  task.stream = parent.stream.clone();
  task.anomalies = parent.anomalies;
}

/** The task stops running its program: what it did is learned now, and counted as a change to save. */
export function leaveProgram(task: Task): void {
  if (task.entry === null) return;
  task.entry.tasks--;
  // Models that learn in chunks learn the task's sequence when it ends.
  task.entry.profile.endStream(task.stream);
  task.entry.dirty = true;
}
