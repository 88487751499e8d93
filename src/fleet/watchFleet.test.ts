// `homeostat watch --fleet` end to end, for real: the CLI (dist/, `npm run build` first) watches a shell under
// strace against a real nats-server. Every alert it prints reaches the stream, in order, with its id, between
// heartbeats; its profiles' snapshots reach the profiles bucket; and with `--fleet-profiles pull`, a program this
// host never saw starts from the fleet's pooled profile, normal, instead of from nothing. On a three-server
// cluster, a watch that is the first to create the stream and buckets makes them with --fleet-replicas copies.

import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, realpathSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Kvm } from "@nats-io/kv";
import { connect } from "@nats-io/transport-node";
import { afterEach, describe, expect, it } from "vitest";
import type { HostAlert } from "../engine/hostAlerts.js";
import { straceUnavailableReason } from "../ingest/testing/straceCapture.js";
import { StateStore } from "../store/stateStore.js";
import { BIN } from "../testing/paths.js";
import { restoreProfile } from "../watch/storedProfiles.js";
import type { AlertBody, HeartbeatBody } from "./fleetMessages.js";
import { POOLED_BUCKET, POOL_HOST, PROFILES_BUCKET, profileKey } from "./fleetNames.js";
import { ensureBucket } from "./fleetSetup.js";
import { decodeSnapshot, encodeSnapshot } from "./profileSnapshot.js";
import { ProgramIdentities } from "./programIdentity.js";
import { readStream, waitFor } from "./testing/fleetTesting.js";
import { jetstreamManager } from "@nats-io/jetstream";
import { STREAM_NAME } from "./fleetNames.js";
import {
  natsServerUnavailableReason,
  type NatsServer,
  startNatsCluster,
  startNatsServer,
} from "./testing/natsServer.js";

const unavailable = natsServerUnavailableReason() ?? straceUnavailableReason();
if (unavailable !== undefined) console.log(`skipping the watch --fleet tests: ${unavailable}`);

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "homeostat-watch-fleet-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function server(): Promise<NatsServer> {
  const s = await startNatsServer();
  cleanups.push(() => s.cleanup());
  return s;
}

interface Run {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<number | null>;
}

function homeostat(args: string[]): Run {
  const child = spawn(process.execPath, [BIN, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, NO_COLOR: "1" },
  });
  let out = "";
  let err = "";
  child.stdout!.on("data", (b: Buffer) => (out += b.toString()));
  child.stderr!.on("data", (b: Buffer) => (err += b.toString()));
  const exit = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  cleanups.push(() => {
    if (child.exitCode === null) child.kill("SIGKILL");
  });
  return { child, stdout: () => out, stderr: () => err, exit };
}

/** Small pH settings: a profile freezes soon and is normal at once, so that a short run raises lifecycle alerts. */
const SMALL = ["--normal-factor", "4", "--normal-factor-den", "3", "--normal-wait", "0", "--save-interval", "0.5"];

