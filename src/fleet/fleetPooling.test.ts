// Fleet pooling end to end, for real (the built CLI: `npm run build` first): a nats-server, `homeostat fleet serve
// --pool` as its own process, and three `homeostat watch --fleet` hosts, each running its own copy of the demo's
// vulnerable key-value server (demo/kvserver.c, one program by its build-id) under strace. Hosts A and B train on
// different parts of the server's normal traffic until pH's own rule makes their profiles normal; the pool merges
// them into a normal profile that knows more than either. Host C, with a fresh state and --fleet-profiles pull,
// starts from that pooled profile without training: the traffic only B saw raises nothing there, and the real
// exploit (stack overflow, then libc's system() in the server) raises anomaly alerts, in C's output, its state
// database and the fleet database. Static models stay on, as by default (testing/kvHost.ts says why).

import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Kvm } from "@nats-io/kv";
import { connect } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runExploit } from "../demo/exploitClient.js";
import { buildTarget } from "../demo/target.js";
import { type HostAlert, syscallName } from "../engine/hostAlerts.js";
import { commandExists, straceUnavailableReason } from "../ingest/testing/straceCapture.js";
import { PhProfile } from "../lifecycle/phProfile.js";
import { openSqlite } from "../store/sqliteDatabase.js";
import { StateStore } from "../store/stateStore.js";
import { restoreProfile } from "../watch/storedProfiles.js";
import { POOLED_BUCKET, POOL_HOST } from "./fleetNames.js";
import { decodeSnapshot } from "./profileSnapshot.js";
import { ProgramIdentities } from "./programIdentity.js";
import { type FleetChild, startFleetChild } from "./testing/fleetChild.js";
import { until } from "./testing/fleetTraffic.js";
import { type KvHost, liveChildren, startKvHost } from "./testing/kvHost.js";
import { type KvCommand, type KvServerModel, runKvWorkload } from "./testing/kvWorkload.js";
import { type NatsServer, natsServerUnavailableReason, startNatsServer } from "./testing/natsServer.js";

const unavailable =
  natsServerUnavailableReason() ??
  straceUnavailableReason() ??
  (commandExists("cc") ? undefined : "no C compiler (apt-get install gcc libc6-dev)");
if (unavailable !== undefined) console.log(`skipping the fleet pooling test: ${unavailable}`);

/** A's part of normal: the store in memory. B's: files (STATS reads /proc, SAVE writes and renames, LOAD reads), BLOB. */
const A_KINDS: readonly KvCommand[] = ["SET", "GET", "DEL", "LIST", "ECHO"];
const B_KINDS: readonly KvCommand[] = ["SET", "GET", "STATS", "SAVE", "LOAD", "BLOB"];
/** Sessions per batch of traffic; a host trains batch after batch until its profile is normal. */
const BATCH = 10;
const MAX_BATCHES = 150;
const ANOMALY = "Anomalous system calls";

interface Trained {
  host: string;
  binary: string;
  /** The seed of each batch of traffic it was sent, in order. */
  seeds: number[];
  /** Its stored profile of the server at the end, and that profile's version. */
  profile: PhProfile;
  version: number;
}

const evtTime = (a: HostAlert): number => a.output_fields["evt.time"] as number;

/** The stored profile of `exe` in a watch's state (read beside the running watch), or undefined. */
function storedProfile(state: string, exe: string): { profile: PhProfile; state: string; version: number } | undefined {
  if (!existsSync(path.join(state, "homeostat.db"))) return undefined;
  const store = StateStore.open(state, { readonly: true });
  try {
    const summary = store.listProfiles().find((p) => p.exe === exe);
    const stored = summary === undefined ? undefined : store.loadProfile(summary.key);
    if (stored === undefined) return undefined;
    const profile = restoreProfile(stored.model, stored.blob, exe);
    if (!(profile instanceof PhProfile)) throw new Error(`${exe}: not a pH profile (${stored.model})`);
    return { profile, state: stored.state, version: stored.version };
  } finally {
    store.close();
  }
}

/** Rows of the fleet database (none before fleet serve has created the table). */
function fleetRows<T>(state: string, sql: string, ...params: unknown[]): T[] {
  const file = path.join(state, "fleet.db");
  if (!existsSync(file)) return [];
  const db = openSqlite(file, { readonly: true, timeout: 5000 });
  try {
    return db.prepare(sql).all(...params) as T[];
  } catch {
    return []; // not created yet
  } finally {
    db.close();
  }
}

/** Every pair of the normal table, at every lag, as "lag:previous:call". */
function pairs(p: PhProfile): Set<string> {
  const out = new Set<string>();
  for (let lag = 1; lag < p.settings.lookahead; lag++)
    for (const [a, b] of p.pairsAtLag(lag)) out.add(`${lag}:${a}:${b}`);
  return out;
}

const callNames = (p: PhProfile): Set<string> => new Set(p.syscallsSeen().map(syscallName));

