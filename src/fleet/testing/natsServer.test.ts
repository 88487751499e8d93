// The nats-server test helper itself: a server accepts JetStream clients as soon as it says it is ready, keeps its
// streams across a kill and a restart on the same port, and three servers form a cluster that holds a stream with
// three replicas.

import { connect } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { afterEach, describe, expect, it } from "vitest";
import { natsServerUnavailableReason, startNatsCluster, startNatsServer } from "./natsServer.js";

const unavailable = natsServerUnavailableReason();
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

describe.skipIf(unavailable !== undefined)("nats-server helper", () => {
  it("starts, is killed, restarts on the same port with its streams", { timeout: 120_000 }, async () => {
    const server = await startNatsServer();
    cleanups.push(() => server.cleanup());
    let nc = await connect({ servers: server.url });
    let jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: "T", subjects: ["t.>"] });
    await nc.close();

    const port = server.port;
    const pid = server.pid;
    await server.stop();
    expect(server.pid).toBeUndefined();
    await expect(connect({ servers: server.url, reconnect: false, timeout: 2000 })).rejects.toThrow();
    await server.restart();
    expect(server.port).toBe(port);
    expect(server.pid).not.toBe(pid);

    nc = await connect({ servers: server.url });
    jsm = await jetstreamManager(nc);
    expect((await jsm.streams.info("T")).config.subjects).toEqual(["t.>"]);
    await nc.close();
  });

  it("starts a three-server cluster that holds a stream with three replicas", { timeout: 180_000 }, async () => {
    const cluster = await startNatsCluster(3);
    cleanups.push(() => cluster.cleanup());
    expect(new Set(cluster.servers.map((s) => s.port)).size).toBe(3);
    const nc = await connect({ servers: cluster.urls });
    const jsm = await jetstreamManager(nc);
    // The meta leader may still be settling right after the servers report healthy: retry until a deadline.
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        await jsm.streams.add({ name: "R", subjects: ["r.>"], num_replicas: 3 });
        break;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    const info = await jsm.streams.info("R");
    expect(info.config.num_replicas).toBe(3);
    expect(1 + (info.cluster?.replicas?.length ?? 0)).toBe(3);
    await nc.close();
  });
});
