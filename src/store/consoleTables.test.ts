// Schema version 3, what the web console reads: profile_history written by saveProfiles, alert_counts kept by a
// trigger (and backfilled when an older database is migrated), runs, read-only statements, and the writer lock's
// holder found without taking the lock.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openSqlite } from "./sqliteDatabase.js";
import { type ProfileRecord, StateStore } from "./stateStore.js";
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

describe("the state store's console tables (schema 3)", () => {
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
    expect(writer.schemaVersion).toBe(3);
    expect(writer.select(`SELECT rule, n FROM alert_counts ORDER BY rule`).all()).toEqual([
      { rule: "r", n: 2 },
      { rule: "s", n: 1 },
    ]);
    writer.addAlerts([alert(7500)]);
    expect(writer.select(`SELECT n FROM alert_counts WHERE rule = 'r'`).get()).toEqual({ n: 3 });
    writer.close();
  });

  it("records runs, and refuses a writing statement through select()", () => {
    const store = StateStore.open(join(dir, "runs"), { now: () => 50 });
    const id = store.beginRun({ pid: 7, backend: "strace", startedAt: 10 });
    store.updateRun(id, { events: 100, lost: 1, alerts: 2 });
    expect(store.recentRuns(1)[0]).toMatchObject({ id, pid: 7, updatedAt: 50, endedAt: null, events: 100 });
    store.updateRun(id, { events: 200, lost: 1, alerts: 2, endedAt: 60, summary: { ok: true } });
    expect(store.recentRuns(1)[0]).toMatchObject({ endedAt: 60, events: 200, summary: { ok: true } });
    expect(() => store.select(`DELETE FROM runs`)).toThrow(/not a read-only query/);
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
