// fleet serve on a three-server JetStream cluster, the stream and its consumer with three replicas: the server
// leading the stream is killed while hosts publish (they retry an unacknowledged publish with the same message id,
// as a host's spool does), a new leader takes over, and every alert is stored exactly once.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { type JetStreamClient, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { STREAM_NAME } from "./fleetNames.js";
import { type RunningFleetServe, startFleetServe } from "./fleetServe.js";
import { fleetRows } from "./testing/fleetChild.js";
import { envelope, publishUntilAcked, until } from "./testing/fleetTraffic.js";
import { type NatsCluster, natsServerUnavailableReason, startNatsCluster } from "./testing/natsServer.js";

const unavailable = natsServerUnavailableReason();
const HOSTS = ["h1", "h2", "h3", "h4"];
const PER_HOST = 400;

describe.skipIf(unavailable !== undefined)("fleet serve on a three-server cluster", () => {
  let cluster: NatsCluster;
  let dir: string;
  let fleet: RunningFleetServe;
  let nc: NatsConnection;
  let js: JetStreamClient;

  beforeAll(async () => {
    cluster = await startNatsCluster(3);
    dir = mkdtempSync(path.join(tmpdir(), "homeostat-fleet-cluster-"));
    fleet = await startFleetServe({ nats: { url: cluster.urls.join(",") }, stateDir: dir, replicas: 3 });
    nc = await connect({ servers: cluster.urls, maxReconnectAttempts: -1, reconnectTimeWait: 200 });
    js = jetstream(nc);
  }, 180_000);

  afterAll(async () => {
    await nc?.close();
    await fleet?.close();
    await cluster?.cleanup();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it("loses nothing when the stream's leader is killed during publishing", { timeout: 300_000 }, async () => {
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info(STREAM_NAME);
    expect(info.config.num_replicas).toBe(3);
    const t0 = Date.now();
    let killed = false;
    const leader = cluster.servers.find((s) => s.name === info.cluster?.leader)!;
    expect(leader).toBeDefined();
    for (let seq = 1; seq <= PER_HOST; seq += 10) {
      const batch: Promise<void>[] = [];
      for (let s = seq; s < seq + 10; s++) {
        for (const h of HOSTS) batch.push(publishUntilAcked(js, "alerts", envelope(h, s, t0 + s)));
      }
      await Promise.all(batch);
      if (!killed && seq > PER_HOST / 3) {
        killed = true;
        await leader.stop();
        console.log(`killed ${leader.name}, the stream's leader, after ${seq + 9} alerts per host`);
      }
    }
    const total = HOSTS.length * PER_HOST;
    await until("every alert stored", () => fleetRows(dir, "alerts").n >= total, 180_000);
    const after = await jsm.streams.info(STREAM_NAME);
    console.log(`stream leader now ${after.cluster?.leader}; ingest ${JSON.stringify(fleet.status().ingest)}`);
    expect(after.cluster?.leader).not.toBe(leader.name);
    expect(fleetRows(dir, "alerts")).toEqual({ n: total, ids: total });
    expect(fleet.status().ingest.rejected).toBe(0);
  });
});
