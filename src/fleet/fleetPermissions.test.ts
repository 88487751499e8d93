// The minimum NATS permissions of a host, as docs/fleet.md documents them (hostPermissions below), checked against a
// real server: with them a host publishes its alerts, puts its own profile snapshots, reads the pooled profiles and
// watches the administrator's operations, once the central side (an all-permissions user here) has made the stream
// and buckets; and it can neither publish as another host nor overwrite another host's profile.

import { afterEach, describe, expect, it } from "vitest";
import { encodeAdminOp, newAdminOp } from "./adminOp.js";
import { FleetLink, type FleetSession } from "./fleetLink.js";
import { POOL_HOST } from "./fleetNames.js";
import { planFleetConnection } from "./natsOptions.js";
import { encodeSnapshot } from "./profileSnapshot.js";
import { readStream, testPublisher, waitFor } from "./testing/fleetTesting.js";
import { natsServerUnavailableReason, startNatsServer } from "./testing/natsServer.js";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

/** A host's permissions (nats-server configuration syntax), for host id `host`. */
function hostPermissions(host: string): string {
  const publish = [
    `homeostat.*.${host}`,
    `$KV.homeostat_profiles.*.${host}`,
    "$JS.API.INFO",
    "$JS.API.STREAM.INFO.HOMEOSTAT",
    "$JS.API.STREAM.INFO.KV_homeostat_profiles",
    "$JS.API.STREAM.INFO.KV_homeostat_pooled",
    "$JS.API.STREAM.INFO.KV_homeostat_admin",
    "$JS.API.DIRECT.GET.KV_homeostat_pooled.>",
    "$JS.API.CONSUMER.CREATE.KV_homeostat_admin",
    "$JS.API.CONSUMER.CREATE.KV_homeostat_admin.>",
    "$JS.API.CONSUMER.DELETE.KV_homeostat_admin.>",
    "$JS.FC.KV_homeostat_admin.>",
  ];
  return `{ publish: { allow: ${JSON.stringify(publish)} }, subscribe: { allow: ["_INBOX.>"] } }`;
}

const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function session(url: string): Promise<FleetSession> {
  let up: FleetSession | undefined;
  const link = new FleetLink({ plan: planFleetConnection({ url }), onUp: (s) => (up = s), onDown: () => {} });
  link.start();
  cleanups.push(() => link.close());
  await waitFor(() => up !== undefined, `a session as ${url.replace(/:[^:@]*@/, ":***@")}`);
  return up!;
}

const PROGRAM = `b-${"ab".repeat(20)}`;

describe.skipIf(natsServerUnavailableReason() !== undefined)("a host's minimum NATS permissions", () => {
  it("are enough for everything a host does, and no more", { timeout: 180_000 }, async () => {
    const server = await startNatsServer({
      extraConfig: `authorization { users: [
        { user: central, password: c },
        { user: web-1, password: h, permissions: ${hostPermissions("web-1")} }
      ] }`,
    });
    cleanups.push(() => server.cleanup());
    const at = `127.0.0.1:${server.port}`;
    // The central side makes the stream and buckets, pools a profile and asks for an operation.
    const central = await session(`nats://central:c@${at}`);
    const header = {
      v: 1 as const,
      host: POOL_HOST,
      program: PROGRAM,
      path: "/usr/bin/x",
      model: "ph:L=9",
      state: "normal" as const,
      trainCount: 10,
      version: 1,
      time: 1,
    };
    await central.pooled!.put(PROGRAM, encodeSnapshot(header, Uint8Array.from([1, 2, 3])));
    const op = newAdminOp("normalize", 1);
    await central.admin!.put(PROGRAM, encodeAdminOp(op));

    const host = await session(`nats://web-1:h@${at}`);
    expect([host.profiles, host.pooled, host.admin].every((b) => b !== undefined)).toBe(true);
    // Its profile snapshots, and not another host's.
    await host.profiles!.put(`${PROGRAM}.web-1`, encodeSnapshot({ ...header, host: "web-1" }, Uint8Array.from([4])));
    await expect(host.profiles!.put(`${PROGRAM}.web-2`, Uint8Array.from([5]))).rejects.toThrow();
    // The pooled profiles, and the operations (watched as a watch does).
    expect((await host.pooled!.get(PROGRAM))?.value).toEqual(encodeSnapshot(header, Uint8Array.from([1, 2, 3])));
    const watch = await host.admin!.watch({ include: "history" });
    for await (const e of watch) {
      expect(e.key).toBe(PROGRAM);
      break;
    }
    watch.stop();

    // Its alerts go to the stream; as another host, they are refused and counted (not retried forever).
    const dir = mkdtempSync(path.join(tmpdir(), "homeostat-fleet-perm-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const mine = testPublisher(`nats://web-1:h@${at}`, {
      host: "web-1",
      run: "0123456789abcdef",
      spoolDir: path.join(dir, "a"),
      spoolMaxBytes: 1 << 20,
    });
    cleanups.push(() => mine.close());
    const other = testPublisher(`nats://web-1:h@${at}`, {
      host: "web-2",
      run: "0123456789abcdef",
      spoolDir: path.join(dir, "b"),
      spoolMaxBytes: 1 << 20,
      timeoutMs: 2000,
    });
    cleanups.push(() => other.close());
    const alert = JSON.stringify({
      time: "t",
      rule: "r",
      priority: "Warning",
      source: "syscall",
      hostname: "h",
      tags: [],
      output: "o",
      output_fields: {},
    });
    for (let i = 0; i < 5; i++) {
      mine.publisher.publish("alerts", alert);
      other.publisher.publish("alerts", alert);
    }
    await waitFor(() => mine.publisher.stats.published === 5, "web-1's alerts");
    await waitFor(() => other.publisher.stats.rejected === 5, "web-2's refused");
    expect(other.publisher.stats).toMatchObject({ published: 0, spooled: 0 });
    const stored = await readStream(`nats://central:c@${at}`);
    expect(stored.map((m) => m.body.host)).toEqual(["web-1", "web-1", "web-1", "web-1", "web-1"]);
  });
});
