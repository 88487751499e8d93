// Fleet mode end to end, for real (the built CLI: `npm run build` first): a nats-server, `homeostat fleet serve
// --pool` as its own process, and two `homeostat watch --fleet` hosts watching a shell under strace. Every alert
// each watch printed is in the fleet database exactly once under its host; the console's API lists both hosts with
// their heartbeats and counters, and the shell's program on both hosts, with a pooled profile of it; alerts carry
// their program's identity.

import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { HostAlert } from "../engine/hostAlerts.js";
import { straceUnavailableReason } from "../ingest/testing/straceCapture.js";
import { openSqlite } from "../store/sqliteDatabase.js";
import { BIN } from "../testing/paths.js";
import { type FleetChild, startFleetChild } from "./testing/fleetChild.js";
import { until } from "./testing/fleetTraffic.js";
import { type NatsServer, natsServerUnavailableReason, startNatsServer } from "./testing/natsServer.js";

const unavailable = natsServerUnavailableReason() ?? straceUnavailableReason();
/** Small pH settings: a profile freezes soon and is normal at once, so that a short run raises alerts. */
const SMALL = ["--normal-factor", "4", "--normal-factor-den", "3", "--normal-wait", "0", "--save-interval", "0.5"];
const LOOP = "i=0; while [ $i -lt 40 ]; do i=$((i+1)); /bin/true; done";

interface WatchedHost {
  alerts: HostAlert[];
  /** The summary's fleet figures (what was made, published and spooled), to show when a wait fails. */
  fleet: unknown;
}

/** One `watch --fleet` run to its end; the alerts it printed (its JSON lines) and its summary's fleet figures. */
async function watchHost(url: string, host: string, state: string): Promise<WatchedHost> {
  const args = ["watch", "--state", state, "--static", "off", "--json", ...SMALL, "--fleet", url, "--host-id", host];
  const child = spawn(process.execPath, [BIN, ...args, "--", "/bin/sh", "-c", LOOP], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, NO_COLOR: "1" },
  });
  let out = "";
  let err = "";
  child.stdout.on("data", (b: Buffer) => (out += b.toString()));
  child.stderr.on("data", (b: Buffer) => (err += b.toString()));
  const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
  expect([0, 1], err).toContain(code);
  const lines = out
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as HostAlert);
  const summary = lines.find((a) => a.rule === "homeostat watch summary");
  return {
    alerts: lines.filter((a) => a !== summary),
    fleet: (summary?.output_fields as { fleet?: unknown } | undefined)?.fleet,
  };
}

describe.skipIf(unavailable !== undefined)("watch --fleet hosts into fleet serve", () => {
  let server: NatsServer | undefined;
  let fleet: FleetChild | undefined;
  const dir = mkdtempSync(path.join(tmpdir(), "homeostat-fleet-e2e-"));
  afterAll(async () => {
    await fleet?.kill();
    await server?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it("stores every host's alerts once, and shows the hosts and their program", { timeout: 300_000 }, async () => {
    server = await startNatsServer();
    const state = path.join(dir, "fleet");
    fleet = await startFleetChild(["--nats", server.url, "--state", state, "--listen", "127.0.0.1:0", "--pool"]);
    const url = fleet.events.find((e) => e.event === "started")!.console as string;
    const watched = new Map<string, WatchedHost>();
    for (const host of ["e2e-a", "e2e-b"]) watched.set(host, await watchHost(server.url, host, path.join(dir, host)));
    const printed = new Map([...watched].map(([host, w]) => [host, w.alerts]));
    const figures = JSON.stringify(Object.fromEntries([...watched].map(([host, w]) => [host, w.fleet])));
    const total = [...printed.values()].reduce((n, a) => n + a.length, 0);
    expect(total).toBeGreaterThan(0);
    const rows = () => {
      const db = openSqlite(path.join(state, "fleet.db"), { readonly: true });
      try {
        return db.prepare(`SELECT host, json FROM alerts ORDER BY id`).all() as { host: string; json: string }[];
      } finally {
        db.close();
      }
    };
    await until("every alert stored", () => rows().length >= total, 120_000);
    for (const [host, alerts] of printed) {
      const stored = rows()
        .filter((r) => r.host === host)
        .map((r) => JSON.parse(r.json) as HostAlert);
      expect(stored).toEqual(alerts);
    }
    type Hosts = {
      hosts: { id: string; alerts: number; lastHeartbeat: number | null; counters: { events: number } | null }[];
    };
    // Each watch's last heartbeat (its final counters) follows its last alert in the stream: it may be stored a
    // batch later than the alerts.
    let hosts: Hosts = { hosts: [] };
    await until("each host's final heartbeat", async () => {
      hosts = (await (await fetch(`${url}api/fleet/hosts`)).json()) as Hosts;
      return hosts.hosts.length === 2 && hosts.hosts.every((h) => (h.counters?.events ?? 0) > 0);
    }).catch((err: Error) => {
      throw new Error(`${err.message}; the watches' fleet figures: ${figures}`);
    });
    expect(hosts.hosts.map((h) => [h.id, h.alerts])).toEqual([
      ["e2e-a", printed.get("e2e-a")!.length],
      ["e2e-b", printed.get("e2e-b")!.length],
    ]);
    // The shell's profile, on both hosts, pooled.
    type Programs = { programs: { program: string; names: string[]; hosts: number; pooled: unknown }[] };
    let sh: Programs["programs"][number] | undefined;
    await until("the shell's program on both hosts, pooled", async () => {
      const p = (await (await fetch(`${url}api/fleet/programs`)).json()) as Programs;
      sh = p.programs.find((x) => x.names.some((n) => /^(sh|dash|bash)$/.test(n)));
      return sh !== undefined && sh.hosts === 2 && sh.pooled !== null;
    });
    expect(sh!.program).toMatch(/^(b|s)-[0-9a-f]+$/);
    // Alerts carry their program's identity once the host has worked it out, the one its snapshots carry.
    const db = openSqlite(path.join(state, "fleet.db"), { readonly: true });
    try {
      const identified = db.prepare(`SELECT host, exe, program FROM alerts WHERE program IS NOT NULL`).all() as {
        host: string;
        exe: string;
        program: string;
      }[];
      expect(identified.length).toBeGreaterThan(0);
      const snapshot = db.prepare(`SELECT program FROM profiles WHERE host = ? AND path = ?`);
      for (const a of identified) expect(snapshot.all(a.host, a.exe)).toContainEqual({ program: a.program });
    } finally {
      db.close();
    }
  });
});
