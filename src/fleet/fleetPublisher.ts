// The host's side of the stream: every message (alert, action, heartbeat) gets the next sequence number of this run
// and its id `<host>.<run>.<seq>`, and is published without the caller waiting: at most `window` publishes wait for
// their acknowledgement at once (streamPublish.ts), a bounded queue holds the next ones (and, until the first
// connection attempt has failed, those made before it). While the fleet cannot be reached (no session, or a publish
// failed), messages go to a bounded spool in the state directory (watch's alert spool: outputs/alertSpool.ts,
// crash-safe, counted overflow) and, once a session is back, the spool is replayed in order, a window's worth at a
// time (one fsync per batch acknowledged), before anything new is published directly. A failure moves every message
// not yet acknowledged to the spool first, in order, so that the stream receives them in sequence order; one that
// was stored after all is dropped by JetStream's de-duplication (same id, within 2 minutes) or by the fleet
// database's unique id. A message the server refuses for good (permissions, size) is dropped and counted.

import { AlertSpool } from "../watch/outputs/alertSpool.js";
import { natsErrorKind } from "./fleetSetup.js";
import { type FleetKind, messageId, subjectFor } from "./fleetNames.js";
import { messageText } from "./fleetMessages.js";
import type { FleetSession } from "./fleetLink.js";

export interface FleetPublisherOptions {
  host: string;
  run: string;
  /** The spool's folder (`<state>/fleet-spool`) and its bound in bytes. */
  spoolDir: string;
  spoolMaxBytes: number;
  /** Publishes waiting for their acknowledgement at most (default 256). */
  window?: number;
  /** Messages queued behind a full window at most, before the spool takes the rest (default 10,000). */
  maxQueued?: number;
  /** Milliseconds one publish may take (default 5 s). */
  timeoutMs?: number;
  clock?: () => number;
  /** A publish failed for a reason that is the session's: the caller drops it (a new one follows). */
  onFailure(session: FleetSession, reason: string): void;
}

export interface FleetPublisherStats {
  /** Messages made this run (the last sequence number). */
  made: number;
  /** Acknowledged by the stream (direct or replayed), and of those, duplicates it had already. */
  published: number;
  duplicates: number;
  /** Replayed from the spool (this run's and earlier runs'). */
  replayed: number;
  /** Refused by the server for good (permissions, size), dropped. */
  rejected: number;
  /** Messages in the spool now, and those that did not fit it (since the start). */
  spooled: number;
  spoolDropped: number;
  /** Waiting for an acknowledgement, and queued behind them. */
  inflight: number;
  queued: number;
  lastError: string | undefined;
}

interface Outgoing {
  kind: FleetKind;
  id: string;
  text: string;
}

/** Errors that retrying will not cure: the message is dropped. */
function permanent(err: unknown): boolean {
  const k = natsErrorKind(err);
  if (k.name === "PermissionViolationError" || k.name === "InvalidArgumentError") return true;
  return k.status !== undefined && k.status >= 400 && k.status < 500 && k.status !== 408;
}

/** The message's subject: its kind and the host of its id (a spooled message may be another host id's). */
function subjectOf(m: Outgoing): string {
  return subjectFor(m.kind, m.id.slice(0, m.id.indexOf(".")));
}

/** A spooled message: `<kind> <id> <json>` (one line). */
function spoolLine(m: Outgoing): string {
  return `${m.kind} ${m.id} ${m.text}`;
}

function parseSpoolLine(line: string): Outgoing | undefined {
  const a = line.indexOf(" ");
  const b = line.indexOf(" ", a + 1);
  if (a < 0 || b < 0) return undefined;
  const kind = line.slice(0, a) as FleetKind;
  if (kind !== "alerts" && kind !== "actions" && kind !== "heartbeats") return undefined;
  return { kind, id: line.slice(a + 1, b), text: line.slice(b + 1) };
}

export class FleetPublisher {
  private readonly spool: AlertSpool;
  private session: FleetSession | undefined;
  private seq = 0;
  private readonly inflight = new Map<number, Outgoing>();
  private inflightSeq = 0;
  private readonly queue = new Queue<Outgoing>();
  /** No session, and the last attempt failed: messages go to the spool (before that, they wait in the queue). */
  private offline = false;
  /** Set while the spool holds messages older than anything new: new ones go there too. */
  private spooling: boolean;
  private replaying = false;
  private readonly counts = { published: 0, duplicates: 0, replayed: 0, rejected: 0 };
  private lastError: string | undefined;
  private readonly window: number;
  private readonly maxQueued: number;
  private readonly clock: () => number;

  constructor(private readonly options: FleetPublisherOptions) {
    this.spool = AlertSpool.open({ dir: options.spoolDir, name: "fleet", maxBytes: options.spoolMaxBytes });
    this.spooling = this.spool.stats.pendingRecords > 0;
    this.window = options.window ?? 256;
    this.maxQueued = options.maxQueued ?? 10_000;
    this.clock = options.clock ?? Date.now;
  }

  /**
   * Queues one message; `payloadJson` is the alert's or action's JSON, or a heartbeat's fields; `program`, an
   * alert's program identity when known. Never throws.
   */
  publish(kind: FleetKind, payloadJson: string, program?: string): void {
    const seq = ++this.seq;
    const { host, run } = this.options;
    const env = { v: 1 as const, host, run, seq, time: this.clock(), ...(program !== undefined ? { program } : {}) };
    const m = { kind, id: messageId(host, run, seq), text: messageText(kind, env, payloadJson) };
    // The queue only ever holds messages older than any in the spool: once something is spooled, all follows it.
    if (this.spooling || this.offline) this.toSpool(m);
    else if (this.session !== undefined && this.queue.length === 0 && this.inflight.size < this.window)
      this.send(this.session, m);
    else if (this.queue.length < this.maxQueued) this.queue.push(m);
    else this.toSpool(m);
  }

