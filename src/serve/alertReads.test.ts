// The alert pages read through the store's indexes (profile by epoch, rule) and its hourly counts give exactly what a
// plain scan of the table gives, for every kind of filter, page by page, across several epochs of the profile index
// and after the oldest alerts were pruned: the reference is the same filter written as one WHERE clause over the
// whole table (no index can make it wrong), newest first.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ALERT_EPOCH_BITS, type AlertRecord, StateStore } from "../store/stateStore.js";
import { type AlertFilter, alertPage, alertsAfter } from "./alertQueries.js";
import { idRanges } from "./alertReads.js";
import { anomaliesPerHour } from "./profileQueries.js";

const ALERTS = 3 * (1 << ALERT_EPOCH_BITS) + 1234; // more than three epochs
const T0 = 1_700_000_000;
const RULES = ["Anomalous system calls", "homeostat profile normal", "homeostat capture lost events"];
const PRIORITIES = ["Warning", "Error", "Critical", "Informational"];
const PROGRAMS = 7;

/** A deterministic mix: rules and priorities in uneven shares, programs in runs, times mostly rising (some late). */
function alertAt(i: number): AlertRecord {
  const prog = Math.floor(i / 97) % PROGRAMS;
  const rule = RULES[i % 11 === 0 ? 1 : i % 37 === 0 ? 2 : 0]!;
  const late = i % 53 === 0 ? -7200 : 0; // stored after later alerts: ids and times are not in the same order
  return {
    time: T0 + i * 2 + late,
    rule,
    priority: PRIORITIES[(i * 7) % 13 === 0 ? 3 : i % 3]!,
    pid: 100 + prog,
    exe: `/usr/bin/p${prog}`,
    key: i % 29 === 0 ? null : `/usr/bin/p${prog}@1:${prog}`,
    output: `alert ${i}`,
    json: { n: i },
  };
}

describe("alerts read through the profile index and the hourly counts", () => {
  const dir = mkdtempSync(join(tmpdir(), "homeostat-alert-reads-"));
  let store: StateStore;
  beforeAll(() => {
    const writer = StateStore.open(dir);
    writer.saveProfiles(
      Array.from({ length: PROGRAMS }, (_, p) => ({
        key: `/usr/bin/p${p}@1:${p}`,
        exe: `/usr/bin/p${p}`,
        dev: 1,
        ino: p,
        model: "ph",
        state: "training" as const,
        trainCount: 0,
        lastModCount: 0,
        anomalies: 0,
        normalTime: null,
        blob: new Uint8Array([1]),
      })),
    );
    for (let i = 0; i < ALERTS; i += 1000) {
      writer.addAlerts(Array.from({ length: Math.min(1000, ALERTS - i) }, (_, j) => alertAt(i + j)));
    }
    writer.prune(ALERTS - 1500); // the oldest 1,500 are gone: their counts stay, their ids must not be read
    writer.close();
    store = StateStore.open(dir, { readonly: true });
  }, 60_000);
  afterAll(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The filter as one WHERE clause over the whole table: ids newest first, below `before`. */
  function reference(f: AlertFilter, before?: number, limit = 1e9): number[] {
    const sql: string[] = [];
    const args: (string | number)[] = [];
    const add = (clause: string, value: string | number | undefined) => {
      if (value === undefined) return;
      sql.push(clause);
      args.push(value);
    };
    add("rule = ?", f.rule);
    add("priority = ?", f.priority);
    add("key = ?", f.key);
    // A program's alerts are those of its profiles (an alert without a profile key is not one of them).
    add("key IN (SELECT key FROM profiles WHERE name = ?)", f.program);
    add("time >= ?", f.from);
    add("time <= ?", f.to);
    add("id < ?", before);
    const where = sql.length > 0 ? `WHERE ${sql.join(" AND ")}` : "";
    return (
      store.select(`SELECT id FROM alerts NOT INDEXED ${where} ORDER BY id DESC LIMIT ?`).all(...args, limit) as {
        id: number;
      }[]
    ).map((r) => r.id);
  }

  /** Every page of the filter, following `before` as the Alerts page's "older" link does. */
  function paged(f: AlertFilter, size: number): number[] {
    const ids: number[] = [];
    let before: number | undefined;
    for (let pages = 0; pages < 10_000; pages++) {
      const { rows, more } = alertPage(store, f, before, size);
      ids.push(...rows.map((r) => r.id));
      if (!more) return ids;
      before = rows[rows.length - 1]!.id;
    }
    throw new Error("the pages do not end");
  }

  const key = (p: number) => `/usr/bin/p${p}@1:${p}`;
  const filters: AlertFilter[] = [
    {},
    { rule: RULES[2] },
    { priority: "Informational" },
    { priority: "Error", rule: RULES[1] },
    { key: key(3) },
    { key: key(3), rule: RULES[1] },
    { key: key(5), priority: "Critical", from: T0 + 40_000 },
    { program: "p6" },
    { program: "p2", to: T0 + 30_000 },
    { from: T0 + 50_000, to: T0 + 52_000 },
    { from: T0 + 50_000, to: T0 + 52_000, rule: RULES[0], priority: "Warning" },
    { to: T0 + 5_000 }, // mostly pruned
    { key: "no such key" },
    { priority: "Emergency" },
  ];

  it("gives, page after page, the alerts a plain scan gives, for every kind of filter", () => {
    for (const f of filters) {
      const want = reference(f);
      expect(paged(f, 500), JSON.stringify(f)).toEqual(want);
      expect(
        alertPage(store, f, undefined, 7).rows.map((r) => r.id),
        JSON.stringify(f),
      ).toEqual(want.slice(0, 7));
    }
  });

  it("continues from any cursor, and streams what comes after an id, oldest first", () => {
    const last = reference({})[0]!;
    for (const f of filters) {
      for (const before of [last - 5, last - 20_000, 1600]) {
        expect(
          alertPage(store, f, before, 25).rows.map((r) => r.id),
          JSON.stringify(f),
        ).toEqual(reference(f, before, 25));
      }
      const after = last - 3000;
      const want = reference(f)
        .filter((id) => id > after)
        .reverse()
        .slice(0, 100);
      expect(
        alertsAfter(store, f, after).map((a) => a.id),
        JSON.stringify(f),
      ).toEqual(want);
    }
  });

  it("reads only id ranges that hold the filter's alerts, and a profile's newest anomalies", () => {
    const ranges = idRanges(store, { priority: "Informational" });
    const ids = reference({ priority: "Informational" });
    for (const id of ids) expect(ranges.some(([lo, hi]) => lo <= id && id <= hi)).toBe(true);
    for (let i = 1; i < ranges.length; i++) expect(ranges[i]![1]).toBeLessThan(ranges[i - 1]![0]);
    const perHour = anomaliesPerHour(store, key(4));
    const times = store
      .select(`SELECT time FROM alerts NOT INDEXED WHERE key = ? AND rule = ?`)
      .all(key(4), RULES[0]) as { time: number }[];
    expect(perHour.reduce((n, h) => n + h.n, 0)).toBe(times.length);
  });
});