describe.skipIf(unavailable !== undefined)("homeostat watch --fleet (strace, real nats-server)", () => {
  it(
    "sends every alert to the stream in order with its id, heartbeats, and profile snapshots",
    { timeout: 240_000 },
    async () => {
      const s = await server();
      const state = tempDir();
      const loop = "i=0; while [ $i -lt 60 ]; do i=$((i+1)); /bin/true; done";
      const code = await homeostatWatch(state, s.url, loop);
      // 1: anomalies were alerted (the small settings make the shell normal early); 2 or 3 would be a failure.
      expect([0, 1], code.stderr).toContain(code.status);

      const lines = code.stdout.split("\n").filter((l) => l.startsWith("{"));
      const printed = lines.map((l) => JSON.parse(l) as HostAlert).filter((a) => a.rule !== "homeostat watch summary");
      const summary = JSON.parse(lines[lines.length - 1]!) as {
        output_fields: { fleet: { run: string; messages: { published: number; spooled: number } } };
      };
      expect(printed.length).toBeGreaterThan(0);
      const fleet = summary.output_fields.fleet;
      expect(fleet.messages.spooled).toBe(0);

      const got = await readStream(s.url);
      expect(got.length).toBe(fleet.messages.published);
      // One run, its sequence numbers 1..n over the three subjects, in stream order, each with its id.
      expect(got.map((m) => m.id)).toEqual(got.map((_, i) => `e2e-host.${fleet.run}.${i + 1}`));
      expect(got.every((m) => m.header === m.id)).toBe(true);
      const alerts = got.filter((m) => m.kind === "alerts").map((m) => (m.body as AlertBody).alert);
      expect(alerts).toEqual(printed);
      const beats = got.filter((m) => m.kind === "heartbeats").map((m) => m.body as HeartbeatBody);
      expect(beats.length).toBeGreaterThanOrEqual(2);
      expect(got[0]!.kind).toBe("heartbeats");
      expect(beats.at(-1)!.counters.alerts).toBe(printed.length);
      expect(beats.at(-1)!.counters.events).toBeGreaterThan(0);

      // The snapshot of /bin/true's profile, under its content identity and this host.
      const truePath = realpathSync("/bin/true");
      const st = statSync(truePath);
      const program = await new ProgramIdentities().identify({ path: truePath, dev: st.dev, ino: st.ino });
      expect(program).toMatch(/^(b|s)-[0-9a-f]+$/);
      const nc = await connect({ servers: s.url });
      try {
        const kv = await new Kvm(nc).open(PROFILES_BUCKET);
        const entry = await kv.get(profileKey(program!, "e2e-host"));
        const snap = decodeSnapshot(entry!.value);
        expect(snap.header).toMatchObject({ host: "e2e-host", program, path: truePath, model: "ph:L=9" });
        const store = StateStore.open(state);
        const stored = store.listProfiles().find((p) => p.exe === truePath)!;
        store.close();
        expect(snap.header.version).toBe(stored.version);
        expect(snap.header.state).toBe(stored.state);
      } finally {
        await nc.close();
      }
    },
  );

  it(
    "starts a program this host never saw from the fleet's pooled profile (--fleet-profiles pull)",
    { timeout: 240_000 },
    async () => {
      const s = await server();
      const dir = tempDir();
      const release = path.join(dir, "release");
      const loop = `i=0; while [ ! -e '${release}' ] && [ $i -lt 80 ]; do i=$((i+1)); sleep 0.01; done`;
      // Another host's training, made normal as the pool would hold it.
      const trained = path.join(dir, "trained");
      const first = await homeostatWatch(trained, undefined, loop);
      expect([0, 1], first.stderr).toContain(first.status);
      const sh = realpathSync("/bin/sh");
      const st = statSync(sh);
      const program = (await new ProgramIdentities().identify({ path: sh, dev: st.dev, ino: st.ino }))!;
      const store = StateStore.open(trained);
      const stored = store.loadProfile(store.listProfiles().find((p) => p.exe === sh)!.key)!;
      store.close();
      const pooled = restoreProfile(stored.model, stored.blob, "trained");
      pooled.normalize();
      const nc = await connect({ servers: s.url });
      cleanups.push(() => nc.close());
      const kv = (await ensureBucket(new Kvm(nc), POOLED_BUCKET))!;
      const header = {
        v: 1 as const,
        host: POOL_HOST,
        program,
        path: sh,
        model: pooled.model,
        state: pooled.state,
        trainCount: pooled.trainCount,
        version: 1,
        time: Date.now(),
      };
      await kv.put(program, encodeSnapshot(header, pooled.serialize()));

      // A new host: no stored profile of the shell; it pulls the pooled one, then runs until released.
      const fresh = path.join(dir, "fresh");
      const pulling = homeostatWatchAsync(
        fresh,
        s.url,
        `while [ ! -e '${release}' ]; do sleep 0.01; done`,
        ["--fleet-profiles", "pull", "--anomaly-limit", "1000000"],
        // pH's own settings: the new profile is still training when the pooled one arrives.
        [],
      );
      await waitFor(
        () => pulling.stderr().includes(`${sh} starts from the fleet's pooled profile (normal`),
        "the pull",
        120_000,
      );
      writeFileSync(release, "");
      expect([0, 1], pulling.stderr()).toContain(await pulling.exit);
      const after = StateStore.open(fresh);
      const mine = after.listProfiles().find((p) => p.exe === sh)!;
      after.close();
      expect(mine.state).toBe("normal");
      expect(mine.trainCount).toBeGreaterThanOrEqual(pooled.trainCount);
      const summary = JSON.parse(pulling.stdout().trim().split("\n").at(-1)!) as {
        output_fields: { fleet: { profiles: { pulled: number } } };
      };
      expect(summary.output_fields.fleet.profiles.pulled).toBe(1);
    },
  );

  it("creates the stream and the buckets with --fleet-replicas copies on a cluster", { timeout: 240_000 }, async () => {
    const cluster = await startNatsCluster(3);
    cleanups.push(() => cluster.cleanup());
    const state = tempDir();
    // Long enough for the buckets to be made (each with three replicas) before the watch ends.
    const run = await homeostatWatch(state, cluster.urls.join(","), "sleep 3", ["--fleet-replicas", "3"]);
    expect([0, 1], run.stderr).toContain(run.status);
    const nc = await connect({ servers: cluster.urls });
    cleanups.push(() => nc.close());
    const jsm = await jetstreamManager(nc);
    expect((await jsm.streams.info(STREAM_NAME)).config.num_replicas).toBe(3);
    const bucket = await (await new Kvm(nc).open(PROFILES_BUCKET)).status();
    expect(bucket.replicas).toBe(3);
  });

  it("refuses --fleet-replicas without --fleet", async () => {
    const run = await homeostatWatch(tempDir(), undefined, "/bin/true", ["--fleet-replicas", "3"]);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/--fleet-replicas need --fleet URL/);
  });
});

/** Runs `watch` on `sh -c script` to its end; with `url`, as a fleet host. */
async function homeostatWatch(
  state: string,
  url: string | undefined,
  script: string,
  extra: string[] = [],
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const run = homeostatWatchAsync(state, url, script, extra);
  const status = await run.exit;
  return { status, stdout: run.stdout(), stderr: run.stderr() };
}

function homeostatWatchAsync(
  state: string,
  url: string | undefined,
  script: string,
  extra: string[],
  settings = SMALL,
): Run {
  const fleet = url !== undefined ? ["--fleet", url, "--host-id", "e2e-host"] : [];
  return homeostat([
    "watch",
    "--state",
    state,
    "--static",
    "off",
    "--json",
    ...settings,
    ...fleet,
    ...extra,
    "--",
    "/bin/sh",
    "-c",
    script,
  ]);
}
