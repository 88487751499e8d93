// The central side of fleet mode under a fleet's load: a nats-server with JetStream (a temporary store), `homeostat
// fleet serve --pool` as its own process (the built CLI, as it runs in production), and 50 simulated hosts in this
// process publishing 2,000 alerts/s in total for 30 s (FLEET_BENCH_SECONDS), each alert with its message id as a
// watch publishes it, each host a heartbeat every 10 s and a snapshot of each of its three programs' profiles every
// 10 s (staggered). Then, once every alert is in the fleet database, the delay of each from publish (the body's
// time, taken when it is published) to stored (the time of the transaction that stored it), read from the
// database. Targets: every alert stored once, p99 delay <= 1 s. Then its capacity apart from the publishers' pace:
// a backlog published while it is stopped, and the rate at which a new fleet serve stores it.

/* global setTimeout */
import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { jetstream } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { connect } from "@nats-io/transport-node";
import { HOST_SYMBOLS } from "../dist/engine/staticCheck.js";
import { encodeHeartbeat, encodeMessage } from "../dist/fleet/fleetMessages.js";
import { messageId, profileKey, subjectFor } from "../dist/fleet/fleetNames.js";
import { encodeSnapshot } from "../dist/fleet/profileSnapshot.js";
import { PhProfile } from "../dist/lifecycle/phProfile.js";
import { openSqlite } from "../dist/store/sqliteDatabase.js";
import { check, ROOT, save } from "./lib.js";
import { startNats, until } from "./natsServer.js";

const NATS = process.env.HOMEOSTAT_NATS_SERVER ?? "/usr/sbin/nats-server";
const HOSTS = 50;
const RATE = 2000;
const SECONDS = Number(process.env.FLEET_BENCH_SECONDS ?? 30);
const TICK_MS = 50;
const PROGRAMS = 3;
const PROFILE_EVERY_MS = 10_000;
/** FLEET_BENCH_PROF=DIR: a V8 CPU profile of fleet serve, written there when it stops. */
const PROFILE_ARGS = process.env.FLEET_BENCH_PROF
  ? ["--cpu-prof", `--cpu-prof-dir=${process.env.FLEET_BENCH_PROF}`]
  : [];

/** CPU seconds (user + system) a process has used, from /proc. */
function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}

