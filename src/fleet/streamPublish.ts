// Publishing to the stream with an acknowledgement per message, for many messages at once, cheaply: each message is
// a plain NATS publish with its `Nats-Msg-Id` header and a reply subject under one inbox subscription of this
// session; JetStream's acknowledgement (or error) comes back there and is matched by the reply's last token, and
// one sweep a quarter second fails those that waited too long. A publish the server refuses for the permissions gets
// no reply, only the connection's asynchronous error naming the subject: the messages waiting on that subject fail
// with it (for good), rather than time out and be retried forever. The client's own JetStream publish makes a request
// (promise, timer, reply handling) per message, which costs several times more CPU than this at thousands of
// alerts a second.

import type { Msg, NatsConnection, Subscription } from "@nats-io/transport-node";

/** What a message's acknowledgement says: an error (as the client's would be: name, code, status), or stored. */
export type AckCallback = (err: Error | undefined, duplicate: boolean) => void;

interface Pending {
  cb: AckCallback;
  at: number;
  subject: string;
}

/** A JetStream API error as the client makes it: `status` the HTTP-like code, `code` JetStream's err_code. */
export class StreamAckError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: number | undefined,
    name = "JetStreamApiError",
  ) {
    super(message);
    this.name = name;
  }
}

export interface StreamPublishLib {
  headers(): { set(key: string, value: string): void };
  createInbox(prefix?: string): string;
}

export class StreamPublish {
  private readonly pending = new Map<number, Pending>();
  private next = 0;
  private readonly prefix: string;
  private readonly sub: Subscription;
  private readonly sweeper: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly nc: NatsConnection,
    private readonly lib: StreamPublishLib,
    private readonly timeoutMs: number,
  ) {
    this.prefix = lib.createInbox();
    this.sub = nc.subscribe(`${this.prefix}.*`, { callback: (_err, msg) => this.reply(msg) });
    this.sweeper = setInterval(() => this.sweep(), 250);
    void this.watchErrors();
  }

  /** Acknowledgements awaited now. */
  get waiting(): number {
    return this.pending.size;
  }

  /** Publishes one message; `cb` is called once, with the acknowledgement, an error, or a timeout. */
  publish(subject: string, data: string, msgId: string, cb: AckCallback): void {
    if (this.closed) {
      cb(new StreamAckError("connection closed", 0, undefined, "ClosedConnectionError"), false);
      return;
    }
    const key = ++this.next;
    const h = this.lib.headers();
    h.set("Nats-Msg-Id", msgId);
    this.pending.set(key, { cb, at: Date.now(), subject });
    try {
      this.nc.publish(subject, data, { reply: `${this.prefix}.${key}`, headers: h as never });
    } catch (err) {
      this.pending.delete(key);
      cb(err instanceof Error ? err : new Error(String(err)), false);
    }
  }

  /** Ends this session's publishing: every message still waiting fails (it will be spooled). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.sweeper);
    this.sub.unsubscribe();
    const waiting = [...this.pending.values()];
    this.pending.clear();
    for (const p of waiting)
      p.cb(new StreamAckError("connection closed", 0, undefined, "ClosedConnectionError"), false);
  }

  private reply(msg: Msg): void {
    const key = Number(msg.subject.slice(this.prefix.length + 1));
    const p = this.pending.get(key);
    if (p === undefined) return; // timed out already
    this.pending.delete(key);
    const h = msg.headers;
    if (h !== undefined && h.code >= 400) {
      // 503: no stream takes the subject (no responders), or JetStream is not available yet.
      p.cb(new StreamAckError(h.description || `status ${h.code}`, h.code, undefined, "NoResponders"), false);
      return;
    }
    let ack: { error?: { code?: number; err_code?: number; description?: string }; duplicate?: boolean };
    try {
      ack = msg.json();
    } catch {
      p.cb(new StreamAckError("an acknowledgement that is not JSON", 500, undefined), false);
      return;
    }
    if (ack.error !== undefined) {
      const e = ack.error;
      p.cb(new StreamAckError(e.description ?? "JetStream error", e.code ?? 500, e.err_code), false);
      return;
    }
    p.cb(undefined, ack.duplicate === true);
  }

  /** The connection's permission errors: the messages waiting on the refused subject fail with them. */
  private async watchErrors(): Promise<void> {
    for await (const s of this.nc.status()) {
      if (this.closed) return;
      if (s.type !== "error") continue;
      const e = s.error as Error & { operation?: string; subject?: string };
      if (e.name !== "PermissionViolationError" || e.operation !== "publish") continue;
      for (const [key, p] of this.pending) {
        if (p.subject !== e.subject) continue;
        this.pending.delete(key);
        p.cb(e, false);
      }
    }
  }

  /** Fails the messages that waited longer than the timeout (the map is in publish order: oldest first). */
  private sweep(): void {
    const limit = Date.now() - this.timeoutMs;
    for (const [key, p] of this.pending) {
      if (p.at > limit) break;
      this.pending.delete(key);
      p.cb(new StreamAckError(`no acknowledgement within ${this.timeoutMs} ms`, 408, undefined, "TimeoutError"), false);
    }
  }
}
