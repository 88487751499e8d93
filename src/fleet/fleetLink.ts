// A host's link to the fleet's NATS servers: it connects in the background (the watch never waits for it), makes
// sure the stream and buckets exist, hands each session to its users, and when the connection is lost (or a user
// finds it failing) it drops that session entirely and makes a new one, with exponential backoff. A fresh
// connection per session (the client's own reconnection is off) means nothing buffered on a dead connection is
// sent later behind the spool's replay, which keeps the stream in order. The NATS modules are loaded here, on
// first use, so that a watch without --fleet never loads them.

import type { JetStreamClient } from "@nats-io/jetstream";
import type { KV } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { backoffDelay, type BackoffOptions } from "../watch/outputs/backoff.js";
import { ensureBucket, ensureStream, natsErrorKind } from "./fleetSetup.js";
import { ADMIN_BUCKET, POOLED_BUCKET, PROFILES_BUCKET } from "./fleetNames.js";
import { type FleetConnectPlan, natsConnectionOptions } from "./natsOptions.js";
import { StreamPublish } from "./streamPublish.js";

/** One connection and what the protocol needs of it; `gen` tells a stale session from the current one. */
export interface FleetSession {
  readonly gen: number;
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  /** Publishing to the stream with acknowledgements, many at once (streamPublish.ts). */
  readonly stream: StreamPublish;
  /** The buckets (undefined when missing and not creatable with this host's permissions). */
  readonly profiles: KV | undefined;
  readonly pooled: KV | undefined;
  readonly admin: KV | undefined;
}

export interface FleetLinkOptions {
  plan: FleetConnectPlan;
  /** Replicas of the stream and buckets when this host creates them (default 1). */
  replicas?: number;
  /** Milliseconds one request (publish, KV) may take (default 5 s). */
  timeoutMs?: number;
  backoff?: BackoffOptions;
  onUp(session: FleetSession): void;
  /** The session ended (`reason`); a new one is being made. */
  onDown(reason: string): void;
  /** A connection attempt failed (`attempt` counts from 1 since the last session). */
  onAttemptFailed?(reason: string, attempt: number): void;
}

export interface FleetLinkStats {
  connected: boolean;
  /** Sessions made, and connection attempts that failed. */
  connects: number;
  failures: number;
  lastError: string | undefined;
}

const PING_INTERVAL_MS = 10_000;
/** Request timeouts that setting up a session (the stream, three buckets) may take in all before it is given up. */
const SETUP_TIMEOUTS = 4;

/** A NATS error as one line, without any secret (the client's messages carry neither passwords nor creds). */
export function describeNatsError(err: unknown): string {
  const { name } = natsErrorKind(err);
  const message = err instanceof Error ? err.message : String(err);
  return name === "Error" || message.includes(name) ? message : `${name}: ${message}`;
}

export class FleetLink {
  private session: FleetSession | undefined;
  /** The connection of the session being set up (stream and buckets), if any. */
  private opening: NatsConnection | undefined;
  private gen = 0;
  private closed = false;
  private wake: (() => void) | undefined;
  private running: Promise<void> | undefined;
  readonly stats: FleetLinkStats = { connected: false, connects: 0, failures: 0, lastError: undefined };

  constructor(private readonly options: FleetLinkOptions) {}

  /** Starts connecting (in the background). */
  start(): void {
    this.running ??= this.run();
  }

  get current(): FleetSession | undefined {
    return this.session;
  }

  /** A user found the session failing (a publish timed out): end it; a new one follows. */
  drop(session: FleetSession, reason: string): void {
    if (this.session !== session) return;
    this.stats.lastError = reason;
    void session.nc.close().catch(() => {});
  }

  async close(): Promise<void> {
    this.closed = true;
    this.wake?.();
    // A connection still being set up is closed too: its pending requests fail and the attempt ends.
    await this.opening?.close().catch(() => {});
    const s = this.session;
    if (s !== undefined) await s.nc.close().catch(() => {});
    await this.running;
  }

  private async run(): Promise<void> {
    for (let attempt = 0; !this.closed;) {
      let session: FleetSession;
      try {
        session = await this.open();
      } catch (err) {
        this.stats.failures++;
        this.stats.lastError = describeNatsError(err);
        this.options.onAttemptFailed?.(this.stats.lastError, attempt + 1);
        await this.pause(backoffDelay(attempt++, { initialMs: 500, maxMs: 30_000, ...this.options.backoff }));
        continue;
      }
      attempt = 0;
      if (this.closed) {
        await session.nc.close().catch(() => {});
        break;
      }
      this.session = session;
      this.stats.connects++;
      this.stats.connected = true;
      this.options.onUp(session);
      const ended = await session.nc.closed();
      session.stream.close();
      this.session = undefined;
      this.stats.connected = false;
      if (ended instanceof Error) this.stats.lastError = describeNatsError(ended);
      this.options.onDown(this.stats.lastError ?? "connection closed");
      if (!this.closed) await this.pause(backoffDelay(0, { initialMs: 500, maxMs: 30_000, ...this.options.backoff }));
    }
  }

  /** Waits `ms`, or less when the link is closed. */
  private async pause(ms: number): Promise<void> {
    if (this.closed) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
    this.wake = undefined;
  }

  /** One connection with the stream and buckets made sure of. */
  private async open(): Promise<FleetSession> {
    const [transport, jsLib, kvLib] = await Promise.all([
      import("@nats-io/transport-node"),
      import("@nats-io/jetstream"),
      import("@nats-io/kv"),
    ]);
    const timeout = this.options.timeoutMs ?? 5_000;
    const nc = await transport.connect({
      ...natsConnectionOptions(this.options.plan, transport),
      reconnect: false,
      timeout,
      pingInterval: PING_INTERVAL_MS,
      maxPingOut: 2,
    });
    this.opening = nc;
    // Setting up is bounded as a whole, whatever the server does with each request.
    const watchdog = setTimeout(() => void nc.close().catch(() => {}), timeout * SETUP_TIMEOUTS);
    try {
      if (this.closed) throw new Error("the fleet link is closed");
      const replicas = this.options.replicas ?? 1;
      const jsm = await jsLib.jetstreamManager(nc, { timeout });
      await ensureStream(jsm, replicas);
      const js = jsLib.jetstream(nc, { timeout });
      const kvm = new kvLib.Kvm(js);
      const [profiles, pooled, admin] = await Promise.all(
        [PROFILES_BUCKET, POOLED_BUCKET, ADMIN_BUCKET].map((b) => ensureBucket(kvm, b as never, replicas)),
      );
      const stream = new StreamPublish(nc, transport, timeout);
      return { gen: ++this.gen, nc, js, stream, profiles, pooled, admin };
    } catch (err) {
      await nc.close().catch(() => {});
      throw err;
    } finally {
      clearTimeout(watchdog);
      this.opening = undefined;
    }
  }
}
