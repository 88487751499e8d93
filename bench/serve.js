// The web console's overview with a large state store: 10,000 profiles (through the store, one transaction) and
// 1,000,000 alerts (spread over 30 days, five rules, several priorities, keys among the profiles), bulk-loaded in one
// transaction with a prepared statement before the alert indexes and the hourly-count trigger exist, which the
// store's migration to schema 3 then builds (and counts the alerts): that is timed too. Then `homeostat serve`'s
// server on a port the system picks, and the response time of the overview (/), median of 21 requests after one
// warm-up, with the profiles, alerts and profile pages beside it. Target: overview <= 100 ms. Also the rate at
// which the store takes alerts in watch's way (addAlerts, batches of 1,000) with the console's indexes and trigger.

/* global fetch */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { HOST_SYMBOLS } from "../dist/engine/staticCheck.js";
import { PhProfile } from "../dist/lifecycle/phProfile.js";
import { startConsole } from "../dist/serve/index.js";
import { openSqlite } from "../dist/store/sqliteDatabase.js";
import { StateStore } from "../dist/store/stateStore.js";
import { profileRecord } from "../dist/watch/storedProfiles.js";
import { check, save } from "./lib.js";

const PROFILES = 10_000;
const ALERTS = 1_000_000;
const RUNS = 21;
const RULES = [
  ["Anomalous system calls", ["Warning", "Error", "Critical"], 0.9],
  ["Impossible system call for this binary", ["Critical", "Warning"], 0.04],
  ["homeostat profile frozen", ["Informational"], 0.03],
  ["homeostat profile normal", ["Notice"], 0.02],
  ["homeostat capture lost events", ["Error"], 0.01],
];

function alertAt(i, now) {
  const u = (i * 0.618033988749895) % 1;
  let acc = 0;
  let [rule, priorities] = RULES[0];
  for (const [r, ps, share] of RULES) {
    acc += share;
    if (u < acc) {
      [rule, priorities] = [r, ps];
      break;
    }
  }
  const prog = i % PROFILES;
  const exe = `/usr/bin/prog${prog}`;
  const pid = 1000 + (i % 5000);
  return {
    time: now - 30 * 86400 + (i / ALERTS) * 30 * 86400,
    rule,
    priority: priorities[i % priorities.length],
    pid,
    exe,
    key: `${exe}@1:${prog}`,
    output: `Anomalous read in pid ${pid} (${exe}): 3 unseen lookahead pairs, LFC 2/128`,
    json: JSON.stringify({ rule, output_fields: { "homeostat.window": ["openat", "read", "mmap", "close"] } }),
  };
}

function fill(dir) {
  const now = Date.now() / 1000;
  const store = StateStore.open(dir);
  const p = new PhProfile(HOST_SYMBOLS);
  const s = p.newStream();
  for (let i = 0; i < 200; i++) p.step(s, [0, 1, 3, 9, 257][i % 5], i);
  const t0 = performance.now();
  const states = ["training", "frozen", "normal"];
  store.saveProfiles(
    Array.from({ length: PROFILES }, (_, i) => ({
      ...profileRecord(`/usr/bin/prog${i}@1:${i}`, { path: `/usr/bin/prog${i}`, dev: 1, ino: i }, p),
      state: states[i % 3],
    })),
  );
  const run = store.beginRun({ pid: 1, backend: "bpftrace", startedAt: now - 3600 });
  store.updateRun(run, { events: 1e9, lost: 1000, alerts: ALERTS, endedAt: now });
  store.close();
  const profileSeconds = (performance.now() - t0) / 1000;
  // Bulk load as schema 2 had it (no alert indexes, no trigger), then let the migration build them.
  const t1 = performance.now();
  const db = openSqlite(path.join(dir, "homeostat.db"));
  db.exec(`DROP TRIGGER alerts_counted; DROP INDEX alerts_key; DROP INDEX alerts_rule; DROP INDEX alerts_priority;
    DROP INDEX alerts_time; DELETE FROM alert_counts; UPDATE meta SET value = '2' WHERE key = 'schema_version'`);
  const insert = db.prepare(
    `INSERT INTO alerts (time, rule, priority, pid, exe, key, output, json)
     VALUES (@time, @rule, @priority, @pid, @exe, @key, @output, @json)`,
  );
  db.transaction(() => {
    for (let i = 0; i < ALERTS; i++) insert.run(alertAt(i, now));
  })();
  db.close();
  const alertSeconds = (performance.now() - t1) / 1000;
  const t2 = performance.now();
  StateStore.open(dir).close();
  const migrationSeconds = (performance.now() - t2) / 1000;
  return { profileSeconds, alertSeconds, migrationSeconds };
}

/** Alerts per second through addAlerts in batches of 1,000 (watch's way), on a fresh schema-3 store. */
function insertRate() {
  const dir = mkdtempSync(path.join(os.tmpdir(), "homeostat-bench-serve-insert-"));
  try {
    const store = StateStore.open(dir);
    const now = Date.now() / 1000;
    const batch = [];
    const t0 = performance.now();
    for (let i = 0; i < 100_000; i++) {
      const a = alertAt(i * 7, now);
      batch.push({ ...a, json: JSON.parse(a.json) });
      if (batch.length === 1000) {
        store.addAlerts(batch);
        batch.length = 0;
      }
    }
    const rate = 100_000 / ((performance.now() - t0) / 1000);
    store.close();
    return rate;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function timed(url, runs = RUNS) {
  await (await fetch(url)).text(); // warm-up: statements prepared, assets of the page not counted
  const ms = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const res = await fetch(url);
    await res.text();
    ms.push(performance.now() - t0);
    if (res.status !== 200) throw new Error(`${url}: HTTP ${res.status}`);
  }
  ms.sort((a, b) => a - b);
  return { median: ms[Math.floor(ms.length / 2)], min: ms[0], max: ms[ms.length - 1], runs };
}

export async function run() {
  const dir = mkdtempSync(path.join(os.tmpdir(), "homeostat-bench-serve-"));
  try {
    const filled = fill(dir);
    const running = await startConsole({ host: "127.0.0.1", port: 0, stateDir: dir });
    try {
      const u = running.url;
      const figures = {
        profiles: PROFILES,
        alerts: ALERTS,
        fill: filled,
        addAlertsPerSecond: insertRate(),
        overviewMs: await timed(u),
        profilesPageMs: await timed(`${u}profiles?sort=anomalies&dir=desc&page=100`),
        profilesByLastAlertMs: await timed(`${u}profiles?sort=lastAlert&dir=desc`),
        profileSearchMs: await timed(`${u}profiles?q=prog999`),
        alertsPageMs: await timed(`${u}alerts`),
        alertsByRuleMs: await timed(`${u}alerts?rule=${encodeURIComponent("homeostat capture lost events")}`),
        alertsByProgramMs: await timed(`${u}alerts?program=prog4242`),
        profilePageMs: await timed(`${u}profile?key=${encodeURIComponent("/usr/bin/prog4242@1:4242")}`),
      };
      const checks = [
        check("overview median with 10,000 profiles and 1,000,000 alerts", figures.overviewMs.median, "<=", 100, "ms"),
      ];
      save("serve", { figures, checks });
      return { checks };
    } finally {
      await running.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { checks } = await run();
  for (const c of checks)
    console.log(`${c.pass ? "ok  " : "MISS"} serve: ${c.name}: ${c.value} ${c.unit} (target ${c.target})`);
}