describe.skipIf(unavailable !== undefined)("fleet pooling of a real program (kvserver) across hosts", () => {
  const cleanups: (() => Promise<unknown> | void)[] = [];
  let dir: string;
  let server: NatsServer;
  let fleet: FleetChild;
  let fleetState: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), "homeostat-pool-"));
  });
  afterAll(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The host's own copy of the server binary: the same bytes (one program in the fleet), its own path. */
  function serverCopy(built: string, host: string): string {
    mkdirSync(path.join(dir, host), { recursive: true });
    const file = path.join(dir, host, "kvserver");
    copyFileSync(built, file);
    chmodSync(file, 0o755);
    return realpathSync(file);
  }

  /** A watch --fleet host running the server, sent batches of `kinds` traffic until its profile is normal. */
  async function trainHost(host: string, binary: string, kinds: readonly KvCommand[], seed0: number): Promise<Trained> {
    const state = path.join(dir, host, "state");
    const h = await startKvHost({ url: server.url, host, state, binary, dataDir: path.join(dir, host, "data") });
    cleanups.push(() => h.kill());
    const model: KvServerModel = { saved: undefined };
    const seeds: number[] = [];
    while (storedProfile(state, binary)?.state !== "normal") {
      expect(seeds.length, `${host}: the server's profile normal within ${MAX_BATCHES} batches`).toBeLessThan(
        MAX_BATCHES,
      );
      seeds.push(seed0 + seeds.length);
      const r = await runKvWorkload({ port: h.port, sessions: BATCH, seed: seeds.at(-1)!, kinds, server: model });
      expect(r.mismatches).toEqual([]);
    }
    const { code, summary } = await h.stop();
    expect([0, 1], h.stderr()).toContain(code);
    expect(summary.output_fields.fleet.profiles.snapshotsPut).toBeGreaterThan(0);
    const end = storedProfile(state, binary)!;
    expect(end.state).toBe("normal");
    // Trained from what it traced, normal by pH's freeze rule (128/32: four times the calls it took to learn its
    // last new pair; the server's start and first sessions alone teach it pairs for well over a hundred calls).
    expect(end.profile.trainCount).toBeGreaterThan(500);
    const normal = h.alerts().filter((x) => x.rule === "homeostat profile normal");
    expect(normal.map((x) => x.output_fields["proc.exepath"])).toContain(binary);
    return { host, binary, seeds, profile: end.profile, version: end.version };
  }

  /** Waits for the pooled profile merged from the hosts' last snapshots, normal; returns it from the bucket. */
  async function settledPool(program: string, hosts: Trained[]): Promise<{ profile: PhProfile; trainCount: number }> {
    type Pooled = {
      state: string;
      hosts: string;
      sources: string;
      revision: number;
      train_count: number;
      version: number;
    };
    let pooled: Pooled | undefined;
    await until(
      "the pooled profile of the server, normal, from both hosts' last snapshots",
      () => {
        const snaps = fleetRows<{ host: string; revision: number; version: number }>(
          fleetState,
          `SELECT host, revision, version FROM profiles WHERE program = ? ORDER BY host`,
          program,
        );
        [pooled] = fleetRows<Pooled>(fleetState, `SELECT * FROM pooled WHERE program = ?`, program);
        const last = hosts.every((h, i) => snaps[i]?.host === h.host && snaps[i]?.version === h.version);
        // fleet serve says so (--json) once the pooling is stored, with the version stored.
        const said = fleet.events.some(
          (e) => e.event === "pooled" && e.program === program && e.version === pooled?.version,
        );
        return (
          last &&
          said &&
          snaps.length === hosts.length &&
          pooled?.state === "normal" &&
          pooled.sources === JSON.stringify(snaps.map((s) => s.revision))
        );
      },
      120_000,
    );
    expect(JSON.parse(pooled!.hosts)).toEqual(hosts.map((h) => h.host));
    expect(fleet.events).toContainEqual({
      event: "pooled",
      program,
      state: "normal",
      hosts: hosts.map((h) => h.host),
      version: pooled!.version,
    });
    const nc = await connect({ servers: server.url });
    try {
      const entry = (await (await new Kvm(nc).open(POOLED_BUCKET)).get(program))!;
      expect(entry.revision).toBe(pooled!.revision);
      const { header, blob } = decodeSnapshot(entry.value);
      expect(header).toMatchObject({ host: POOL_HOST, program, state: "normal", trainCount: pooled!.train_count });
      const profile = restoreProfile(header.model, blob, "pooled") as PhProfile;
      return { profile, trainCount: header.trainCount };
    } finally {
      await nc.close();
    }
  }

  it(
    "a program trained on two hosts is normal on a third from the pool, and catches the exploit there",
    { timeout: 400_000 },
    async () => {
      server = await startNatsServer();
      cleanups.push(() => server.cleanup());
      fleetState = path.join(dir, "fleet");
      fleet = await startFleetChild(["--nats", server.url, "--state", fleetState, "--no-console", "--pool"]);
      cleanups.push(() => fleet.kill());
      const built = await buildTarget(path.join(dir, "build"));

      const a = await trainHost("pool-a", serverCopy(built, "pool-a"), A_KINDS, 1000);
      const b = await trainHost("pool-b", serverCopy(built, "pool-b"), B_KINDS, 2000);
      const cBinary = serverCopy(built, "pool-c");
      const ids = new ProgramIdentities();
      const identity = (p: string) => ids.identify({ path: p, dev: statSync(p).dev, ino: statSync(p).ino });
      const program = (await identity(a.binary))!;
      expect(program).toMatch(/^b-[0-9a-f]+$/);
      expect([await identity(b.binary), await identity(cBinary)]).toEqual([program, program]);

      // The pool: normal, the union of both hosts' normal tables, and more than either knows.
      const pool = await settledPool(program, [a, b]);
      expect(pool.profile.state).toBe("normal");
      expect(pool.trainCount).toBe(a.profile.trainCount + b.profile.trainCount);
      const pooledPairs = pairs(pool.profile);
      for (const h of [a, b]) {
        const own = pairs(h.profile);
        expect([...own].filter((p) => !pooledPairs.has(p))).toEqual([]);
        expect(pooledPairs.size).toBeGreaterThan(own.size);
      }
      // SAVE's rename only B's traffic makes: A's profile alone would flag it; the pool does not.
      expect(callNames(a.profile).has("rename")).toBe(false);
      expect(callNames(b.profile).has("rename")).toBe(true);
      expect(callNames(pool.profile).has("rename")).toBe(true);

      await onTheThirdHost(cBinary, b, pool.trainCount);
    },
  );

  /** Host C: starts from the pool, stays quiet on B's traffic, and alerts on the exploit. */
  async function onTheThirdHost(binary: string, b: Trained, pooledCalls: number): Promise<void> {
    const state = path.join(dir, "pool-c", "state");
    const dataDir = path.join(dir, "pool-c", "data");
    const extra = ["--fleet-profiles", "pull"];
    const c = await startKvHost({ url: server.url, host: "pool-c", state, binary, dataDir, extra });
    cleanups.push(() => c.kill());
    // The pooled profile as it is, normal, with the pool's count of calls: none of them traced on C.
    const pulled = `fleet: ${binary} starts from the fleet's pooled profile (normal, ${pooledCalls} calls trained)`;
    await until("C's server starting from the pooled profile", () => c.stderr().includes(pulled), 120_000);

    const boundary = await replayFirstBatch(c, b);
    const caught = (a: HostAlert) =>
      a.rule === ANOMALY && a.output_fields["proc.exepath"] === binary && evtTime(a) >= boundary;
    // Anything C says about B's traffic is a false alarm: it ends the wait at once (and fails below).
    const early = (a: HostAlert) => evtTime(a) < boundary;
    const proof = path.join(dir, "pwned");
    await runExploit({ port: c.port, binary, command: `id > ${proof}` });
    expect(readFileSync(proof, "utf8")).toMatch(/^uid=\d+/);
    await until(
      "an anomaly alert of the exploited server",
      () => c.alerts().some((a) => caught(a) || early(a)),
      120_000,
    );
    const { code, summary } = await c.stop();
    expect(code, c.stderr()).toBe(1);

    const printed = c.alerts();
    expect(printed.filter(early)).toEqual([]);
    const exploitAlerts = printed.filter(caught);
    expect(exploitAlerts.length).toBeGreaterThan(0);
    expect(summary.output_fields.fleet.profiles.pulled).toBe(1);
    checkThirdHostStore(state, binary, exploitAlerts, printed);
    await until(
      "C's alerts in the fleet database",
      () => fleetRows(fleetState, `SELECT id FROM alerts WHERE host = 'pool-c'`).length >= printed.length,
      120_000,
    );
    const stored = fleetRows<{ json: string }>(fleetState, `SELECT json FROM alerts WHERE host = 'pool-c' ORDER BY id`);
    expect(stored.map((r) => JSON.parse(r.json) as HostAlert)).toEqual(printed);
  }

  /**
   * Traffic only B saw, on C: B's first batch again, on a fresh data folder as B's was. Returns a time after every
   * call of it (each call is timed by strace before its process is gone) and before anything that follows.
   */
  async function replayFirstBatch(c: KvHost, b: Trained): Promise<number> {
    const replay = await runKvWorkload({ port: c.port, sessions: BATCH, seed: b.seeds[0]!, kinds: B_KINDS });
    expect(replay.mismatches).toEqual([]);
    // Commands A never sent: A's profile alone would flag SAVE's rename at least.
    expect(replay.counts.SAVE).toBeGreaterThan(0);
    await until("the replayed sessions to end", () => liveChildren(c.serverPid).length === 0);
    return Date.now() / 1000;
  }

  /** C's state database holds the alerts it printed, the exploit's anomalies among them. */
  function checkThirdHostStore(state: string, binary: string, exploitAlerts: HostAlert[], printed: HostAlert[]): void {
    const store = StateStore.open(state, { readonly: true });
    try {
      const alerts = store.recentAlerts(100_000).reverse();
      expect(alerts.map((r) => r.json)).toEqual(printed);
      expect(alerts.filter((r) => r.rule === ANOMALY && r.exe === binary).length).toBe(exploitAlerts.length);
    } finally {
      store.close();
    }
  }
});
