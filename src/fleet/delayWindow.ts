// How late messages reach the fleet database: the delay from the moment a host made each message (its body's time)
// to the commit of the batch that stored it, over the most recent messages (a fixed ring), as quantiles. Hosts and
// the central side share no clock, so a host's clock error is part of the figure (negative delays count as 0).

const SIZE = 65_536;

export interface DelayFigures {
  /** Messages the figures cover (at most the ring's size). */
  n: number;
  p50: number;
  p99: number;
  max: number;
}

export class DelayWindow {
  private readonly ring = new Float64Array(SIZE);
  private count = 0;

  /** Records one message made at `madeMs` and stored at `storedMs` (epoch milliseconds). */
  add(madeMs: number, storedMs: number): void {
    this.ring[this.count % SIZE] = Math.max(0, storedMs - madeMs);
    this.count++;
  }

  /** Quantiles of the recorded delays in milliseconds (zeros before any). */
  figures(): DelayFigures {
    const n = Math.min(this.count, SIZE);
    if (n === 0) return { n: 0, p50: 0, p99: 0, max: 0 };
    const sorted = this.ring.slice(0, n).sort();
    const at = (q: number) => sorted[Math.min(n - 1, Math.floor(q * n))]!;
    return { n, p50: at(0.5), p99: at(0.99), max: sorted[n - 1]! };
  }
}