  /** A session is up: what is queued goes first, then the spool (in order), then messages go out directly. */
  up(session: FleetSession): void {
    this.session = session;
    this.offline = false;
    this.pump();
  }

  /** The session is gone (or the first connection failed): everything not acknowledged goes to the spool. */
  down(session?: FleetSession): void {
    if (session !== undefined && this.session !== session) return;
    this.session = undefined;
    this.offline = true;
    this.abandon();
  }

  get stats(): FleetPublisherStats {
    const sp = this.spool.stats;
    return {
      made: this.seq,
      ...this.counts,
      spooled: sp.pendingRecords,
      spoolDropped: sp.overflowed,
      inflight: this.inflight.size,
      queued: this.queue.length,
      lastError: this.lastError,
    };
  }

  /** True when nothing waits: no publish unacknowledged, nothing queued or spooled. */
  get idle(): boolean {
    return this.inflight.size === 0 && this.queue.length === 0 && this.spool.stats.pendingRecords === 0;
  }

  /** Waits up to `drainMs` for what waits to be published, then spools the rest and closes the spool. */
  async close(drainMs: number, poll: (until: () => boolean, ms: number) => Promise<void>): Promise<void> {
    // Also while the first connection is still being made (a short run may end before it is up); not once the
    // fleet is known to be away.
    await poll(() => this.idle || (this.session === undefined && this.offline), drainMs);
    this.session = undefined;
    this.abandon();
    await this.spool.close();
  }

  /** Spools a message: from now on, until the spool is empty again, everything new goes behind it. */
  private toSpool(m: Outgoing): void {
    this.spooling = true;
    this.spool.append(spoolLine(m));
  }

  private send(session: FleetSession, m: Outgoing): void {
    const key = ++this.inflightSeq;
    this.inflight.set(key, m);
    session.stream.publish(subjectOf(m), m.text, m.id, (err, duplicate) => {
      if (!this.inflight.has(key)) return; // abandoned to the spool meanwhile
      if (err === undefined || permanent(err)) {
        this.inflight.delete(key);
        if (err === undefined) this.acked(duplicate);
        else this.rejected(err);
        this.pump();
        return;
      }
      this.fail(session, err);
    });
  }

  private acked(duplicate: boolean): void {
    this.counts.published++;
    if (duplicate) this.counts.duplicates++;
  }

  private rejected(err: unknown): void {
    this.counts.rejected++;
    this.lastError = err instanceof Error ? err.message : String(err);
  }

  /** A transient failure: the session is given up and everything not acknowledged is spooled, in order. */
  private fail(session: FleetSession, err: unknown): void {
    this.lastError = err instanceof Error ? err.message : String(err);
    if (this.session === session) {
      this.down(session);
      this.options.onFailure(session, this.lastError);
    }
  }

  private abandon(): void {
    for (const m of this.inflight.values()) this.toSpool(m);
    this.inflight.clear();
    for (let m = this.queue.shift(); m !== undefined; m = this.queue.shift()) this.toSpool(m);
  }

  /** Moves the queue into the window; once nothing direct is outstanding, replays the spool. */
  private pump(): void {
    const session = this.session;
    if (session === undefined) return;
    while (this.queue.length > 0 && this.inflight.size < this.window) this.send(session, this.queue.shift()!);
    if (this.spooling && this.inflight.size === 0 && this.queue.length === 0) void this.replay(session);
  }

  /**
   * Publishes the spool's messages in order, a window's worth at a time, and acknowledges each batch's delivered
   * prefix in the spool at once (one fsync a batch); ends spooling when the spool is empty.
   */
  private async replay(session: FleetSession): Promise<void> {
    if (this.replaying) return;
    this.replaying = true;
    try {
      while (this.session === session) {
        const batch = this.spool.peekMany(this.window);
        if (batch.length === 0) {
          this.spooling = false;
          return;
        }
        const results = await Promise.all(batch.map((e) => this.publishLine(session, e.payload)));
        let done = 0;
        while (done < results.length && results[done] !== "failed") done++;
        for (const r of results.slice(0, done)) if (r !== "rejected") this.counts.replayed++;
        if (done > 0) await this.spool.ackThrough(batch[done - 1]!);
        if (done < results.length) return;
      }
    } finally {
      this.replaying = false;
      // New messages may have come while the last acknowledgement was written: go on with them.
      if (this.session === session) this.pump();
    }
  }

  /** One spooled message published: "ok", "rejected" (for good: dropped) or "failed" (the session given up). */
  private publishLine(session: FleetSession, line: string): Promise<"ok" | "rejected" | "failed"> {
    const m = parseSpoolLine(line);
    if (m === undefined) return Promise.resolve("rejected");
    return new Promise((resolve) => {
      session.stream.publish(subjectOf(m), m.text, m.id, (err, duplicate) => {
        if (err === undefined) {
          this.acked(duplicate);
          resolve("ok");
        } else if (permanent(err)) {
          this.rejected(err);
          resolve("rejected");
        } else {
          this.fail(session, err);
          resolve("failed");
        }
      });
    });
  }
}

/** A FIFO queue with O(1) shift (an array and a head index, compacted now and then). */
class Queue<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
}
