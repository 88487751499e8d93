// The fleet database on its own: a batch stored twice is stored once (the second time every message is a
// duplicate, and the per-host counts the triggers keep do not move), heartbeats give a host its status and events
// per second and an older one changes nothing, snapshots keep the latest revision, and the file refuses to be
// opened as something else.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openSqlite } from "../store/sqliteDatabase.js";
import { decodeMessage, encodeHeartbeat, encodeMessage } from "./fleetMessages.js";
import { fleetAlertPage, programDetail } from "./fleetQueries.js";
import { subjectFor, type FleetKind } from "./fleetNames.js";
import { FleetStore } from "./fleetStore.js";
import { decodeSnapshot } from "./profileSnapshot.js";
import { counters, envelope, hostAlert, messageBytes, RUN, trainedProfile } from "./testing/fleetTraffic.js";
import { encodeSnapshot } from "./profileSnapshot.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(path.join(tmpdir(), "homeostat-fleetdb-"));
  dirs.push(d);
  return d;
}

function decoded(kind: FleetKind, host: string, seq: number, time: number) {
  return decodeMessage(subjectFor(kind, host), messageBytes(kind, envelope(host, seq, time)));
}

describe("the fleet database", () => {
  it("stores a batch once, however often it is delivered", () => {
    const store = FleetStore.open(tempDir());
    try {
      const t = 1_714_557_600_000;
      const batch = [
        decoded("alerts", "web-1", 1, t),
        decoded("alerts", "web-1", 2, t + 1000),
        decoded("actions", "web-1", 3, t + 2000),
        decoded("alerts", "db-1", 1, t + 3000),
      ];
      expect(store.storeMessages(batch)).toEqual({ stored: 4, duplicates: 0 });
      expect(store.storeMessages([...batch].reverse())).toEqual({ stored: 0, duplicates: 4 });
      expect(store.counts()).toMatchObject({ hosts: 2, alerts: 3, actions: 1 });
      const hosts = store.select(`SELECT id, alerts, actions, first_seen, last_seen FROM hosts ORDER BY id`).all();
      expect(hosts).toEqual([
        { id: "db-1", alerts: 1, actions: 0, first_seen: (t + 3000) / 1000, last_seen: (t + 3000) / 1000 },
        { id: "web-1", alerts: 2, actions: 1, first_seen: t / 1000, last_seen: (t + 2000) / 1000 },
      ]);
      const ids = store.select(`SELECT msg_id FROM alerts ORDER BY id`).all() as { msg_id: string }[];
      expect(ids.map((r) => r.msg_id)).toEqual([`web-1.${RUN}.1`, `web-1.${RUN}.2`, `db-1.${RUN}.1`]);
      const hours = store.select(`SELECT sum(n) AS n FROM alert_hours`).get() as { n: number };
      expect(hours.n).toBe(3);
    } finally {
      store.close();
    }
  });

  it("takes a host's status from its newest heartbeat, with events per second between two of one run", () => {
    const store = FleetStore.open(tempDir());
    try {
      const t = 1_714_557_600_000;
      // messageBytes's heartbeat counts seq * 100 events.
      store.storeMessages([decoded("heartbeats", "web-1", 1, t)]);
      store.storeMessages([decoded("heartbeats", "web-1", 3, t + 10_000)]);
      const row = () =>
        store.select(`SELECT last_heartbeat, events_rate, run, counters FROM hosts WHERE id = 'web-1'`).get() as {
          last_heartbeat: number;
          events_rate: number;
          run: string;
          counters: string;
        };
      expect(row().last_heartbeat).toBe((t + 10_000) / 1000);
      expect(row().events_rate).toBeCloseTo(20, 6); // 200 events in 10 s
      expect(JSON.parse(row().counters)).toMatchObject({ events: 300 });
      // An older heartbeat (delivered late) changes nothing.
      expect(store.storeMessages([decoded("heartbeats", "web-1", 2, t + 5000)]).duplicates).toBe(1);
      expect(row().last_heartbeat).toBe((t + 10_000) / 1000);
    } finally {
      store.close();
    }
  });

  it("orders two heartbeats of one run made in the same millisecond by their sequence numbers", () => {
    const store = FleetStore.open(tempDir());
    try {
      const t = 1_714_557_600_000;
      const events = () =>
        JSON.parse(
          (store.select(`SELECT counters FROM hosts WHERE id = 'web-1'`).get() as { counters: string }).counters,
        ).events as number;
      store.storeMessages([decoded("heartbeats", "web-1", 1, t)]);
      expect(store.storeMessages([decoded("heartbeats", "web-1", 2, t)]).stored).toBe(1);
      expect(events()).toBe(200);
      const rate = store.select(`SELECT events_rate FROM hosts WHERE id = 'web-1'`).get();
      expect(rate).toEqual({ events_rate: null }); // no time between the two: no rate
      // The earlier one delivered again, even stamped later, changes nothing.
      expect(store.storeMessages([decoded("heartbeats", "web-1", 1, t + 5)]).duplicates).toBe(1);
      expect(events()).toBe(200);
    } finally {
      store.close();
    }
  });

  it("times a heartbeat by when the engine took its counters, not when the worker published it", () => {
    const store = FleetStore.open(tempDir());
    try {
      const t = 1_714_557_600_000;
      // A worker that fell behind publishes two heartbeats 1 ms apart; their counters were taken 10 s apart.
      const beat = (seq: number, published: number, taken: number) => {
        const env = envelope("web-1", seq, published);
        const bytes = encodeHeartbeat(env, {
          started: t - 60_000,
          version: "0.1.0",
          counters: counters(seq * 100),
          taken,
        });
        return decodeMessage(subjectFor("heartbeats", "web-1"), bytes);
      };
      store.storeMessages([beat(1, t + 30_000, t)]);
      store.storeMessages([beat(2, t + 30_001, t + 10_000)]);
      const row = store.select(`SELECT last_heartbeat, events_rate FROM hosts WHERE id = 'web-1'`).get();
      expect(row).toEqual({ last_heartbeat: (t + 10_000) / 1000, events_rate: 10 }); // 100 events in 10 s
    } finally {
      store.close();
    }
  });

  it("keeps each host's latest snapshot of a program, by revision", () => {
    const store = FleetStore.open(tempDir());
    try {
      const program = `b-${"ab".repeat(20)}`;
      const snap = (trainCount: number, base?: { version: number; trainCount: number }) =>
        decodeSnapshot(
          encodeSnapshot(
            {
              v: 1,
              host: "web-1",
              program,
              path: "/usr/sbin/nginx",
              model: "ph:L=9",
              state: "training",
              trainCount,
              version: 1,
              time: 1000,
              ...(base === undefined ? {} : { base }),
            },
            trainedProfile([1, 2, 3], 2, false).serialize(),
          ),
        );
      expect(store.saveSnapshot(snap(10), 5)).toBe(true);
      expect(store.saveSnapshot(snap(5), 4)).toBe(false); // an older revision, replayed
      expect(store.saveSnapshot(snap(20), 7)).toBe(true);
      const [s] = store.snapshotsOf(program);
      expect(s).toMatchObject({ host: "web-1", trainCount: 20, revision: 7, path: "/usr/sbin/nginx", base: null });
      expect(store.saveSnapshot(snap(30, { version: 3, trainCount: 25 }), 8)).toBe(true);
      expect(store.snapshotsOf(program)[0]).toMatchObject({ trainCount: 30, base: 3 });
      expect(store.programsOnHosts(1)).toEqual([program]);
      expect(store.programsOnHosts(2)).toEqual([]);
      expect(store.deleteSnapshot(program, "web-1")).toBe(true);
      expect(store.snapshotsOf(program)).toEqual([]);
    } finally {
      store.close();
    }
  });

  it("finds a program's alerts by the identity its hosts sent, or else by its path on a host with its profile", () => {
    const store = FleetStore.open(tempDir());
    try {
      const t = 1_714_557_600_000;
      const program = `b-${"cd".repeat(20)}`;
      const other = `s-${"e".repeat(32)}`;
      const alert = (host: string, seq: number, exe: string, id?: string) =>
        decodeMessage(
          subjectFor("alerts", host),
          encodeMessage(
            "alerts",
            { ...envelope(host, seq, t + seq), ...(id !== undefined ? { program: id } : {}) },
            JSON.stringify(hostAlert(host, exe, t + seq)),
          ),
        );
      store.storeMessages([
        alert("web-1", 1, "/usr/bin/curl", program), // identified; no snapshot of it from web-1 yet
        alert("web-2", 2, "/usr/bin/curl"), // sent before web-2 had identified the file: its snapshot tells
        alert("web-3", 3, "/usr/bin/curl", other), // the same path, another binary
        alert("web-3", 4, "/usr/bin/true"),
      ]);
      const header = {
        v: 1 as const,
        host: "web-2",
        program,
        path: "/usr/bin/curl",
        model: "ph:L=9",
        state: "normal" as const,
        trainCount: 10,
        version: 1,
        time: t,
      };
      store.saveSnapshot(decodeSnapshot(encodeSnapshot(header, trainedProfile([1, 2, 3], 3, true).serialize())), 1);
      expect(store.select(`SELECT program FROM alerts ORDER BY id`).all()).toEqual([
        { program },
        { program: null },
        { program: other },
        { program: null },
      ]);
      expect(fleetAlertPage(store, { program }).rows.map((r) => r.host)).toEqual(["web-2", "web-1"]);
      expect(fleetAlertPage(store, { program: other }).rows.map((r) => r.host)).toEqual(["web-3"]);
      expect(programDetail(store, program)?.hosts.map((h) => [h.host, h.alerts])).toEqual([["web-2", 1]]);
    } finally {
      store.close();
    }
  });

  it.each([1, 2])("upgrades a version %i database: the columns later versions added are there", (from) => {
    const dir = tempDir();
    FleetStore.open(dir).close();
    const db = openSqlite(path.join(dir, "fleet.db"));
    // Version 1 had no profiles.base (its snapshots count as learnt on their hosts alone); 1 and 2 had no
    // hosts.heartbeat_seq and no alerts.program.
    if (from === 1) db.exec(`ALTER TABLE profiles DROP COLUMN base`);
    db.exec(`ALTER TABLE hosts DROP COLUMN heartbeat_seq`);
    db.exec(`DROP INDEX alerts_program`);
    db.exec(`ALTER TABLE alerts DROP COLUMN program`);
    db.prepare(`UPDATE meta SET value = ? WHERE key = 'fleet_schema_version'`).run(String(from));
    db.close();
    const store = FleetStore.open(dir);
    store.close();
    const after = openSqlite(path.join(dir, "fleet.db"));
    const columns = (table: string) =>
      (after.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((c) => c.name);
    const version = after.prepare(`SELECT value FROM meta WHERE key = 'fleet_schema_version'`).get();
    expect(columns("profiles")).toContain("base");
    expect(columns("hosts")).toContain("heartbeat_seq");
    expect(columns("alerts")).toContain("program");
    after.close();
    expect(version).toEqual({ value: "3" });
  });

  it("refuses a file that is not a fleet database", () => {
    const dir = tempDir();
    const db = openSqlite(path.join(dir, "fleet.db"));
    db.exec(`CREATE TABLE other (x INTEGER)`);
    db.close();
    expect(() => FleetStore.open(dir)).toThrow(/not a homeostat fleet database/);
  });
});
