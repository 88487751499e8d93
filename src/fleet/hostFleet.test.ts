// The fleet observer inside a real watch (strace backend, real store, real nats-server): an administrator's
// operation put in the admin bucket is applied to this host's profile of that program while it runs, and only once
// (a second watch on the same state, which sees the operation again, leaves the profile alone); and a watch without
// --fleet loads no NATS module at all.

import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Kvm } from "@nats-io/kv";
import { connect } from "@nats-io/transport-node";
import { afterEach, describe, expect, it } from "vitest";
import { straceUnavailableReason } from "../ingest/testing/straceCapture.js";
import { StateStore } from "../store/stateStore.js";
import { BIN } from "../testing/paths.js";
import { startHostWatch } from "../watch/hostWatch.js";
import { encodeAdminOp, newAdminOp } from "./adminOp.js";
import { ADMIN_BUCKET } from "./fleetNames.js";
import { ensureBucket } from "./fleetSetup.js";
import { type HostFleetFigures, openHostFleet } from "./hostFleet.js";
import { ProgramIdentities } from "./programIdentity.js";
import { waitFor } from "./testing/fleetTesting.js";
import { natsServerUnavailableReason, startNatsServer } from "./testing/natsServer.js";

const unavailable = natsServerUnavailableReason() ?? straceUnavailableReason();
const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "homeostat-host-fleet-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A watch of `sh` looping until `release` exists, as a fleet host of `url`. */
function watchShell(state: string, url: string, release: string) {
  const store = StateStore.open(state);
  const fleet = openHostFleet({ url, hostId: "admin-host", stateDir: state, version: "test" });
  const watch = startHostWatch({
    backend: "strace",
    command: ["/bin/sh", "-c", `while [ ! -e '${release}' ]; do sleep 0.01; done`],
    store,
    // Normal only by the administrator's hand; no anomaly limit a run could reach afterwards.
    settings: { anomalyLimit: 1_000_000 },
    saveIntervalMs: 200,
    pollIntervalMs: 100,
    programOutput: "ignore",
    observers: [fleet],
  });
  return { store, fleet, watch };
}

describe.skipIf(unavailable !== undefined)("the fleet observer in a watch", () => {
  it("applies an administrator's fleet operation to this host's profile, once", { timeout: 240_000 }, async () => {
    const server = await startNatsServer();
    cleanups.push(() => server.cleanup());
    const dir = tempDir();
    const state = path.join(dir, "state");
    const sh = realpathSync("/bin/sh");
    const st = statSync(sh);
    const key = `${sh}@${st.dev}:${st.ino}`;
    const program = (await new ProgramIdentities().identify({ path: sh, dev: st.dev, ino: st.ino }))!;

    const release1 = path.join(dir, "release-1");
    const first = watchShell(state, server.url, release1);
    try {
      await waitFor(() => (first.fleet.figures() as HostFleetFigures).link.connected, "the fleet link");
      await waitFor(() => first.watch.monitor.profile(key) !== undefined, "the shell's profile");
      expect(first.watch.monitor.profile(key)!.profile.state).not.toBe("normal");
      const nc = await connect({ servers: server.url });
      cleanups.push(() => nc.close());
      const admin = (await ensureBucket(new Kvm(nc), ADMIN_BUCKET))!;
      await admin.put(program, encodeAdminOp(newAdminOp("normalize", Date.now())));
      await waitFor(() => first.watch.monitor.profile(key)?.profile.state === "normal", "the operation applied");
    } finally {
      writeFileSync(release1, "");
    }
    const s1 = await first.watch.done;
    first.store.close();
    expect((s1.observers.fleet as HostFleetFigures).adminApplied).toBe(1);
    expect(JSON.parse(readFileSync(path.join(state, "fleet-admin.json"), "utf8"))).toHaveProperty([key]);

    // A second run loads the normal profile; the operation, still in the bucket, is not applied again.
    const release2 = path.join(dir, "release-2");
    const second = watchShell(state, server.url, release2);
    try {
      await waitFor(() => (second.fleet.figures() as HostFleetFigures).link.connected, "the fleet link");
      await waitFor(() => second.watch.monitor.profile(key) !== undefined, "the shell's profile");
      // The operation seen again, and the profile identified (its snapshot sent after a save): had the operation
      // been going to be applied again, it would have been by then.
      await waitFor(() => (second.fleet.figures() as HostFleetFigures).adminReceived > 0, "the operation seen again");
      await waitFor(
        () => (second.fleet.figures() as HostFleetFigures).profiles.snapshotsPut > 0,
        "a snapshot of the second run",
      );
    } finally {
      writeFileSync(release2, "");
    }
    const s2 = await second.watch.done;
    second.store.close();
    expect((s2.observers.fleet as HostFleetFigures).adminApplied).toBe(0);
    expect(s2.monitor.profiles).toBeGreaterThan(0);
  });
});

describe.skipIf(straceUnavailableReason() !== undefined)("a watch without --fleet", () => {
  // A loader hook that refuses any @nats-io module: a run that needed one would fail.
  const hooks = `export async function resolve(s, c, next) { if (s.startsWith("@nats-io/")) throw new Error("NATS module loaded: " + s); return next(s, c); }`;
  const register = `import { register } from "node:module"; register("data:text/javascript,${encodeURIComponent(hooks)}");`;
  const run = (args: string[]) =>
    spawnSync(process.execPath, ["--import", `data:text/javascript,${encodeURIComponent(register)}`, BIN, ...args], {
      encoding: "utf8",
      timeout: 120_000,
    });

  it("loads no NATS module (and the check would see one)", { timeout: 240_000 }, () => {
    const dir = tempDir();
    const off = run(["watch", "--state", path.join(dir, "a"), "--static", "off", "--json", "--", "/bin/true"]);
    expect(off.stdout + off.stderr).not.toContain("NATS module loaded");
    expect(off.stdout).toContain("homeostat watch summary");
    expect([0, 1]).toContain(off.status);
    // The same hook catches a watch with --fleet (nothing listens there: it would only spool): the main thread's
    // connection (profiles and operations) cannot load the client, and says so in the summary.
    const on = run([
      "watch",
      "--state",
      path.join(dir, "b"),
      "--static",
      "off",
      "--json",
      "--fleet",
      "nats://127.0.0.1:1",
      "--",
      "/bin/true",
    ]);
    const summary = JSON.parse(on.stdout.trim().split("\n").at(-1)!) as {
      output_fields: { fleet: { kvLink: { lastError?: string } } };
    };
    expect(summary.output_fields.fleet.kvLink.lastError).toContain("NATS module loaded: @nats-io/");
  });
});
