// Live alerts as server-sent events (/events): each stream polls its alert source's id high-water mark (max(id),
// one index lookup; the state store's for serve, the fleet database's for fleet serve) every pollMs, and when it
// rose sends the new alerts that match the page's filter, oldest first, as `alert` events whose id is the alert's
// (so a reconnecting EventSource resumes after Last-Event-ID). A comment line every KEEPALIVE_MS finds dead
// connections. Streams are bounded in number and all end when the console closes.

import { setTimeout as sleep } from "node:timers/promises";
import type { Context, Hono } from "hono";
import { streamSSE } from "hono/streaming";
import type { ConsoleEnv } from "./consoleEnv.js";

/** Where a console's alerts come from, with the filter a request's query names (`F`). */
export interface LiveAlertSource<F> {
  filterOf(c: Context<ConsoleEnv>): F;
  /** The highest alert id stored (0 when none). */
  lastId(): number;
  /** The alerts matching `filter` with ids above `after`, oldest first, at most `limit`. */
  after(filter: F, after: number, limit: number): readonly { id: number }[];
}

/** Alerts sent per query; fewer mean the source had nothing more up to its high-water mark. */
const BATCH = 100;

export const KEEPALIVE_MS = 15_000;

export interface LiveEventsOptions {
  /** Milliseconds between polls of the store (default 250). */
  pollMs?: number;
  /** Streams open at most (default 32); more are refused with 503. */
  maxStreams?: number;
}

export class LiveEvents {
  private readonly ended = new AbortController();
  private open = 0;

  constructor(private readonly options: LiveEventsOptions = {}) {}

  /** Streams open now. */
  get streams(): number {
    return this.open;
  }

  /** Ends every stream (the console is closing). */
  close(): void {
    this.ended.abort();
  }

  register<F>(app: Hono<ConsoleEnv>, source: LiveAlertSource<F>): void {
    app.get("/events", (c) => {
      if (this.open >= (this.options.maxStreams ?? 32)) return c.text("too many live streams", 503);
      const filter = source.filterOf(c);
      const start = idOf(c.req.header("Last-Event-ID")) ?? idOf(c.req.query("after")) ?? source.lastId();
      c.header("Cache-Control", "no-store");
      this.open++;
      return streamSSE(c, async (stream) => {
        const gone = new AbortController();
        stream.onAbort(() => gone.abort());
        const signal = AbortSignal.any([gone.signal, this.ended.signal]);
        try {
          await this.pump(
            source,
            filter,
            start,
            signal,
            (id, data) => stream.writeSSE({ event: "alert", id: String(id), data }),
            () => stream.write(": keepalive\n\n"),
          );
        } finally {
          this.open--;
        }
      });
    });
  }

  /** Sends new alerts until `signal` aborts. */
  private async pump<F>(
    source: LiveAlertSource<F>,
    filter: F,
    start: number,
    signal: AbortSignal,
    send: (id: number, data: string) => Promise<unknown>,
    keepalive: () => Promise<unknown>,
  ): Promise<void> {
    let after = start;
    let seen = start;
    let quiet = 0;
    const pollMs = this.options.pollMs ?? 250;
    while (!signal.aborted) {
      const high = source.lastId();
      if (high > seen) {
        const rows = source.after(filter, after, BATCH);
        for (const a of rows) await send(a.id, JSON.stringify(a));
        after = rows.length > 0 ? rows[rows.length - 1]!.id : high;
        // Fewer than a batch: everything up to the mark was seen (filtered-out alerts included).
        if (rows.length < BATCH) seen = high;
        if (rows.length > 0) continue;
      }
      quiet += pollMs;
      if (quiet >= KEEPALIVE_MS) {
        quiet = 0;
        await keepalive();
      }
      await sleep(pollMs, undefined, { signal }).catch(() => undefined);
    }
  }
}

function idOf(text: string | undefined): number | undefined {
  return text !== undefined && /^\d{1,15}$/.test(text) ? Number(text) : undefined;
}
