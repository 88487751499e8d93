// The host's publishing against a real nats-server with JetStream: messages arrive with their ids, in order; a
// server killed in the middle of a run and started again loses nothing and duplicates nothing (the spool replays
// in order, JetStream drops what it had by id); a spool left by a run is replayed by the next; the spool's bound
// holds and what overflows is counted.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { afterEach, describe, expect, it } from "vitest";
import type { AlertBody } from "./fleetMessages.js";
import { STREAM_NAME } from "./fleetNames.js";
import { readStream, testPublisher, type TestPublisher, waitFor } from "./testing/fleetTesting.js";
import {
  freePort,
  natsServerUnavailableReason,
  type NatsServer,
  startNatsCluster,
  startNatsServer,
} from "./testing/natsServer.js";

const unavailable = natsServerUnavailableReason();
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "homeostat-fleet-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function server(): Promise<NatsServer> {
  const s = await startNatsServer();
  cleanups.push(() => s.cleanup());
  return s;
}

function publisherOn(url: string, spoolDir: string, run: string, spoolMaxBytes = 16 * 1024 * 1024): TestPublisher {
  const p = testPublisher(url, { host: "web-1", run, spoolDir, spoolMaxBytes, window: 64 });
  cleanups.push(() => p.close());
  return p;
}

const alertJson = (n: number): string =>
  JSON.stringify({
    time: new Date(1714557600000 + n).toISOString(),
    rule: "Anomalous system calls",
    priority: "Warning",
    source: "syscall",
    hostname: "web-1",
    tags: ["homeostat"],
    output: `alert ${n}`,
    output_fields: { n },
  });

const RUN_A = "aaaaaaaaaaaaaaaa";
const RUN_B = "bbbbbbbbbbbbbbbb";

