// Guessing the console's token, slowed down: each client address may fail FREE_FAILURES times (a wrong token in the
// login form, or a wrong bearer token), then it must wait before its next try, twice as long after each further
// failure (1 s, 2 s, 4 s ... at most MAX_BLOCK_MS). While it waits, its tries are answered 429 without being checked,
// so that waiting is the only way on. A success forgets the address's failures, and so does an hour without one.
//
// The address is the TCP peer's: behind a reverse proxy every client shares the proxy's address (forwarded headers
// are not trusted: any client could write them), so the proxy is where per-client limits belong then. The table is
// bounded: past MAX_ADDRESSES, the address that failed longest ago is forgotten first.

export const FREE_FAILURES = 5;
export const FIRST_BLOCK_MS = 1_000;
export const MAX_BLOCK_MS = 15 * 60_000;
/** Failures older than this are forgotten. */
export const FORGET_AFTER_MS = 60 * 60_000;
const MAX_ADDRESSES = 10_000;

interface Failures {
  count: number;
  /** When the last failure was (ms). */
  last: number;
  /** Tries before this time (ms) are refused. */
  blockedUntil: number;
}

export class LoginThrottle {
  private readonly table = new Map<string, Failures>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Milliseconds `address` must still wait before its token may be checked (0: it may try now). */
  waitMs(address: string): number {
    const f = this.current(address);
    return f === undefined ? 0 : Math.max(0, f.blockedUntil - this.now());
  }

  /** A wrong token from `address`: from the FREE_FAILURES-th on, it must wait, doubling each time. */
  failed(address: string): void {
    const now = this.now();
    const f = this.current(address) ?? { count: 0, last: now, blockedUntil: 0 };
    f.count++;
    f.last = now;
    const over = f.count - FREE_FAILURES;
    if (over >= 0) f.blockedUntil = now + Math.min(MAX_BLOCK_MS, FIRST_BLOCK_MS * 2 ** Math.min(over, 30));
    // Re-inserted, so that the table's order is the order of last failures (the oldest is evicted first).
    this.table.delete(address);
    this.table.set(address, f);
    if (this.table.size > MAX_ADDRESSES) this.table.delete(this.table.keys().next().value!);
  }

  /** The right token from `address`: its failures are forgotten. */
  succeeded(address: string): void {
    this.table.delete(address);
  }

  /** Addresses with failures remembered (for tests and bounds). */
  get size(): number {
    return this.table.size;
  }

  private current(address: string): Failures | undefined {
    const f = this.table.get(address);
    if (f === undefined) return undefined;
    if (this.now() - f.last > FORGET_AFTER_MS && this.now() >= f.blockedUntil) {
      this.table.delete(address);
      return undefined;
    }
    return f;
  }
}
