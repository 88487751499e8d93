// A ring of shared memory through which lines go from the main thread to a worker thread: the HTTP output's
// alerts (httpWorker.ts) and the fleet's messages (fleet/fleetChannel.ts). Each line is written there as UTF-8
// (after a one-byte lead, such as the fleet's kind letter, when given) with a newline, and the worker is told
// which part holds a turn's lines with one small message, so that handing a line over costs one copy, not a
// message each.

/** The state buffer's words: the handshake, and how far into the ring (bytes, modulo 2^32) the worker has taken. */
export const HANDSHAKE = 0;
export const CONSUMED = 1;
/** The handshake: 0 opening, 1 open, 2 failed. */
export const OPENING = 0;
export const OPEN = 1;
export const FAILED = 2;

/** The message that tells the worker where a turn's lines are: bytes [start, end) of the ring, `upTo` written. */
export interface RingSegment {
  kind: "ring";
  start: number;
  end: number;
  upTo: number;
}

/**
 * The writer's side of the ring. The worker copies a segment out and then says how far it has taken (word
 * `consumed` of `state`), which frees that part; a write that does not fit what is free is refused, never waited
 * for.
 */
export class SharedRing {
  /** Ring bytes reserved since the start (positions are these modulo the ring's size), and the turn's start. */
  private written = 0;
  private segmentStart = 0;

  constructor(
    private readonly ring: Buffer,
    private readonly state: Int32Array,
    private readonly consumed: number,
    private readonly post: (segment: RingSegment) => void,
  ) {}

  /** Writes `json` and a newline into the ring, after the byte `lead` when given, if it has room. */
  write(json: string, lead = -1): boolean {
    const size = this.ring.length;
    const head = lead < 0 ? 0 : 1;
    // At most 3 bytes per UTF-16 unit.
    const need = head + json.length * 3 + 1;
    let pos = this.written % size;
    let used = (this.written - Atomics.load(this.state, this.consumed)) >>> 0;
    if (pos + need > size) {
      // Not enough room before the ring's end: the turn's part so far goes now, and this line at the start.
      const skip = size - pos;
      if (used + skip + need > size) return false;
      this.postSegment();
      this.written += skip;
      this.segmentStart = this.written;
      used += skip;
      pos = 0;
    }
    if (used + need > size) return false;
    if (head === 1) this.ring[pos] = lead;
    const n = this.ring.write(json, pos + head, "utf8");
    this.ring[pos + head + n] = 0x0a;
    this.written += head + n + 1;
    return true;
  }

  /** Bytes written since the last segment was posted, and the ring's size. */
  get unposted(): number {
    return this.written - this.segmentStart;
  }

  get size(): number {
    return this.ring.length;
  }

  /** Tells the worker where this turn's lines are in the ring. */
  postSegment(): void {
    if (this.written === this.segmentStart) return;
    const start = this.segmentStart % this.ring.length;
    const end = start + (this.written - this.segmentStart);
    this.segmentStart = this.written;
    this.post({ kind: "ring", start, end, upTo: this.written });
  }
}