describe.skipIf(unavailable !== undefined)("fleet publisher", () => {
  it("publishes alerts, actions and heartbeats with their ids, in order", { timeout: 120_000 }, async () => {
    const s = await server();
    const { publisher, link } = publisherOn(s.url, tempDir(), RUN_A);
    // The first ten while the link is still being made: they wait in memory, not in the spool.
    for (let i = 1; i <= 10; i++) publisher.publish("alerts", alertJson(i));
    expect(publisher.stats).toMatchObject({ queued: 10, spooled: 0 });
    await waitFor(() => link.current !== undefined, "the link");
    for (let i = 11; i <= 100; i++) publisher.publish("alerts", alertJson(i));
    publisher.publish(
      "actions",
      JSON.stringify({ time: 1, kind: "delay", pid: 1, tid: 1, exe: "/x", outcome: "paused", reason: "r" }),
    );
    publisher.publish(
      "heartbeats",
      JSON.stringify({
        started: 1,
        version: "t",
        counters: { events: 1, alerts: 100, actions: 1, lost: 0, profiles: {}, spooled: 0, spoolDropped: 0 },
      }),
    );
    await waitFor(() => publisher.stats.published === 102, "102 acknowledgements");
    const got = await readStream(s.url);
    expect(got.map((m) => m.id)).toEqual(Array.from({ length: 102 }, (_, i) => `web-1.${RUN_A}.${i + 1}`));
    expect(got.every((m) => m.header === m.id)).toBe(true);
    expect(got.slice(0, 100).map((m) => (m.body as AlertBody).alert.output)).toEqual(
      Array.from({ length: 100 }, (_, i) => `alert ${i + 1}`),
    );
    expect(got.map((m) => m.kind).slice(99)).toEqual(["alerts", "actions", "heartbeats"]);
    expect(publisher.stats).toMatchObject({
      made: 102,
      duplicates: 0,
      rejected: 0,
      replayed: 0,
      spooled: 0,
      spoolDropped: 0,
    });
  });

  it("loses and repeats nothing when the server is killed mid-run and restarted", { timeout: 180_000 }, async () => {
    const s = await server();
    const { publisher, link } = publisherOn(s.url, tempDir(), RUN_A);
    await waitFor(() => link.current !== undefined, "the link");
    for (let i = 1; i <= 300; i++) publisher.publish("alerts", alertJson(i));
    // Killed with publishes still waiting for their acknowledgement (the window is 64).
    await s.stop();
    await waitFor(() => link.current === undefined, "the link to notice");
    for (let i = 301; i <= 500; i++) publisher.publish("alerts", alertJson(i));
    expect(publisher.stats.spooled).toBeGreaterThanOrEqual(200);
    await s.restart();
    await waitFor(() => publisher.idle && link.current !== undefined, "the spool to drain", 120_000);
    const got = await readStream(s.url);
    // Every message exactly once, in sequence order.
    expect(got.map((m) => m.body.seq)).toEqual(Array.from({ length: 500 }, (_, i) => i + 1));
    expect(new Set(got.map((m) => m.id)).size).toBe(500);
    expect(publisher.stats.replayed).toBeGreaterThanOrEqual(200);
    expect(publisher.stats.spoolDropped).toBe(0);
  });

  it(
    "replays at the next start what a run left in its spool, before the new run's messages",
    { timeout: 120_000 },
    async () => {
      const spoolDir = tempDir();
      const port = await freePort();
      const url = `nats://127.0.0.1:${port}`; // nothing listens: the first run spools everything
      const first = testPublisher(url, { host: "web-1", run: RUN_A, spoolDir, spoolMaxBytes: 1 << 20 });
      // Until the first connection attempt fails, messages wait in memory; from then on, in the spool.
      await waitFor(() => first.link.stats.failures > 0, "the first attempt to fail");
      for (let i = 1; i <= 20; i++) first.publisher.publish("alerts", alertJson(i));
      expect(first.publisher.stats.spooled).toBe(20);
      await first.close();

      const s = await server();
      const second = publisherOn(s.url, spoolDir, RUN_B);
      for (let i = 1; i <= 5; i++) second.publisher.publish("alerts", alertJson(100 + i));
      await waitFor(() => second.publisher.stats.published === 25, "25 acknowledgements");
      const got = await readStream(s.url);
      expect(got.map((m) => m.id)).toEqual([
        ...Array.from({ length: 20 }, (_, i) => `web-1.${RUN_A}.${i + 1}`),
        ...Array.from({ length: 5 }, (_, i) => `web-1.${RUN_B}.${i + 1}`),
      ]);
      // The new run's own messages went through the spool too: it was not empty when they came.
      expect(second.publisher.stats.replayed).toBe(25);
    },
  );

  it("keeps the spool under its bound and counts what overflows", { timeout: 120_000 }, async () => {
    const spoolDir = tempDir();
    const port = await freePort();
    const p = testPublisher(`nats://127.0.0.1:${port}`, { host: "web-1", run: RUN_A, spoolDir, spoolMaxBytes: 4096 });
    cleanups.push(() => p.close());
    await waitFor(() => p.link.stats.failures > 0, "the first attempt to fail");
    for (let i = 1; i <= 100; i++) p.publisher.publish("alerts", alertJson(i));
    const st = p.publisher.stats;
    expect(st.spooled).toBeGreaterThan(5);
    expect(st.spooled).toBeLessThan(100);
    expect(st.spooled + st.spoolDropped).toBe(100);
    const kept = st.spooled;
    await p.close();

    // The kept ones are the oldest, and reach the stream in order once a server is there.
    const s = await server();
    const q = publisherOn(s.url, spoolDir, RUN_B);
    await waitFor(() => q.publisher.stats.published === kept, `${kept} replayed`);
    const got = await readStream(s.url);
    expect(got.map((m) => m.id)).toEqual(Array.from({ length: kept }, (_, i) => `web-1.${RUN_A}.${i + 1}`));
  });

  it(
    "keeps every message, once and in order, on a 3-server cluster (replicas 3) losing a server",
    { timeout: 240_000 },
    async () => {
      const cluster = await startNatsCluster(3);
      cleanups.push(() => cluster.cleanup());
      const url = cluster.urls.join(",");
      const p = testPublisher(url, {
        host: "web-1",
        run: RUN_A,
        spoolDir: tempDir(),
        spoolMaxBytes: 1 << 24,
        replicas: 3,
      });
      cleanups.push(() => p.close());
      for (let i = 1; i <= 100; i++) p.publisher.publish("alerts", alertJson(i));
      await waitFor(() => p.publisher.stats.published === 100, "100 acknowledgements", 120_000);
      await cluster.servers[0]!.stop();
      for (let i = 101; i <= 200; i++) p.publisher.publish("alerts", alertJson(i));
      await waitFor(() => p.publisher.stats.published >= 200 && p.publisher.idle, "the rest, after the loss", 180_000);
      const got = await readStream(cluster.urls.slice(1).join(","));
      expect(got.map((m) => m.body.seq)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
      const nc = await connect({ servers: cluster.urls.slice(1) });
      try {
        // The stream was read above, so the cluster's JetStream answers again; a generous timeout all the same.
        const info = await (await jetstreamManager(nc, { timeout: 30_000 })).streams.info(STREAM_NAME);
        expect(info.config.num_replicas).toBe(3);
      } finally {
        await nc.close();
      }
    },
  );
});
