// A small seeded pseudo-random generator for model initialisation (HMM restarts, the KS bigram shuffle) and tests,
// so that training is a deterministic function of the data and the `seed` option. Mulberry32 (Tommy Ettinger's
// 32-bit mixer): one 32-bit word of state, full period 2^32, and good enough statistical quality for drawing initial
// parameters; it is not for anything security-related.

export class SeededRandom {
  private state: number;

  constructor(seed: number) {
    // Mix the seed once so that nearby seeds (1, 2, 3) start far apart in the sequence.
    this.state = Math.imul((seed | 0) ^ 0x5bd1e995, 0x9e3779b1) >>> 0;
  }

  /**
   * A generator whose state is `seed` itself, without the constructor's mixing: the stream of plain mulberry32(seed).
   * The KS bigram shuffle has always drawn from that stream, and a seed must keep giving the same segments.
   */
  static unmixed(seed: number): SeededRandom {
    const r = new SeededRandom(0);
    r.state = seed >>> 0;
    return r;
  }

  /** The next 32-bit unsigned integer. */
  nextUint32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** A uniform number in [0, 1). */
  next(): number {
    return this.nextUint32() / 4_294_967_296;
  }

  /** A uniform integer in [0, n). */
  nextInt(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Permutes `a` in place (Fisher-Yates from the end, one draw per position). */
  shuffle<T>(a: T[]): void {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.nextInt(i + 1);
      const t = a[i]!;
      a[i] = a[j]!;
      a[j] = t;
    }
  }
}
