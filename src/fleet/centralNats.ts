// The central side's NATS connection and the JetStream objects it relies on: the connection (the options of
// natsOptions.ts: one or more servers, credentials from the URL or a creds file, TLS; reconnecting for ever once
// up), the stream and buckets of the protocol ensured as a host ensures them (fleetSetup.ts), retried while a fresh
// cluster elects its leaders, and the durable pull consumer `homeostat-fleet` whose acknowledged position
// survives `fleet serve` being killed. The NATS modules are loaded when a connection is made.

import type { JetStreamManager } from "@nats-io/jetstream";
import type { KV } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { HomeostatError } from "../errors.js";
import { STREAM_NAME } from "./fleetNames.js";
import { ensureBucket, ensureStream, natsErrorKind } from "./fleetSetup.js";
import { type FleetConnectFlags, natsConnectionOptions, planFleetConnection } from "./natsOptions.js";

/** The durable consumer of `fleet serve`: its acknowledged position is the fleet database's. */
export const FLEET_CONSUMER = "homeostat-fleet";
/** Messages delivered and not yet acknowledged, at most (a batch being committed, and the next ones). */
const MAX_ACK_PENDING = 20_000;
/** How long an unacknowledged message waits before JetStream delivers it again. */
const ACK_WAIT_MS = 10_000;
/** How long the stream, consumer and buckets may take to be ensured (a cluster electing its leaders). */
const ENSURE_DEADLINE_MS = 60_000;
const CONSUMER_NOT_FOUND = 10014;

/** Connects (E_IO when no server answers); afterwards the client reconnects on its own for as long as it runs. */
export async function connectCentral(flags: FleetConnectFlags): Promise<{ nc: NatsConnection; display: string }> {
  const plan = planFleetConnection({ name: "homeostat fleet serve", ...flags });
  const lib = await import("@nats-io/transport-node");
  try {
    const nc = await lib.connect({
      ...natsConnectionOptions(plan, lib),
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
    });
    return { nc, display: plan.display };
  } catch (err) {
    throw new HomeostatError(
      "E_IO",
      `cannot connect to NATS at ${plan.display}: ${(err as Error).message}`,
      {},
      {
        cause: err,
      },
    );
  }
}

/** Retries `fn` while JetStream is not ready (a fresh cluster without a leader yet), until a deadline. */
export async function settled<T>(what: string, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + ENSURE_DEADLINE_MS;
  for (let delay = 100; ; delay = Math.min(delay * 2, 2000)) {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof HomeostatError) throw err;
      const k = natsErrorKind(err);
      if (k.name === "PermissionViolationError" || Date.now() + delay > deadline) {
        throw new HomeostatError("E_IO", `${what}: ${(err as Error).message}`, {}, { cause: err });
      }
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

/** The durable pull consumer, explicit acknowledgement, from the stream's first message (left as it is if present). */
export async function ensureConsumer(jsm: JetStreamManager): Promise<void> {
  const { AckPolicy, DeliverPolicy } = await import("@nats-io/jetstream");
  const { nanos } = await import("@nats-io/transport-node");
  await settled("cannot set up the fleet consumer", async () => {
    try {
      await jsm.consumers.info(STREAM_NAME, FLEET_CONSUMER);
    } catch (err) {
      if (natsErrorKind(err).code !== CONSUMER_NOT_FOUND) throw err;
      await jsm.consumers.add(STREAM_NAME, {
        durable_name: FLEET_CONSUMER,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        ack_wait: nanos(ACK_WAIT_MS),
        max_ack_pending: MAX_ACK_PENDING,
        max_deliver: -1,
      });
    }
  });
}

/** The stream, the consumer and the buckets `fleet serve` uses (the pooled one only when pooling). */
export async function ensureCentral(
  nc: NatsConnection,
  replicas: number,
  pool: boolean,
): Promise<{ profiles: KV; admin: KV; pooled: KV | undefined }> {
  const { jetstreamManager } = await import("@nats-io/jetstream");
  const { Kvm } = await import("@nats-io/kv");
  const jsm = await settled("cannot reach JetStream", () => jetstreamManager(nc));
  await settled("cannot set up the HOMEOSTAT stream", () => ensureStream(jsm, replicas));
  await ensureConsumer(jsm);
  const kvm = new Kvm(nc);
  const bucket = async (name: Parameters<typeof ensureBucket>[1]): Promise<KV> => {
    const kv = await settled(`cannot open the KV bucket ${name}`, () => ensureBucket(kvm, name, replicas));
    if (kv === undefined) throw new HomeostatError("E_PERMISSION", `not permitted to create the KV bucket ${name}`);
    return kv;
  };
  return {
    profiles: await bucket("homeostat_profiles"),
    admin: await bucket("homeostat_admin"),
    pooled: pool ? await bucket("homeostat_pooled") : undefined,
  };
}
