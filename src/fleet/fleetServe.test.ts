// `fleet serve` in-process against a real nats-server: messages published by the protocol (as a watch with --fleet
// publishes them) are stored once each, and a replay of the same ids (published again without the header, so that
// JetStream keeps the copies, as after its dedup window) stores nothing more; the console's Hosts page, Alerts page
// and JSON API answer with that data; two hosts' snapshots of a program are pooled into the pooled bucket, pooled
// again when one changes; a confirmed operation on the Program page lands in the admin bucket.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { type JetStreamClient, jetstream } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PhProfile } from "../lifecycle/phProfile.js";
import { openSqlite } from "../store/sqliteDatabase.js";
import { decodeAdminOp } from "./adminOp.js";
import { type FleetKind, subjectFor } from "./fleetNames.js";
import { type RunningFleetServe, startFleetServe } from "./fleetServe.js";
import { decodeSnapshot } from "./profileSnapshot.js";
import {
  envelope,
  messageBytes,
  publishUntilAcked,
  putSnapshot,
  trainedProfile,
  until,
} from "./testing/fleetTraffic.js";
import { type NatsServer, natsServerUnavailableReason, startNatsServer } from "./testing/natsServer.js";

const unavailable = natsServerUnavailableReason();
const HOSTS = ["web-1", "web-2", "db-1"];
const ALERTS = 40;
const PROGRAM = `b-${"ef".repeat(20)}`;

/** Each host's messages: alerts, then actions, then heartbeats, seq counting over all three. */
function traffic(): { kind: FleetKind; seq: number }[] {
  const out: { kind: FleetKind; seq: number }[] = [];
  let seq = 0;
  for (let i = 0; i < ALERTS; i++) out.push({ kind: "alerts", seq: ++seq });
  for (let i = 0; i < 5; i++) out.push({ kind: "actions", seq: ++seq });
  for (let i = 0; i < 3; i++) out.push({ kind: "heartbeats", seq: ++seq });
  return out;
}

