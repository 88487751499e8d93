// The stream into the fleet database: the durable pull consumer's messages gathered into batches (up to
// `batchSize`, or what arrived within `flushMs`), each batch decoded and stored in one transaction, and only then
// acknowledged, so that a `fleet serve` killed at any point loses nothing: whatever it had not acknowledged is
// delivered again to the next one, and the database's unique message ids make that second delivery a no-op. A
// message that is not of the protocol is terminated (never delivered again) and counted; a batch the database
// refuses (a full disk) is negatively acknowledged, to be delivered again after a pause.

import type { ConsumerMessages, JsMsg } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { FLEET_CONSUMER } from "./centralNats.js";
import { DelayWindow } from "./delayWindow.js";
import { type DecodedMessage, decodeMessage } from "./fleetMessages.js";
import { MSG_ID_HEADER, STREAM_NAME } from "./fleetNames.js";
import type { FleetStore } from "./fleetStore.js";

export interface IngestOptions {
  /** Messages per transaction at most (default 500). */
  batchSize?: number;
  /** Milliseconds a partial batch waits for more before it is stored (default 50). */
  flushMs?: number;
  /** A batch the database refused (it will be delivered again). */
  onError?: (err: unknown) => void;
  /** A message that is not of the protocol (terminated, never delivered again). */
  onRejected?: (subject: string, err: unknown) => void;
}

export interface IngestStats {
  /** Messages delivered to this process. */
  received: number;
  /** Alerts, actions and heartbeats newly stored. */
  stored: number;
  /** Messages already stored (delivered again, or replayed by a host) or heartbeats older than the last. */
  duplicates: number;
  rejected: number;
  batches: number;
  failedBatches: number;
}

/** How long JetStream waits before delivering a refused batch again. */
const RETRY_MS = 2000;

export class FleetIngest {
  readonly stats: IngestStats = {
    received: 0,
    stored: 0,
    duplicates: 0,
    rejected: 0,
    batches: 0,
    failedBatches: 0,
  };
  /** Resolves when the consumer has stopped and the last batch is stored and acknowledged. */
  readonly done: Promise<void>;
  /** From a message's making (its body's time) to the commit that stored it, recent messages. */
  readonly delays = new DelayWindow();
  private readonly pending: JsMsg[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly batchSize: number;
  private readonly flushMs: number;

  private constructor(
    private readonly messages: ConsumerMessages,
    private readonly store: FleetStore,
    private readonly options: IngestOptions,
  ) {
    this.batchSize = options.batchSize ?? 500;
    this.flushMs = options.flushMs ?? 50;
    this.done = this.loop();
  }

  /** Starts consuming the durable consumer (ensured beforehand: centralNats.ts). */
  static async start(nc: NatsConnection, store: FleetStore, options: IngestOptions = {}): Promise<FleetIngest> {
    const { jetstream } = await import("@nats-io/jetstream");
    const consumer = await jetstream(nc).consumers.get(STREAM_NAME, FLEET_CONSUMER);
    const messages = await consumer.consume({ max_messages: 1000 });
    return new FleetIngest(messages, store, options);
  }

  /** Stops consuming; resolves once what was delivered is stored and acknowledged. */
  async stop(): Promise<void> {
    await this.messages.close();
    await this.done;
  }

  private async loop(): Promise<void> {
    try {
      for await (const m of this.messages) {
        this.stats.received++;
        this.pending.push(m);
        if (this.pending.length >= this.batchSize) this.flush();
        else this.timer ??= setTimeout(() => this.flush(), this.flushMs);
      }
    } catch (err) {
      this.options.onError?.(err);
    } finally {
      this.flush();
    }
  }

  /** Decodes, stores in one transaction, then acknowledges the pending messages. */
  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending.splice(0);
    if (batch.length === 0) return;
    const decoded: DecodedMessage[] = [];
    const accepted: JsMsg[] = [];
    for (const m of batch) {
      try {
        decoded.push(decodeMessage(m.subject, m.data, m.headers?.get(MSG_ID_HEADER) || undefined));
        accepted.push(m);
      } catch (err) {
        m.term();
        this.stats.rejected++;
        this.options.onRejected?.(m.subject, err);
      }
    }
    try {
      const outcome = this.store.storeMessages(decoded);
      const committed = Date.now();
      for (const d of decoded) this.delays.add(d.body.time, committed);
      this.stats.stored += outcome.stored;
      this.stats.duplicates += outcome.duplicates;
      this.stats.batches++;
    } catch (err) {
      for (const m of accepted) m.nak(RETRY_MS);
      this.stats.failedBatches++;
      this.options.onError?.(err);
      return;
    }
    for (const m of accepted) m.ack();
  }
}
