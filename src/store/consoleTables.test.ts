// Schema versions 3 and 4, what the web console reads: profile_history written by saveProfiles, alert_counts kept
// with each batch of alerts (and backfilled when an older database is migrated, with the ids each count covers),
// alerts' profile numbers (kid), runs, read-only statements, and the writer lock's holder found without taking it.
// A version 3 database (its trigger and four alert indexes) is migrated to version 4 keeping every count.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { HomeostatError } from "../errors.js";
import { openSqlite } from "./sqliteDatabase.js";
import { type ProfileRecord, STATE_SCHEMA_VERSION, StateStore } from "./stateStore.js";
import { WriterLock } from "./writerLock.js";

const record = (key: string, state: ProfileRecord["state"], trainCount = 10): ProfileRecord => ({
  key,
  exe: "/usr/bin/x",
  dev: 1,
  ino: 2,
  model: "ph:L=9",
  state,
  trainCount,
  lastModCount: 0,
  anomalies: 0,
  normalTime: null,
  blob: new Uint8Array([1, 2, 3]),
});

const alert = (time: number, rule = "r", priority = "Warning") => ({
  time,
  rule,
  priority,
  pid: 1,
  exe: "/usr/bin/x",
  key: "k",
  output: "o",
  json: {},
});

/** Undoes version 4 in a new database: what a version 3 build left (its columns, indexes and trigger). */
const VERSION_3 = `
DROP INDEX alerts_kid;
ALTER TABLE alerts DROP COLUMN kid;
DROP TABLE alert_keys;
ALTER TABLE alert_counts DROP COLUMN first_id;
ALTER TABLE alert_counts DROP COLUMN last_id;
CREATE INDEX alerts_key ON alerts (key, id);
CREATE INDEX alerts_priority ON alerts (priority, id);
CREATE INDEX alerts_time ON alerts (time);
CREATE TRIGGER alerts_counted AFTER INSERT ON alerts BEGIN
  INSERT INTO alert_counts (hour, rule, priority, n) VALUES (CAST(NEW.time / 3600 AS INTEGER), NEW.rule, NEW.priority, 1)
    ON CONFLICT (hour, rule, priority) DO UPDATE SET n = n + 1;
END;
UPDATE meta SET value = '3' WHERE key = 'schema_version';
`;

