// Delivers the alerts of a spool (alertSpool.ts) to an HTTP receiver, Falcosidekick's way: one alert (Falco's JSON) per
// POST. Alerts are sent in spool order, several POSTs at a time on one connection (HTTP/1.1 pipelining,
// httpPipeline.ts, whose answers come back in order), and acknowledged in the spool once the receiver took them, a
// batch at a time (one disk sync for up to BATCH alerts); so the order is kept and each alert is delivered once, with
// exceptions where it is delivered at least once: after a crash, the alerts of the batch in flight (at most BATCH) are
// sent again; a receiver that fails one request but takes the ones pipelined after it gets those again after the
// failed one (the depth resets to one after any failure, so this is at most the depth less one); and so does one that
// closes the connection after an answer but acts on the requests behind it. When the receiver
// fails (no connection, a timeout, 408/429/5xx) the sink waits with exponential backoff and jitter (backoff.ts) and
// tries the same alert again; meanwhile new alerts wait in the spool, up to its bound. An alert the receiver refuses
// (another 4xx) is counted as rejected and skipped, so that it cannot block the ones behind it. Timers come from an
// injectable clock.

import { type Clock, systemClock, unrefTimer } from "../../response/clock.js";
import type { AlertSpool, SpoolEntry } from "./alertSpool.js";
import { type BackoffOptions, backoffDelay } from "./backoff.js";
import type { PostOutcome } from "./httpPost.js";
import type { PipelinedPost } from "./httpPipeline.js";

/**
 * Alerts taken from the spool at a time, and so acknowledged together: at most this many are sent again after a
 * crash. Small enough that a crash costs the receiver few duplicates; large enough that the disk sync of an
 * acknowledgement is a small part of a delivery.
 */
const BATCH = 32;

export const DEFAULT_PIPELINE = 16;

const NO_ANSWER: PostOutcome = { kind: "retry", error: "no answer" };

export interface HttpAlertSinkOptions {
  url: URL;
  spool: AlertSpool;
  post: PipelinedPost;
  /**
   * Requests in flight at most on the connection (HTTP/1.1 pipelining, default 16; 1: one at a time). The sink
   * starts at one and doubles with each batch taken whole, back to one after a failure.
   */
  pipeline?: number;
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
  private depth = 1;
  private readonly maxDepth: number;
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
    this.maxDepth = Math.max(1, Math.floor(options.pipeline ?? DEFAULT_PIPELINE));
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

  /**
   * Sends what is waiting, in order, until the spool is empty or the receiver fails. Alerts are taken BATCH at a
   * time and the batch's taken prefix is acknowledged once (one fdatasync), so that under load a delivery costs a
   * share of a write to the receiver, not a disk sync.
   */
  private async pump(): Promise<void> {
    this.sending = true;
    try {
      for (let batch = this.options.spool.peekMany(BATCH); batch.length > 0;) {
        const { done, failure } = await this.sendInOrder(batch);
        if (done > 0) await this.options.spool.ackThrough(batch[done - 1]!);
        // Only once acknowledged: the retry's timer must find the sink idle, or its kick would be lost.
        if (failure !== undefined) return this.failed(failure);
        if (done < batch.length) return;
        batch = this.options.spool.peekMany(BATCH);
      }
    } catch (err) {
      this.failed({ kind: "retry", error: err instanceof Error ? err.message : String(err) });
    } finally {
      this.sending = false;
      this.options.onProgress?.();
      for (const w of this.waiters) w();
    }
  }

  /**
   * Posts `batch` in order, pipelined (`depth` requests a write), until one fails or the sink stops; says how many
   * were taken (delivered or rejected) and the failure, if one ended it.
   */
  private async sendInOrder(batch: SpoolEntry[]): Promise<{ done: number; failure?: PostOutcome }> {
    let done = 0;
    while (done < batch.length && !this.stopping) {
      const part = batch.slice(done, done + this.depth);
      const outcomes = await this.options.post(
        this.url,
        part.map((e) => e.payload),
        this.abort.signal,
      );
      const failure = outcomes.find((o) => o.kind === "retry") ?? (outcomes.length === 0 ? NO_ANSWER : undefined);
      for (const o of outcomes) {
        if (o.kind === "retry") break;
        if (o.kind === "delivered") this.counts.delivered++;
        else this.counts.rejected++;
        done++;
      }
      this.options.onProgress?.();
      if (failure !== undefined) {
        this.depth = 1;
        return { done, failure };
      }
      this.attempt = 0;
      // All taken on a connection that stays open: deeper next time. An answer that closes the connection sends the
      // depth back to one, and it grows again only on answers that keep it open: a receiver that may still act on
      // requests read after such an answer (Node's server does) is sent one at a time while it closes each time,
      // and one that closes now and then (nginx after keepalive_requests) keeps its pipelining.
      const closed = outcomes.some((o) => o.closes === true);
      this.depth = outcomes.length === part.length && !closed ? Math.min(this.depth * 2, this.maxDepth) : 1;
    }
    return { done };
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
