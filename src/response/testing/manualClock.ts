// A clock that moves only when a test says so: timers fire inside advance(), in the order they fall due, so a test
// of a pause checks the process stopped, moves time to the pause's end, and checks it resumed, without sleeping.

import type { Clock, TimerHandle } from "../clock.js";

interface Timer {
  at: number;
  seq: number;
  fn: () => void;
}

export class ManualClock implements Clock {
  private time: number;
  private seq = 0;
  private readonly timers = new Map<number, Timer>();

  /** `start`: the epoch milliseconds now() begins at. */
  constructor(start = 0) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  setTimer(fn: () => void, ms: number): TimerHandle {
    const id = ++this.seq;
    this.timers.set(id, { at: this.time + Math.max(0, ms), seq: id, fn });
    return id;
  }

  clearTimer(handle: TimerHandle): void {
    this.timers.delete(handle as number);
  }

  /** Milliseconds from now to each pending timer, soonest first. */
  pending(): number[] {
    return [...this.timers.values()].map((t) => t.at - this.time).sort((a, b) => a - b);
  }

  /** Moves time `ms` forward, firing each timer that falls due on the way (timers set meanwhile included). */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`a clock moves forward: ${ms} ms`);
    const end = this.time + ms;
    for (;;) {
      let next: Timer | undefined;
      for (const t of this.timers.values())
        if (t.at <= end && (next === undefined || t.at < next.at || (t.at === next.at && t.seq < next.seq))) next = t;
      if (next === undefined) break;
      this.timers.delete(next.seq);
      this.time = next.at;
      next.fn();
    }
    this.time = end;
  }
}
