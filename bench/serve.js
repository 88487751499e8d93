// The web console's overview with a large state store: 10,000 profiles (through the store, one transaction) and
// 1,000,000 alerts (spread over 30 days, five rules, several priorities, keys among the profiles), bulk-loaded in one
// transaction with a prepared statement before the alert indexes and the hourly counts exist, which the store's
// migration (from schema 2) then builds: that is timed too. Then `homeostat serve`'s server on a port the system
// picks, and the response time of the overview (/), median of 21 requests after one warm-up, with the profiles,
// alerts (by rule, priority, program and time) and profile pages beside it. Target: overview <= 100 ms.
//
// Also the rate at which the store takes alerts in watch's way (addAlerts, batches of 1,000): into a fresh store,
// with keys among 10,000 profiles (each batch touches a thousand places of the profile index: the worst case) and
// among 20 (a storm from a few programs); and into the million-alert store. Each is also given per CPU second of
// this process, which another job on the machine disturbs less than wall time. The schema-2 figure (no console
// indexes or counts at all) is measured beside them as the reference.

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
  db.exec(`DROP INDEX alerts_kid; DROP INDEX alerts_rule; DELETE FROM alert_counts; DELETE FROM alert_keys;
    UPDATE meta SET value = '2' WHERE key = 'schema_version'`);
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
  return { profileSeconds, alertSeconds, migrationSeconds, now };
}

/**
 * Alerts per second (wall and CPU) through addAlerts in batches of 1,000 (watch's way): 100,000 alerts whose keys
 * cycle through `keys` profiles, into `dir`'s store (a fresh one when not given). `schema2` first takes away what the
 * console's schema adds (the alert indexes, the counts, the profile numbers): the rate before the console.
 */
function insertRate({ keys = PROFILES, dir, schema2 = false, n = 100_000 } = {}) {
  const own = dir === undefined ? mkdtempSync(path.join(os.tmpdir(), "homeostat-bench-serve-insert-")) : undefined;
  const at = dir ?? own;
  try {
    if (schema2) {
      StateStore.open(at).close();
      const db = openSqlite(path.join(at, "homeostat.db"));
      db.exec(`DROP INDEX alerts_kid; DROP INDEX alerts_rule`);
      db.close();
    }
    const store = StateStore.open(at);
    const now = Date.now() / 1000;
    const batch = [];
    const insert = schema2 ? schema2Insert(path.join(at, "homeostat.db")) : (b) => store.addAlerts(b);
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      const a = alertAt(i * 7, now);
      const prog = (i * 7) % keys;
      batch.push({
        ...a,
        exe: `/usr/bin/prog${prog}`,
        key: `/usr/bin/prog${prog}@1:${prog}`,
        json: JSON.parse(a.json),
      });
      if (batch.length === 1000) {
        insert(batch);
        batch.length = 0;
      }
    }
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(c0);
    store.close();
    insert.close?.();
    return { perSecond: n / seconds, perCpuSecond: n / ((cpu.user + cpu.system) / 1e6) };
  } finally {
    if (own !== undefined) rmSync(own, { recursive: true, force: true });
  }
}

/** Schema 2's way of storing a batch: the rows only, in one transaction, as the store did before the console. */
function schema2Insert(file) {
  const db = openSqlite(file);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = FULL");
  const stmt = db.prepare(
    `INSERT INTO alerts (time, rule, priority, pid, exe, key, output, json) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const write = db.transaction((batch) => {
    for (const a of batch) stmt.run(a.time, a.rule, a.priority, a.pid, a.exe, a.key, a.output, JSON.stringify(a.json));
  });
  const insert = (batch) => write.immediate(batch);
  insert.close = () => db.close();
  return insert;
}

/** The median of `runs` measurements of each variant, interleaved (the machine may be shared). */
function insertRates(runs = 3) {
  const variants = {
    schema2: () => insertRate({ schema2: true }),
    keys10000: () => insertRate({ keys: PROFILES }),
    keys20: () => insertRate({ keys: 20 }),
  };
  const got = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
  for (let r = 0; r < runs; r++) for (const [k, f] of Object.entries(variants)) got[k].push(f());
  const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  return Object.fromEntries(
    Object.entries(got).map(([k, rs]) => [
      k,
      { perSecond: median(rs.map((r) => r.perSecond)), perCpuSecond: median(rs.map((r) => r.perCpuSecond)), runs },
    ]),
  );
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
        addAlerts: insertRates(),
        overviewMs: await timed(u),
        profilesPageMs: await timed(`${u}profiles?sort=anomalies&dir=desc&page=100`),
        profilesByLastAlertMs: await timed(`${u}profiles?sort=lastAlert&dir=desc`),
        profileSearchMs: await timed(`${u}profiles?q=prog999`),
        alertsPageMs: await timed(`${u}alerts`),
        alertsByRuleMs: await timed(`${u}alerts?rule=${encodeURIComponent("homeostat capture lost events")}`),
        alertsByProgramMs: await timed(`${u}alerts?program=prog4242`),
        alertsByPriorityMs: await timed(`${u}alerts?priority=Informational`),
        alertsByTimeMs: await timed(
          `${u}alerts?from=${Math.round(filled.now - 20 * 86400)}&to=${Math.round(filled.now - 19 * 86400)}`,
        ),
        alertsByRuleAndTimeMs: await timed(
          `${u}alerts?rule=${encodeURIComponent("homeostat profile normal")}&to=${Math.round(filled.now - 25 * 86400)}`,
        ),
        profilePageMs: await timed(`${u}profile?key=${encodeURIComponent("/usr/bin/prog4242@1:4242")}`),
      };
      figures.addAlertsLargeStore = insertRate({ dir, n: 20_000 });
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
