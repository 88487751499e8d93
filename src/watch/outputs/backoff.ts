// Exponential backoff with jitter for retrying an output that failed (the HTTP receiver down or answering 5xx):
// the n-th retry waits a random time in [base/2, base] with base = min(maxMs, initialMs x factor^n) ("equal jitter",
// as in the AWS architecture blog's comparison), so that many watches restarted together do not retry in step,
// while a retry never comes sooner than half the nominal delay. The random source is injectable for tests.

export interface BackoffOptions {
  /** The first retry's nominal delay (default 500 ms). */
  initialMs?: number;
  /** The cap of the nominal delay (default 60 s). */
  maxMs?: number;
  /** Growth per failure (default 2). */
  factor?: number;
  /** A number in [0, 1) (default Math.random). */
  random?: () => number;
}

export const BACKOFF_DEFAULTS = { initialMs: 500, maxMs: 60_000, factor: 2 } as const;

/** Milliseconds to wait before retry number `attempt` (0 for the first retry). */
export function backoffDelay(attempt: number, options: BackoffOptions = {}): number {
  const initial = options.initialMs ?? BACKOFF_DEFAULTS.initialMs;
  const max = options.maxMs ?? BACKOFF_DEFAULTS.maxMs;
  const factor = options.factor ?? BACKOFF_DEFAULTS.factor;
  const base = Math.min(max, initial * factor ** Math.min(attempt, 64));
  const random = options.random ?? Math.random;
  return Math.round(base / 2 + (base / 2) * random());
}
