// The rolling per-stream state of a window table (windowTable.ts): the last k calls of a stream and the rolling key
// of the window ending at its last call. The calls are held twice over in a ring of 2k, so the current window is
// always the contiguous run buf[pos+1 .. pos+k]: verifying a hashed key and the Hamming distance read it without
// copying, and advancing a stream allocates nothing.

import type { DetectorState } from "./detector.js";

/** Per-stream rolling state: the last k calls (twice over) and the rolling key of the window ending at the last call. */
export class WindowState implements DetectorState {
  readonly k: number;
  /** buf[j] === buf[j + k]; the current window (oldest first) is buf[pos + 1 .. pos + k]. */
  readonly buf: Uint16Array;
  pos: number;
  /** Calls seen since the stream's beginning. */
  seen = 0;
  hi = 0;
  lo = 0;
  /** The table epoch the rolling key was computed for; a mismatch makes the table recompute it from `buf`. */
  epoch = -1;

  constructor(k: number) {
    this.k = k;
    this.buf = new Uint16Array(2 * k);
    this.pos = k - 1;
  }

  reset(): void {
    this.pos = this.k - 1;
    this.seen = 0;
    this.hi = 0;
    this.lo = 0;
    this.epoch = -1;
  }

  /** Whether a whole window has been seen. */
  get complete(): boolean {
    return this.seen >= this.k;
  }
}

/** A trace being learnt call by call: its window state and the largest id it has shown so far. */
export class WindowLearning {
  readonly state: WindowState;
  maxId = -1;
  constructor(k: number) {
    this.state = new WindowState(k);
  }
}
