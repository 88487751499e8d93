// Tasks the host monitor holds: their program is only known from /proc (see hostTask.ts), so their calls wait
// until it is certain (their grace time passed in event time, the task forked or ended without an exec) and are
// then scored, in order, or are given up when an exec shows they were another program's.

import type { Task } from "./hostTask.js";
import type { ProfileEntry } from "./profileEntry.js";

/** Scores one call of a task against its program's profile (the monitor's). */
export type ScoreCall = (task: Task, entry: ProfileEntry, nr: number, now: number) => void;

export class HeldTasks {
  private readonly held = new Set<Task>();
  /** The event count at the last tick: no event since means nothing more is on its way. */
  private eventsAtTick = -1;

  constructor(private readonly score: ScoreCall) {}

  /** A task whose calls wait until `task.confirmAt`. */
  add(task: Task): void {
    this.held.add(task);
  }

  /** A held task's program is certain now: its calls are scored (and checked), in order. */
  confirm(task: Task, now: number): void {
    const calls = task.pending;
    const n = task.pendingCount;
    const entry = task.entry;
    task.pending = null;
    task.pendingCount = 0;
    this.held.delete(task);
    if (calls === null || entry === null) return;
    for (let i = 0; i < n; i++) this.score(task, entry, calls[i]!, now);
  }

  /** A task's calls not yet attributed will never be: returns how many, for the caller to count. */
  giveUp(task: Task): number {
    if (task.pending === null) return 0;
    if (task.pendingCount > 0) task.staticPrev = -1;
    const n = task.pendingCount;
    task.pending = null;
    task.pendingCount = 0;
    this.held.delete(task);
    return n;
  }

  /**
   * The calls of held tasks are scored once the events (the latest at `latestTime`, `events` so far) have reached
   * their grace time, or at once when no event arrived since the last tick; now = Infinity scores every held call.
   */
  tick(now: number, events: number, latestTime: number, clock: () => number): void {
    const idle = events === this.eventsAtTick;
    this.eventsAtTick = events;
    if (this.held.size > 0) {
      const limit = idle || now === Number.POSITIVE_INFINITY ? Number.POSITIVE_INFINITY : latestTime;
      const at = Number.isFinite(now) ? now : clock();
      for (const task of [...this.held]) if (task.confirmAt <= limit) this.confirm(task, at);
    }
  }
}
