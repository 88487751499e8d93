// Helpers of the fleet tests: polling a condition with a generous deadline (never a fixed sleep), a link and
// publisher on a real server, and reading back every message of the stream with its id.

import { connect } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { FleetLink, type FleetSession } from "../fleetLink.js";
import { FleetPublisher, type FleetPublisherOptions } from "../fleetPublisher.js";
import { decodeMessage, type DecodedMessage } from "../fleetMessages.js";
import { MSG_ID_HEADER, STREAM_NAME } from "../fleetNames.js";
import { natsConnectionOptions, planFleetConnection } from "../natsOptions.js";

/** Polls `cond` every 20 ms until it holds; throws `what` after `timeoutMs`. */
export async function waitFor(cond: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export interface TestPublisher {
  link: FleetLink;
  publisher: FleetPublisher;
  close(): Promise<void>;
}

/** A publisher whose link to `url` reconnects quickly (backoff 100 ms to 1 s). */
export function testPublisher(
  url: string,
  options: Omit<FleetPublisherOptions, "onFailure"> & { replicas?: number },
): TestPublisher {
  const publisher = new FleetPublisher({ ...options, onFailure: (s, reason) => link.drop(s, reason) });
  const link: FleetLink = new FleetLink({
    plan: planFleetConnection({ url }),
    replicas: options.replicas ?? 1,
    backoff: { initialMs: 100, maxMs: 1000 },
    timeoutMs: options.timeoutMs ?? 5000,
    onUp: (s: FleetSession) => publisher.up(s),
    onDown: () => publisher.down(),
    onAttemptFailed: () => publisher.down(),
  });
  link.start();
  return {
    link,
    publisher,
    close: async () => {
      await publisher.close(0, async () => {});
      await link.close();
    },
  };
}

export interface StoredMessage extends DecodedMessage {
  streamSeq: number;
  header: string | undefined;
}

/**
 * Every message of the HOMEOSTAT stream, in stream order, decoded (the protocol's validation included). Retried
 * until `deadlineMs`: right after a cluster lost a server, JetStream's API may not answer until a new leader is
 * elected, which takes longer the busier the machine.
 */
export async function readStream(url: string, deadlineMs = 120_000): Promise<StoredMessage[]> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    try {
      return await readStreamOnce(url);
    } catch (err) {
      if (Date.now() > until) throw err;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

async function readStreamOnce(url: string): Promise<StoredMessage[]> {
  const transport = await import("@nats-io/transport-node");
  const nc = await connect(natsConnectionOptions(planFleetConnection({ url }), transport));
  try {
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info(STREAM_NAME);
    const out: StoredMessage[] = [];
    for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
      const m = await jsm.streams.getMessage(STREAM_NAME, { seq });
      if (m === null) continue;
      const header = m.header.get(MSG_ID_HEADER) || undefined;
      out.push({ ...decodeMessage(m.subject, m.data, header), streamSeq: seq, header });
    }
    return out;
  } finally {
    await nc.close();
  }
}