describe.skipIf(unavailable !== undefined)("fleet serve against nats-server", () => {
  let server: NatsServer;
  let dir: string;
  let fleet: RunningFleetServe;
  let nc: NatsConnection;
  let js: JetStreamClient;
  const t0 = Date.now() - 60_000;
  const get = async (p: string) => fetch(new URL(p, fleet.url));
  const json = async <T>(p: string) => (await (await get(p)).json()) as T;
  const db = <T>(sql: string): T => {
    const conn = openSqlite(fleet.dbPath, { readonly: true });
    try {
      return conn.prepare(sql).get() as T;
    } finally {
      conn.close();
    }
  };

  beforeAll(async () => {
    server = await startNatsServer();
    dir = mkdtempSync(path.join(tmpdir(), "homeostat-fleet-serve-"));
    fleet = await startFleetServe({
      nats: { url: server.url },
      stateDir: dir,
      listen: { host: "127.0.0.1", port: 0 },
      pool: true,
      poolDebounceMs: 100,
    });
    nc = await connect({ servers: server.url });
    js = jetstream(nc);
  }, 120_000);

  afterAll(async () => {
    await nc?.close();
    await fleet?.close();
    await server?.cleanup();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it("stores every message once, and a replay of the same ids not again", { timeout: 120_000 }, async () => {
    for (const host of HOSTS) {
      for (const m of traffic()) await publishUntilAcked(js, m.kind, envelope(host, m.seq, t0 + m.seq * 100));
    }
    const total = HOSTS.length * traffic().length;
    await until("every message stored", () => fleet.status().ingest.stored! >= total);
    // The replay: the same bodies without Nats-Msg-Id, which JetStream then keeps as new messages.
    for (const host of HOSTS) {
      for (const m of traffic()) {
        await js.publish(subjectFor(m.kind, host), messageBytes(m.kind, envelope(host, m.seq, t0 + m.seq * 100)));
      }
    }
    await until("the replay delivered", () => fleet.status().ingest.duplicates! >= total);
    const s = fleet.status().ingest;
    expect(s).toMatchObject({ stored: total, duplicates: total, rejected: 0 });
    const alerts = db<{ n: number; ids: number }>(`SELECT count(*) AS n, count(DISTINCT msg_id) AS ids FROM alerts`);
    expect(alerts).toEqual({ n: HOSTS.length * ALERTS, ids: HOSTS.length * ALERTS });
    expect(db<{ n: number }>(`SELECT count(*) AS n FROM actions`).n).toBe(HOSTS.length * 5);
  });

  it("answers on the Hosts page, the Alerts page and the API with that data", { timeout: 60_000 }, async () => {
    const page = await (await get("/")).text();
    for (const h of HOSTS) expect(page).toContain(`<tr data-host="${h}">`);
    expect(page).toContain("alerts-by-host");
    const { hosts } = await json<{ hosts: { id: string; alerts: number; actions: number; lastHeartbeat: number }[] }>(
      "/api/fleet/hosts",
    );
    expect(hosts.map((h) => [h.id, h.alerts, h.actions])).toEqual([
      ["db-1", ALERTS, 5],
      ["web-1", ALERTS, 5],
      ["web-2", ALERTS, 5],
    ]);
    // The newest heartbeat is the third: seq 48.
    expect(hosts[0]!.lastHeartbeat).toBeCloseTo((t0 + 48 * 100) / 1000, 3);
    const alerts = await (await get("/alerts?host=web-2")).text();
    expect([...alerts.matchAll(/<td><a href="\/alerts\?host=([^"]+)">/g)].map((m) => m[1])).toEqual(
      new Array<string>(ALERTS).fill("web-2"),
    );
    const api = await json<{ alerts: { host: string; msgId: string }[]; more: boolean; before: number }>(
      "/api/fleet/alerts?host=web-1&limit=10",
    );
    expect(api.alerts).toHaveLength(10);
    expect(api.more).toBe(true);
    expect(api.alerts[0]!.msgId).toMatch(/^web-1\.[0-9a-f]{16}\.40$/);
    expect((await get("/api/fleet/programs/b-00")).status).toBe(404);
    expect((await get("/no-such-page")).status).toBe(404);
  });

  it("pools two hosts' snapshots, and pools again when one changes", { timeout: 60_000 }, async () => {
    const kvm = new Kvm(nc);
    const profiles = await kvm.open("homeostat_profiles");
    const pooled = await kvm.open("homeostat_pooled");
    await putSnapshot(profiles, PROGRAM, "web-1", "/usr/sbin/app", trainedProfile([1, 2, 3, 4, 5], 50, true));
    await putSnapshot(profiles, PROGRAM, "web-2", "/usr/sbin/app", trainedProfile([1, 2, 6, 7, 5], 50, true));
    let value: Uint8Array | undefined;
    await until("a pooled snapshot", async () => {
      value = (await pooled.get(PROGRAM))?.value;
      return value !== undefined && value.length > 0;
    });
    const first = decodeSnapshot(value!);
    expect(first.header).toMatchObject({ host: "_pool", program: PROGRAM, state: "normal", version: 1 });
    const profile = PhProfile.deserialize(first.blob);
    expect(profile.syscallsSeen()).toEqual([1, 2, 3, 4, 5, 6, 7]);
    // A host starts over: the pool is no longer normal.
    await putSnapshot(profiles, PROGRAM, "web-2", "/usr/sbin/app", trainedProfile([1, 2], 1, false), 2);
    await until("the pool again", async () => decodeSnapshot((await pooled.get(PROGRAM))!.value).header.version === 2);
    const second = decodeSnapshot((await pooled.get(PROGRAM))!.value).header;
    expect(second.state).not.toBe("normal");
    const page = await (await get(`/program?id=${PROGRAM}`)).text();
    expect(page).toContain('<tr data-host="web-1">');
    expect(page).toContain('<tr data-host="web-2">');
    expect(page).toMatch(/<p id="pooled">\s*<b>(training|frozen)<\/b>/);
    const programs = await json<{ programs: { program: string; hosts: number }[] }>("/api/fleet/programs");
    expect(programs.programs).toContainEqual(expect.objectContaining({ program: PROGRAM, hosts: 2 }));
  });

  it("puts a confirmed operation for a program in the admin bucket", { timeout: 60_000 }, async () => {
    const confirm = await get(`/program/confirm?id=${PROGRAM}&op=tolerize`);
    const cookie = confirm.headers.get("set-cookie")!.split(";")[0]!;
    const csrf = /name="csrf"\s+value="([^"]+)"/.exec(await confirm.text())![1]!;
    const post = (fields: Record<string, string>, origin: string) =>
      fetch(new URL("/program/admin", fleet.url), {
        method: "POST",
        redirect: "manual",
        headers: { "Content-Type": "application/x-www-form-urlencoded", Cookie: cookie, Origin: origin },
        body: new URLSearchParams(fields).toString(),
      });
    const origin = new URL(fleet.url!).origin;
    expect((await post({ id: PROGRAM, op: "tolerize" }, origin)).status).toBe(403);
    expect((await post({ id: PROGRAM, op: "tolerize", csrf }, "http://evil.example")).status).toBe(403);
    expect((await post({ id: PROGRAM, op: "tolerize", csrf }, origin)).status).toBe(303);
    const admin = await new Kvm(nc).open("homeostat_admin");
    const op = decodeAdminOp((await admin.get(PROGRAM))!.value);
    expect(op.op).toBe("tolerize");
  });

  it("carries on after its NATS server is killed and started again", { timeout: 180_000 }, async () => {
    const before = fleet.status().ingest.stored!;
    await server.stop();
    await until("fleet serve to see the connection lost", () => !fleet.status().connected, 30_000);
    await server.restart();
    await until("fleet serve to reconnect", () => fleet.status().connected, 60_000);
    const t = Date.now();
    for (let seq = 100; seq < 150; seq++) await publishUntilAcked(js, "alerts", envelope("web-9", seq, t + seq));
    await until("the alerts after the restart stored", () => fleet.status().ingest.stored! >= before + 50, 120_000);
    expect(db<{ n: number }>(`SELECT count(*) AS n FROM alerts WHERE host = 'web-9'`).n).toBe(50);
  });
});
