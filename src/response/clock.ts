// Time and timers for the response stage, injectable so that tests drive them: a pause or a suspension ends when
// its timer fires, and a test fires it by advancing a manual clock (testing/manualClock.ts) instead of sleeping.

/** A timer as the clock that set it knows it. */
export type TimerHandle = unknown;

export interface Clock {
  /** Milliseconds since the epoch (as Date.now()). */
  now(): number;
  /** Calls `fn` once, `ms` milliseconds from now. */
  setTimer(fn: () => void, ms: number): TimerHandle;
  /** Cancels a timer that has not fired (a handle already fired or cleared is ignored). */
  clearTimer(handle: TimerHandle): void;
}

/** The real clock: Date.now and setTimeout. */
export const systemClock: Clock = Object.freeze({
  now: () => Date.now(),
  setTimer: (fn: () => void, ms: number): TimerHandle => setTimeout(fn, ms),
  clearTimer: (handle: TimerHandle) => clearTimeout(handle as NodeJS.Timeout),
});

/** Lets a real timer not keep the process alive on its own (a manual clock's handles have nothing to unref). */
export function unrefTimer(handle: TimerHandle): void {
  const unref = (handle as { unref?: unknown } | null)?.unref;
  if (typeof unref === "function") (unref as () => void).call(handle);
}