async function startFleetServe(url, state) {
  const child = spawn(
    process.execPath,
    [
      ...PROFILE_ARGS,
      path.join(ROOT, "bin/homeostat"),
      "fleet",
      "serve",
      "--json",
      "--pool",
      "--nats",
      url,
      "--state",
      state,
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const lines = [];
  let out = "";
  child.stdout.on("data", (c) => {
    out += c.toString();
    for (let nl = out.indexOf("\n"); nl >= 0; nl = out.indexOf("\n")) {
      lines.push(JSON.parse(out.slice(0, nl)));
      out = out.slice(nl + 1);
    }
  });
  await until("fleet serve", () => lines.some((l) => l.event === "started"));
  return { child, lines };
}

/** A pH profile of `calls` repeated; the hosts' profiles of one program differ by a call or two. */
function profileBlob(program, host) {
  const p = new PhProfile(HOST_SYMBOLS, { normalWait: 60 });
  const s = p.newStream();
  const calls = [0, 1, 3, 9, 257, 2 + program, 10 + (host % 4)];
  for (let i = 0; i < 600; i++) p.step(s, calls[i % calls.length], 1000);
  if (host % 2 === 0) p.normalize();
  return { blob: p.serialize(), state: p.state, model: p.model, trainCount: p.trainCount };
}

function programId(i) {
  return `b-${i.toString(16).padStart(40, "0")}`;
}

const RUN = "0123456789abcdef";
const hostName = (h) => `host-${String(h).padStart(2, "0")}`;

/** An anomaly alert of one of the programs, as a host's engine makes it. */
function alertJson(host, time, i) {
  const exe = `/usr/bin/prog${i % PROGRAMS}`;
  return JSON.stringify({
    time: new Date(time).toISOString(),
    rule: "Anomalous system calls",
    priority: "Warning",
    source: "syscall",
    hostname: host,
    tags: ["homeostat", "pH", "host", "process", "anomaly"],
    output: `Anomalous read in pid 4242 (${exe}): 3 unseen lookahead pairs, LFC 2/128`,
    output_fields: {
      "evt.time": time / 1000,
      "proc.pid": 4242,
      "proc.exepath": exe,
      "homeostat.window": ["openat", "read", "mmap", "close"],
    },
  });
}

/** The simulated hosts: their sequence numbers, and every publish and put under way, counted when answered. */
class SimulatedFleet {
  constructor(js, profiles) {
    this.js = js;
    this.profiles = profiles;
    this.started = Date.now();
    this.seq = new Array(HOSTS).fill(0);
    this.pending = new Set();
    this.acked = { alerts: 0, heartbeats: 0 };
    this.counts = { alerts: 0, failed: 0, puts: 0, putFailures: 0 };
  }

  track(p) {
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  send(kind, h, time, payload) {
    const host = hostName(h);
    const env = { v: 1, host, run: RUN, seq: ++this.seq[h], time };
    const bytes = kind === "alerts" ? encodeMessage(kind, env, payload) : encodeHeartbeat(env, payload);
    const msgID = messageId(host, RUN, env.seq);
    this.track(
      this.js
        .publish(subjectFor(kind, host), bytes, { msgID, timeout: 10_000 })
        .then(() => this.acked[kind]++)
        .catch(() => this.counts.failed++),
    );
  }

  alert(h, i) {
    const time = Date.now();
    this.send("alerts", h, time, alertJson(hostName(h), time, i));
    this.counts.alerts++;
  }

  /** A host's heartbeat and a snapshot of each of its programs' profiles. */
  update(h, now, tick) {
    const counters = {
      events: tick * 1000,
      alerts: 0,
      actions: 0,
      lost: 0,
      profiles: { normal: 3 },
      spooled: 0,
      spoolDropped: 0,
    };
    this.send("heartbeats", h, now, { started: this.started, version: "bench", counters });
    for (let p = 0; p < PROGRAMS; p++) {
      const b = profileBlob(p, h);
      const header = {
        v: 1,
        host: hostName(h),
        program: programId(p),
        path: `/usr/bin/prog${p}`,
        model: b.model,
        state: b.state,
        trainCount: b.trainCount,
        version: tick + 1,
        time: now,
      };
      this.track(
        this.profiles
          .put(profileKey(programId(p), hostName(h)), encodeSnapshot(header, b.blob))
          .then(() => this.counts.puts++)
          .catch((err) => {
            if (this.counts.putFailures++ === 0)
              console.log(`a profile put failed after ${now - this.started} ms: ${err}`);
          }),
      );
    }
  }
}

/** Every TICK_MS, RATE * TICK_MS / 1000 alerts spread over the hosts; each host's update every PROFILE_EVERY_MS. */
async function publishFleet(js, profiles) {
  const fleet = new SimulatedFleet(js, profiles);
  const perTick = (RATE * TICK_MS) / 1000;
  const due = Array.from({ length: HOSTS }, (_, h) => fleet.started + (h * PROFILE_EVERY_MS) / HOSTS);
  let next = 0;
  for (let tick = 0; Date.now() - fleet.started < SECONDS * 1000; tick++) {
    for (let i = 0; i < perTick; i++, next = (next + 1) % HOSTS) fleet.alert(next, i);
    const now = Date.now();
    for (let h = 0; h < HOSTS; h++) {
      if (now < due[h]) continue;
      due[h] += PROFILE_EVERY_MS;
      fleet.update(h, now, tick);
    }
    const wait = fleet.started + (tick + 1) * TICK_MS - Date.now();
    // Always yield, also when behind: the acknowledgements of what was published are read in between.
    await new Promise((r) => setTimeout(r, Math.max(wait, 0)));
  }
  const publishSeconds = (Date.now() - fleet.started) / 1000;
  await Promise.all([...fleet.pending]);
  return { ...fleet.counts, acked: fleet.acked, publishSeconds };
}

function delays(state) {
  const db = openSqlite(path.join(state, "fleet.db"), { readonly: true });
  try {
    const ms = db
      .prepare(`SELECT (stored - sent) * 1000 AS ms FROM alerts ORDER BY ms`)
      .all()
      .map((r) => r.ms);
    const q = (f) => ms[Math.min(ms.length - 1, Math.floor(f * ms.length))];
    const ids = db.prepare(`SELECT count(*) AS n, count(DISTINCT msg_id) AS ids FROM alerts`).get();
    const pooled = db.prepare(`SELECT count(*) AS n, max(version) AS v FROM pooled`).get();
    return { stored: ids.n, distinct: ids.ids, p50: q(0.5), p90: q(0.9), p99: q(0.99), max: ms[ms.length - 1], pooled };
  } finally {
    db.close();
  }
}

function storedAlerts(state) {
  if (!existsSync(path.join(state, "fleet.db"))) return 0;
  const db = openSqlite(path.join(state, "fleet.db"), { readonly: true });
  try {
    return db.prepare(`SELECT count(*) AS n FROM alerts`).get().n;
  } catch {
    return 0;
  } finally {
    db.close();
  }
}

function figuresOf(sent, d, stopped, cpu) {
  const ingest = stopped?.ingest;
  return {
    hosts: HOSTS,
    seconds: SECONDS,
    alertsPublished: sent.alerts,
    alertsAcknowledged: sent.acked.alerts,
    heartbeatsAcknowledged: sent.acked.heartbeats,
    alertRate: Number((sent.alerts / sent.publishSeconds).toFixed(1)),
    publishFailures: sent.failed,
    profileSnapshotsPut: sent.puts,
    profilePutFailures: sent.putFailures,
    // From the alert's making (its body's time, when it was published) to the start of the transaction that
    // stored it (the row's stored column), every alert.
    alertDelayMs: { p50: d.p50, p90: d.p90, p99: d.p99, max: d.max },
    // From each message's making to the end of the commit that stored it, as fleet serve measures it itself.
    committedDelayMs: ingest
      ? { n: ingest.delayedMessages, p50: ingest.delayP50Ms, p99: ingest.delayP99Ms, max: ingest.delayMaxMs }
      : null,
    stored: d.stored,
    distinctIds: d.distinct,
    pooledPrograms: d.pooled.n,
    poolings: stopped?.pool?.pooled ?? null,
    ingest: ingest ?? null,
    // CPU used, and what else ran: the machine's load average over the last minute at the end, and its CPUs.
    cpuSeconds: cpu,
    fleetServeCpuMsPer1000Messages: Number(((cpu.fleetServe * 1e6) / (sent.alerts + sent.acked.heartbeats)).toFixed(1)),
    loadAverage1m: os.loadavg()[0],
    cpus: os.cpus().length,
  };
}

const BACKLOG = 30_000;

/**
 * Fleet serve's capacity, apart from the publishers' own pace: BACKLOG alerts published while no fleet serve runs
 * (500 in flight at a time), then a new fleet serve on the same state directory, timed from its start until it has
 * stored them all.
 */
async function catchUp(nc, nats, state, before) {
  const js = jetstream(nc);
  const inFlight = new Set();
  for (let i = 0; i < BACKLOG; i++) {
    const host = hostName(i % HOSTS);
    const env = { v: 1, host, run: "fedcba9876543210", seq: i + 1, time: Date.now() };
    const p = js.publish(subjectFor("alerts", host), encodeMessage("alerts", env, alertJson(host, env.time, i)), {
      msgID: messageId(host, env.run, env.seq),
      timeout: 30_000,
    });
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p)).catch(() => {});
    if (inFlight.size >= 500) await Promise.race(inFlight).catch(() => {});
  }
  await Promise.allSettled([...inFlight]);
  const t0 = performance.now();
  const fleet = await startFleetServe(nats.url, state);
  try {
    await until("the backlog stored", () => storedAlerts(state) >= before + BACKLOG, 300_000);
    const seconds = (performance.now() - t0) / 1000;
    return { alerts: BACKLOG, seconds: Number(seconds.toFixed(2)), rate: Number((BACKLOG / seconds).toFixed(0)) };
  } finally {
    fleet.child.kill("SIGTERM");
    await once(fleet.child, "exit");
  }
}

/** Publishes, waits until every acknowledged alert is stored, stops fleet serve; the figures and checks. */
async function measure(nats, fleet, state) {
  const nc = await connect({ servers: nats.url });
  try {
    const profiles = await new Kvm(nc).open("homeostat_profiles");
    const cpu0 = process.cpuUsage();
    const sent = await publishFleet(jetstream(nc), profiles);
    // Every acknowledged alert, and those whose acknowledgement timed out but which JetStream kept: until all are
    // stored, or the count has stood still for 5 s (then the checks say what is missing).
    let last = -1;
    let since = Date.now();
    await until("every alert stored", () => {
      const n = storedAlerts(state);
      if (n !== last) [last, since] = [n, Date.now()];
      return n >= sent.alerts || (n >= sent.acked.alerts && Date.now() - since > 5000);
    });
    const d = delays(state);
    const used = process.cpuUsage(cpu0);
    const cpu = {
      fleetServe: cpuSeconds(fleet.child.pid),
      natsServer: cpuSeconds(nats.child.pid),
      publishers: (used.user + used.system) / 1e6,
    };
    const stop = once(fleet.child, "exit");
    fleet.child.kill("SIGTERM");
    await stop;
    const figures = figuresOf(
      sent,
      d,
      fleet.lines.find((l) => l.event === "stopped"),
      cpu,
    );
    figures.catchUp = await catchUp(nc, nats, state, d.stored);
    const checks = [
      check("alerts acknowledged by JetStream and not stored", sent.acked.alerts - d.distinct, "<=", 0, "alerts"),
      check("alerts stored twice", d.stored - d.distinct, "<=", 0, "alerts"),
      check("alert publish rate", figures.alertRate, ">=", RATE * 0.95, "alerts/s"),
      check("p99 delay from publish to committed", figures.committedDelayMs?.p99 ?? Infinity, "<=", 1000, "ms"),
      check("catch-up rate of a backlog", figures.catchUp.rate, ">=", RATE, "alerts/s"),
    ];
    return { figures, checks };
  } finally {
    await nc.close();
  }
}

export async function run() {
  if (!existsSync(NATS) || spawnSync(NATS, ["--version"]).status !== 0) {
    console.log(`fleet-serve: skipped, ${NATS} is not installed`);
    return { checks: [] };
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), "homeostat-bench-fleet-"));
  const nats = await startNats(dir);
  const state = path.join(dir, "fleet");
  let fleet;
  try {
    fleet = await startFleetServe(nats.url, state);
    const { figures, checks } = await measure(nats, fleet, state);
    save("fleet-serve", { figures, checks });
    return { checks, figures };
  } finally {
    if (fleet !== undefined && fleet.child.exitCode === null) fleet.child.kill("SIGKILL");
    nats.child.kill("SIGKILL");
    await once(nats.child, "exit").catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { checks, figures } = await run();
  console.log(JSON.stringify(figures, null, 2));
  for (const c of checks)
    console.log(`${c.pass ? "ok  " : "MISS"} fleet-serve: ${c.name}: ${c.value} ${c.unit} (target ${c.target})`);
}
