// Delivers the alerts of a spool (alertSpool.ts) to an HTTP receiver, Falcosidekick's way: one alert (Falco's JSON)
// per POST. Alerts are sent one at a time in spool order, each acknowledged in the spool once the receiver took it,
// and a flush sends everything waiting in sequence; so the order is kept and each alert is delivered once (at least
// once across a crash: the one alert in flight may be sent again). When the receiver fails (no connection, a
// timeout, 408/429/5xx) the sink waits with exponential backoff and jitter (backoff.ts) and tries the same alert
// again; meanwhile new alerts wait in the spool, up to its bound. An alert the receiver refuses (another 4xx) is
// counted as rejected and skipped, so that it cannot block the ones behind it. Timers come from an injectable clock.

import { type Clock, systemClock, unrefTimer } from "../../response/clock.js";
import type { AlertSpool } from "./alertSpool.js";
import { type BackoffOptions, backoffDelay } from "./backoff.js";
import type { PostFn, PostOutcome } from "./httpPost.js";

export interface HttpAlertSinkOptions {
  url: URL;
  spool: AlertSpool;
  post: PostFn;
  clock?: Clock;
  backoff?: BackoffOptions;
  /** Called after each attempt (delivered, rejected or failed): the worker publishes its figures then. */
  onProgress?: () => void;
}

export interface HttpSinkStats {
  delivered: number;
  rejected: number;
  /** Attempts that failed (each one, also those retried later). */
  failures: number;
  /** Waiting for a retry now (the receiver failed last). */
  backingOff: boolean;
  /** The last failure, for the summary and the logs. */
  lastError: string | undefined;
}

export class HttpAlertSink {
  private url: URL;
  private readonly clock: Clock;
  private sending = false;
  private stopping = false;
  private attempt = 0;
  private retryTimer: unknown;
  private abort = new AbortController();
  private readonly waiters = new Set<() => void>();
  private readonly counts: HttpSinkStats = {
    delivered: 0,
    rejected: 0,
    failures: 0,
    backingOff: false,
    lastError: undefined,
  };

  constructor(private readonly options: HttpAlertSinkOptions) {
    this.url = options.url;
    this.clock = options.clock ?? systemClock;
  }

  get stats(): Readonly<HttpSinkStats> {
    return this.counts;
  }

  get target(): URL {
    return this.url;
  }

  /** New alerts are in the spool: send them, unless sending already or waiting to retry. */
  kick(): void {
    if (this.sending || this.retryTimer !== undefined || this.stopping) return;
    void this.pump();
  }

  /** Sends to another receiver from the next alert on (SIGHUP), and tries at once instead of waiting. */
  retarget(url: URL): void {
    this.url = url;
    this.retryNow();
  }

  /** Ends the wait for a retry and tries now (SIGHUP: the operator says the receiver is back). */
  retryNow(): void {
    if (this.retryTimer === undefined) return;
    this.clock.clearTimer(this.retryTimer);
    this.retryTimer = undefined;
    this.counts.backingOff = false;
    this.attempt = 0;
    this.kick();
  }

  /** Sends what is waiting, in order, one alert at a time, until the spool is empty or the receiver fails. */
  private async pump(): Promise<void> {
    this.sending = true;
    try {
      for (let entry = this.options.spool.peek(); entry !== undefined; entry = this.options.spool.peek()) {
        if (this.stopping) return;
        const outcome = await this.options.post(this.url, entry.payload, this.abort.signal);
        if (outcome.kind === "retry") {
          this.failed(outcome);
          return;
        }
        if (outcome.kind === "delivered") this.counts.delivered++;
        else this.counts.rejected++;
        this.attempt = 0;
        await this.options.spool.ack(entry);
        this.options.onProgress?.();
      }
    } catch (err) {
      this.failed({ kind: "retry", error: err instanceof Error ? err.message : String(err) });
    } finally {
      this.sending = false;
      this.options.onProgress?.();
      for (const w of this.waiters) w();
    }
  }

  private failed(outcome: PostOutcome): void {
    this.counts.failures++;
    this.counts.lastError = outcome.status !== undefined ? `HTTP ${outcome.status}` : (outcome.error ?? "failed");
    if (this.stopping) return;
    this.counts.backingOff = true;
    this.retryTimer = this.clock.setTimer(
      () => {
        this.retryTimer = undefined;
        this.counts.backingOff = false;
        this.kick();
      },
      backoffDelay(this.attempt++, this.options.backoff),
    );
    unrefTimer(this.retryTimer);
  }

  /**
   * Stops: waits up to `drainMs` for what is waiting to be sent (not while the receiver is failing: what it has not
   * taken stays in the spool for the next start), then aborts a request still in flight (that alert is not
   * acknowledged: sent again next time) and waits for the sender to stop. The spool itself is the caller's to close.
   */
  async close(drainMs: number): Promise<void> {
    this.kick();
    await this.until(() => this.options.spool.peek() === undefined || this.retryTimer !== undefined, drainMs);
    this.stopping = true;
    if (this.retryTimer !== undefined) this.clock.clearTimer(this.retryTimer);
    this.retryTimer = undefined;
    this.abort.abort();
    await this.until(() => !this.sending, Number.POSITIVE_INFINITY);
  }

  /** Resolves when `check` holds after a send (checked at each one's end) or `ms` have passed. */
  private until(check: () => boolean, ms: number): Promise<void> {
    if (check() || !this.sending || ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = Number.isFinite(ms) ? this.clock.setTimer(() => finish(), ms) : undefined;
      const finish = (): void => {
        this.waiters.delete(waiter);
        if (timer !== undefined) this.clock.clearTimer(timer);
        resolve();
      };
      const waiter = (): void => {
        if (check() || !this.sending) finish();
      };
      this.waiters.add(waiter);
    });
  }
}
