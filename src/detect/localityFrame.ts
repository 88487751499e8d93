// The locality frame count (Hofmeyr, Forrest & Somayaji 1998; Somayaji & Forrest 2000, pH): the number of anomalous
// calls among the last F calls of a stream. Anomalies of an intrusion cluster in time while those of normal
// behaviour are scattered, so a count over a short frame separates the two better than a whole-trace rate.
// Hofmeyr uses F = 20; pH keeps a 128-call frame. One bit per call in a preallocated ring: O(1) per call.

import { HomeostatError } from "../errors.js";

/** The default frame length in calls (Hofmeyr 1998). */
export const DEFAULT_FRAME = 20;

export class LocalityFrame {
  readonly size: number;
  private readonly bits: Uint8Array;
  private head = 0;
  private current = 0;

  constructor(size: number = DEFAULT_FRAME) {
    if (!Number.isInteger(size) || size < 1) {
      throw new HomeostatError("E_USAGE", `locality frame length must be a positive integer, got ${size}`);
    }
    this.size = size;
    this.bits = new Uint8Array(size);
  }

  /** Records the next call (anomalous or not) and returns the count over the frame that now ends at it. */
  push(anomalous: boolean): number {
    const bit = anomalous ? 1 : 0;
    // The slot being overwritten holds the call that leaves the frame (0 while the frame is still filling).
    this.current += bit - this.bits[this.head]!;
    this.bits[this.head] = bit;
    this.head = this.head + 1 === this.size ? 0 : this.head + 1;
    return this.current;
  }

  /** The count over the frame ending at the last call pushed (0 before any call). */
  get count(): number {
    return this.current;
  }

  reset(): void {
    this.bits.fill(0);
    this.head = 0;
    this.current = 0;
  }
}