describe("the state store's console tables (schema 3 and 4)", () => {
  const dir = mkdtempSync(join(tmpdir(), "homeostat-store3-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("records a profile's creation, each change of state, and each administrator's operation", () => {
    let t = 100;
    const store = StateStore.open(join(dir, "history"), { now: () => t });
    store.saveProfiles([record("k", "training")]);
    t = 200;
    store.saveProfiles([record("k", "training", 20)]); // no change of state: no row
    t = 300;
    store.saveProfiles([record("k", "frozen", 30)]);
    t = 400;
    store.saveProfiles([{ ...record("k", "frozen", 0), cause: "reset" }]);
    const rows = store.select(`SELECT time, before, after, cause, train_count FROM profile_history ORDER BY id`).all();
    expect(rows).toEqual([
      { time: 100, before: null, after: "training", cause: "created", train_count: 10 },
      { time: 300, before: "training", after: "frozen", cause: "lifecycle", train_count: 30 },
      { time: 400, before: "frozen", after: "frozen", cause: "reset", train_count: 0 },
    ]);
    store.deleteProfile("k");
    expect(store.select(`SELECT count(*) AS n FROM profile_history`).get()).toEqual({ n: 0 });
    store.close();
  });

  it("counts alerts per hour, rule and priority as they are stored, and keeps the counts when alerts are pruned", () => {
    const store = StateStore.open(join(dir, "counts"));
    store.addAlerts([
      alert(3600 * 10 + 1),
      alert(3600 * 10 + 2),
      alert(3600 * 11, "r", "Critical"),
      alert(3600 * 11, "s"),
    ]);
    store.prune(1);
    const counts = store.select(`SELECT hour, rule, priority, n FROM alert_counts ORDER BY hour, rule, priority`).all();
    expect(counts).toEqual([
      { hour: 10, rule: "r", priority: "Warning", n: 2 },
      { hour: 11, rule: "r", priority: "Critical", n: 1 },
      { hour: 11, rule: "s", priority: "Warning", n: 1 },
    ]);
    store.close();
  });

  it("migrates a version 2 database: its alerts counted once, history and runs tables added", () => {
    const state = join(dir, "v2");
    const store = StateStore.open(state);
    store.addAlerts([alert(7200), alert(7300), alert(7400, "s")]);
    store.close();
    const raw = openSqlite(join(state, "homeostat.db"));
    raw.exec(`DROP TABLE alert_counts; DROP TABLE profile_history; DROP TABLE runs; DROP TRIGGER IF EXISTS alerts_counted;
      UPDATE meta SET value = '2' WHERE key = 'schema_version'`);
    raw.close();
    const reader = StateStore.open(state, { readonly: true });
    expect(reader.schemaVersion).toBe(2);
    expect(reader.recentRuns(5)).toEqual([]);
    reader.close();
    const writer = StateStore.open(state);
    expect(writer.schemaVersion).toBe(STATE_SCHEMA_VERSION);
    expect(writer.select(`SELECT rule, n FROM alert_counts ORDER BY rule`).all()).toEqual([
      { rule: "r", n: 2 },
      { rule: "s", n: 1 },
    ]);
    writer.addAlerts([alert(7500)]);
    expect(writer.select(`SELECT n FROM alert_counts WHERE rule = 'r'`).get()).toEqual({ n: 3 });
    writer.close();
  });

  it("counts each batch's alerts per hour, rule and priority with the first and last id counted", () => {
    const store = StateStore.open(join(dir, "cells"));
    store.addAlerts([alert(3600 * 5), alert(3600 * 5 + 1, "s"), alert(3600 * 5 + 2)]);
    store.addAlerts([alert(3600 * 5 + 3), alert(3600 * 6)]);
    const cells = store.select(`SELECT hour, rule, n, first_id, last_id FROM alert_counts ORDER BY hour, rule`).all();
    expect(cells).toEqual([
      { hour: 5, rule: "r", n: 3, first_id: 1, last_id: 4 },
      { hour: 5, rule: "s", n: 1, first_id: 2, last_id: 2 },
      { hour: 6, rule: "r", n: 1, first_id: 5, last_id: 5 },
    ]);
    store.close();
  });

  it("numbers each profile key once (kid), and forgets a number whose batch was rolled back", () => {
    const store = StateStore.open(join(dir, "kids"));
    store.addAlerts([
      { ...alert(10), key: "a" },
      { ...alert(11), key: "b" },
      { ...alert(12), key: null },
    ]);
    // A batch that fails after numbering a new key: rolled back whole, the number with it.
    const bad = { ...alert(13), rule: null as unknown as string };
    expect(() => store.addAlerts([{ ...alert(13), key: "c" }, bad])).toThrow(HomeostatError);
    store.addAlerts([
      { ...alert(14), key: "d" },
      { ...alert(15), key: "c" },
      { ...alert(16), key: "a" },
    ]);
    const rows = store
      .select(`SELECT a.key, a.kid, k.key AS numbered FROM alerts a LEFT JOIN alert_keys k USING (kid) ORDER BY a.id`)
      .all() as { key: string | null; kid: number | null; numbered: string | null }[];
    expect(rows.map((r) => r.key)).toEqual(["a", "b", null, "d", "c", "a"]);
    for (const r of rows) expect(r.numbered).toBe(r.key);
    expect(new Set(rows.filter((r) => r.key === "a").map((r) => r.kid)).size).toBe(1);
    expect(store.select(`SELECT count(*) AS n FROM alert_counts WHERE rule = 'r'`).get()).toEqual({ n: 1 });
    expect(store.select(`SELECT sum(n) AS n FROM alert_counts`).get()).toEqual({ n: 6 });
    store.close();
  });

  it("migrates a version 3 database: trigger and three indexes gone, every alert numbered, counts kept", () => {
    const state = join(dir, "v3");
    StateStore.open(state).close();
    const raw = openSqlite(join(state, "homeostat.db"));
    raw.exec(VERSION_3);
    const insert = raw.prepare(
      `INSERT INTO alerts (time, rule, priority, pid, exe, key, output, json) VALUES (?, ?, ?, 1, 'x', ?, 'o', '{}')`,
    );
    for (let i = 0; i < 40; i++) insert.run(3600 * (100 + (i % 3)), i % 4 === 0 ? "s" : "r", "Warning", `k${i % 5}`);
    insert.run(3600 * 100, "r", "Error", null);
    raw.exec(`DELETE FROM alerts WHERE id <= 4`); // pruned before the migration: still counted
    const before = raw.prepare(`SELECT hour, rule, priority, n FROM alert_counts ORDER BY 1, 2, 3`).all();
    raw.close();
    expect(before.length).toBeGreaterThan(0);

    const store = StateStore.open(state);
    expect(store.schemaVersion).toBe(4);
    expect(store.select(`SELECT hour, rule, priority, n FROM alert_counts ORDER BY 1, 2, 3`).all()).toEqual(before);
    const schema = (
      store.select(`SELECT type, name FROM sqlite_master WHERE tbl_name = 'alerts'`).all() as {
        name: string;
      }[]
    ).map((r) => r.name);
    expect(schema.sort()).toEqual(["alerts", "alerts_kid", "alerts_rule"]);
    expect(store.select(`SELECT count(*) AS n FROM alerts WHERE (key IS NULL) != (kid IS NULL)`).get()).toEqual({
      n: 0,
    });
    expect(
      store.select(`SELECT count(*) AS n FROM alerts a JOIN alert_keys k USING (kid) WHERE k.key != a.key`).get(),
    ).toEqual({ n: 0 });
    // Each count's id range covers exactly its stored alerts.
    const cells = store
      .select(
        `SELECT c.first_id AS lo, c.last_id AS hi, (SELECT min(id) FROM alerts a WHERE CAST(a.time / 3600 AS INTEGER) =
           c.hour AND a.rule = c.rule AND a.priority = c.priority) AS min_id FROM alert_counts c`,
      )
      .all() as { lo: number; hi: number; min_id: number }[];
    for (const c of cells) expect(c.lo).toBe(c.min_id);
    // New alerts are counted once (no trigger left to count them again).
    const n = (
      store.select(`SELECT n FROM alert_counts WHERE hour = 100 AND rule = 'r' AND priority = 'Warning'`).get() as {
        n: number;
      }
    ).n;
    store.addAlerts([{ ...alert(3600 * 100), key: "k1" }]);
    expect(
      store.select(`SELECT n FROM alert_counts WHERE hour = 100 AND rule = 'r' AND priority = 'Warning'`).get(),
    ).toEqual({
      n: n + 1,
    });
    const kids = store.select(`SELECT DISTINCT kid FROM alerts WHERE key = 'k1'`).all();
    expect(kids).toHaveLength(1);
    expect(store.integrityCheck()).toEqual(["ok"]);
    store.close();
  });

  it("records runs, and refuses a writing statement through select()", () => {
    const store = StateStore.open(join(dir, "runs"), { now: () => 50 });
    const id = store.beginRun({ pid: 7, backend: "strace", startedAt: 10 });
    store.updateRun(id, { events: 100, lost: 1, alerts: 2 });
    expect(store.recentRuns(1)[0]).toMatchObject({ id, pid: 7, updatedAt: 50, endedAt: null, events: 100 });
    store.updateRun(id, { events: 200, lost: 1, alerts: 2, endedAt: 60, summary: { ok: true } });
    expect(store.recentRuns(1)[0]).toMatchObject({ endedAt: 60, events: 200, summary: { ok: true } });
    expect(() => store.select(`DELETE FROM runs`)).toThrow(/not a read-only query/);
    // Only the newest runs are kept.
    const ids = [1, 2, 3, 4].map((pid) => store.beginRun({ pid, backend: "bpftrace", startedAt: 70 }, 2));
    expect(store.recentRuns(10).map((r) => r.id)).toEqual([ids[3], ids[2]]);
    store.close();
  });

  it("names the watch holding the writer lock without taking it, and no one once it is released", () => {
    const state = join(dir, "lock");
    StateStore.open(state).close();
    expect(WriterLock.holder(state)).toBeUndefined();
    const lock = WriterLock.acquire(state);
    try {
      const holder = WriterLock.holder(state);
      expect(holder?.pid).toBe(process.pid);
      expect(Math.abs(holder!.since - Date.now() / 1000)).toBeLessThan(60);
      // Asking did not take it: the lock is still ours, and a second writer is still refused.
      expect(() => WriterLock.acquire(state)).toThrow(/in use/);
    } finally {
      lock.release();
    }
    expect(WriterLock.holder(state)).toBeUndefined();
  });
});
