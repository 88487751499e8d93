// The ring of shared memory through which alerts go from the main thread to the HTTP output's worker
// (httpWorker.ts): each alert's JSON is written there as UTF-8 with a newline, and the worker is told which part
// holds a turn's alerts with one small message, so that handing an alert over costs one copy, not a message each.

import { CONSUMED, type ToWorker } from "./httpWorkerChannel.js";

type RingSegment = Extract<ToWorker, { kind: "ring" }>;

/**
 * The writer's side of the ring. The worker copies a segment out and then says how far it has taken (the CONSUMED
 * word of `state`), which frees that part; a write that does not fit what is free is refused, never waited for.
 */
export class AlertRing {
  /** Ring bytes reserved since the start (positions are these modulo the ring's size), and the turn's start. */
  private written = 0;
  private segmentStart = 0;

  constructor(
    private readonly ring: Buffer,
    private readonly state: Int32Array,
    private readonly post: (segment: RingSegment) => void,
  ) {}

  /** Writes `json` and a newline into the ring, if it has room (at most 3 bytes per UTF-16 unit). */
  write(json: string): boolean {
    const size = this.ring.length;
    const need = json.length * 3 + 1;
    let pos = this.written % size;
    let used = (this.written - Atomics.load(this.state, CONSUMED)) >>> 0;
    if (pos + need > size) {
      // Not enough room before the ring's end: the turn's part so far goes now, and this alert at the start.
      const skip = size - pos;
      if (used + skip + need > size) return false;
      this.postSegment();
      this.written += skip;
      this.segmentStart = this.written;
      used += skip;
      pos = 0;
    }
    if (used + need > size) return false;
    const n = this.ring.write(json, pos, "utf8");
    this.ring[pos + n] = 0x0a;
    this.written += n + 1;
    return true;
  }

  /** Tells the worker where this turn's alerts are in the ring. */
  postSegment(): void {
    if (this.written === this.segmentStart) return;
    const start = this.segmentStart % this.ring.length;
    const end = start + (this.written - this.segmentStart);
    this.segmentStart = this.written;
    this.post({ kind: "ring", start, end, upTo: this.written });
  }
}
