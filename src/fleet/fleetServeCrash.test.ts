// `homeostat fleet serve` killed (SIGKILL, a real child process of the built CLI) in the middle of a stream of
// alerts, and started again on the same state directory: the durable consumer gives the new one whatever the old
// one had not acknowledged, and the database's message ids keep what the old one had stored but not acknowledged
// from being stored twice. Every alert is stored exactly once.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { type JetStreamClient, jetstream } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FleetChild, fleetRows, startFleetChild } from "./testing/fleetChild.js";
import { envelope, publishUntilAcked, until } from "./testing/fleetTraffic.js";
import { type NatsServer, natsServerUnavailableReason, startNatsServer } from "./testing/natsServer.js";

const unavailable = natsServerUnavailableReason();
const HOSTS = ["alpha", "beta"];
const PER_HOST = 1500;

describe.skipIf(unavailable !== undefined)("fleet serve killed and started again", () => {
  let server: NatsServer;
  let dir: string;
  let nc: NatsConnection;
  let js: JetStreamClient;
  const children: FleetChild[] = [];

  beforeAll(async () => {
    server = await startNatsServer();
    dir = mkdtempSync(path.join(tmpdir(), "homeostat-fleet-crash-"));
    nc = await connect({ servers: server.url });
    js = jetstream(nc);
  }, 120_000);

  afterAll(async () => {
    for (const c of children) await c.kill();
    await nc?.close();
    await server?.cleanup();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  /** Publishes alerts seq from..to of every host, eight at a time. */
  async function publish(from: number, to: number): Promise<void> {
    const t0 = Date.now();
    for (let seq = from; seq <= to; seq += 8) {
      const batch: Promise<void>[] = [];
      for (let s = seq; s < seq + 8 && s <= to; s++) {
        for (const h of HOSTS) batch.push(publishUntilAcked(js, "alerts", envelope(h, s, t0 + s)));
      }
      await Promise.all(batch);
    }
  }

  it("resumes from the durable consumer with nothing lost or stored twice", { timeout: 300_000 }, async () => {
    const args = ["--nats", server.url, "--state", dir, "--no-console"];
    const first = await startFleetChild(args);
    children.push(first);
    await publish(1, PER_HOST / 2);
    // Killed while it is storing: some of what it received is stored, some not, some stored but not acknowledged.
    await until("part of the alerts stored", () => fleetRows(dir, "alerts").n >= PER_HOST / 4);
    await first.kill();
    const atKill = fleetRows(dir, "alerts").n;
    console.log(`fleet serve killed with ${atKill} of ${HOSTS.length * (PER_HOST / 2)} published alerts stored`);
    expect(first.child.signalCode).toBe("SIGKILL");
    // Published while no fleet serve runs: the stream keeps them.
    await publish(PER_HOST / 2 + 1, PER_HOST);
    const second = await startFleetChild(args);
    children.push(second);
    const total = HOSTS.length * PER_HOST;
    await until("every alert stored", () => fleetRows(dir, "alerts").n >= total, 120_000);
    const stopped = (await second.stop()) as { ingest: { stored: number; duplicates: number; rejected: number } };
    console.log(`the second fleet serve: ${JSON.stringify(stopped.ingest)}`);
    expect(fleetRows(dir, "alerts")).toEqual({ n: total, ids: total });
    expect(stopped.ingest.stored).toBe(total - atKill);
    expect(stopped.ingest.rejected).toBe(0);
    expect(second.child.exitCode).toBe(0);
  });
});
