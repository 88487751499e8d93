import {
  copyFileSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { straceUnavailableReason } from "../ingest/testing/straceCapture.js";
import { until } from "../response/testing/waits.js";
import { StateStore } from "../store/stateStore.js";
import { stampOf } from "../static/analysisWorker.js";
import { profileRecord, restoreProfile, staleness, startHostWatch } from "./hostWatch.js";

const unavailable = straceUnavailableReason();
if (unavailable !== undefined) console.log(`skipping hostWatch tests: ${unavailable}`);

describe.skipIf(unavailable !== undefined)("startHostWatch (strace backend, real store)", () => {
  const dir = mkdtempSync(join(tmpdir(), "homeostat-hostwatch-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("picks up an administrator's change to a stored profile while running, instead of overwriting it", async () => {
    const state = join(dir, "state");
    const released = join(dir, "admin-change-picked-up");
    const store = StateStore.open(state);
    const sh = realpathSync("/bin/sh");
    const st = statSync(sh);
    const key = `${sh}@${st.dev}:${st.ino}`;
    // Driven by events, not by how long the shell runs: it loops until the test has seen watch pick up the change,
    // then runs a few more rounds, so that watch saves the reloaded profile again (the save that must keep it).
    const watch = startHostWatch({
      backend: "strace",
      command: [
        "/bin/sh",
        "-c",
        `while [ ! -e '${released}' ]; do sleep 0.02; done; i=0; while [ $i -lt 5 ]; do i=$((i+1)); sleep 0.02; done`,
      ],
      store,
      // Normalized at whatever point its training had reached, the shell's profile sees anomalies afterwards, as many
      // as the scheduling allows: with pH's anomaly_limit (30) some runs would pass it and send the profile back to
      // training. A limit no run of this shell can reach keeps the outcome about the administrator's change alone.
      settings: { anomalyLimit: 1_000_000 },
      saveIntervalMs: 200,
      pollIntervalMs: 100,
      programOutput: "ignore",
    });
    const admin = StateStore.open(state);
    let adminVersion = 0;
    try {
      // Once the shell's profile is stored, normalize it as `homeostat profiles normalize` would.
      let stored = admin.loadProfile(key);
      await until("watch to store the shell's profile", () => (stored ??= admin.loadProfile(key)) !== undefined);
      expect(["training", "frozen"]).toContain(stored!.state); // not normal yet
      const p = restoreProfile(stored!.model, stored!.blob, key);
      p.normalize();
      admin.saveProfiles([profileRecord(key, { path: sh, dev: st.dev, ino: st.ino }, p)]);
      adminVersion = admin.loadProfile(key)!.version;
      expect(adminVersion).toBeGreaterThan(stored!.version);
      // Normal only by the administrator's hand (normal_wait is a week): watch has reloaded it.
      await until(
        "watch to reload the normalized profile",
        () => watch.monitor.profile(key)?.profile.state === "normal",
      );
    } finally {
      writeFileSync(released, "");
    }
    const summary = await watch.done;
    const after = store.loadProfile(key)!;
    store.close();
    admin.close();
    expect(summary.command?.exitCode).toBe(0);
    expect(summary.reloaded).toBe(1);
    expect(watch.monitor.profile(key)!.profile.state).toBe("normal");
    // Watch saved the profile after the change (the shell ran on), on top of it: the normalize survived.
    expect(after.version).toBeGreaterThan(adminVersion);
    expect(after.state).toBe("normal");
    expect(restoreProfile(after.model, after.blob, key).state).toBe("normal");
  });

  it("drops alerts beyond its queue explicitly, counts them, and stores an alert that says so", async () => {
    const store = StateStore.open(join(dir, "small-queue"));
    const watch = startHostWatch({
      backend: "strace",
      command: ["/bin/sh", "-c", "for i in 1 2 3 4 5 6 7 8; do /bin/cat /etc/hostname; done"],
      store,
      settings: { normalWait: 0, normalFactor: 4, normalFactorDen: 3 },
      maxQueued: 1,
      saveIntervalMs: 60_000,
      pollIntervalMs: 60_000,
      programOutput: "ignore",
    });
    const summary = await watch.done;
    const rules = store.recentAlerts(100).map((a) => a.rule);
    store.close();
    expect(summary.monitor.alerts).toBeGreaterThan(2);
    expect(summary.queueDropped).toBe(summary.monitor.alerts - 1 - 1); // one queued, the overload alert itself stored
    expect(rules).toContain("homeostat overload: alerts dropped");
  });
});

describe("staleness of a static model", () => {
  const dir = mkdtempSync(join(tmpdir(), "homeostat-staleness-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("valid while its files are unchanged; stale when one changed in place; orphan when the path names another file", () => {
    const prog = join(dir, "prog");
    const lib = join(dir, "libx.so");
    copyFileSync("/bin/true", prog);
    writeFileSync(lib, "a library");
    const st = statSync(prog);
    const exe = { path: prog, dev: st.dev, ino: st.ino };
    const files = [stampOf(prog), stampOf(lib)];
    expect(staleness(exe, files)).toBe("valid");
    writeFileSync(lib, "an upgraded library"); // same inode, new content
    expect(staleness(exe, files)).toBe("stale");
    const next = join(dir, "prog.new");
    copyFileSync("/bin/true", next);
    renameSync(next, prog); // the package manager's way: a new file under the old name
    expect(staleness(exe, files)).toBe("orphan");
    rmSync(prog);
    expect(staleness(exe, files)).toBe("orphan");
  });
});

describe.skipIf(unavailable !== undefined)("startHostWatch with static models (strace backend, real store)", () => {
  const dir = mkdtempSync(join(tmpdir(), "homeostat-hostwatch-static-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("stores each executable's model with stamps of its files, reuses it while they are unchanged, re-derives it when one changed", async () => {
    const prog = join(dir, "prog");
    copyFileSync("/bin/true", prog);
    // The store's clock counts runs, so that when a model was stored says which run stored it.
    let runs = 0;
    const run = async (staticDigraph = true) => {
      const at = ++runs;
      const store = StateStore.open(join(dir, "state"), { now: () => at });
      const watch = startHostWatch({
        backend: "strace",
        command: [prog],
        store,
        staticModels: "alert",
        staticDigraph,
        programOutput: "ignore",
      });
      const summary = await watch.done;
      const st = statSync(prog);
      const stored = store.loadStaticModel(`${prog}@${st.dev}:${st.ino}`);
      store.close();
      return { summary, stored };
    };
    const first = await run();
    expect(first.summary.static).toMatchObject({
      policy: "alert",
      analysed: 1,
      fromStore: 0,
      failed: 0,
      unfinished: 0,
      impossibleCalls: 0,
    });
    expect(first.stored?.syscalls).toContain(231); // exit_group
    const detail = first.stored!.detail as { files: { path: string }[]; pairs?: number[] };
    expect(detail.files[0]!.path).toBe(prog);
    // The digraph: ordered pairs of the set's calls, flattened (more pairs than calls: each call may follow itself).
    expect(detail.pairs!.length % 2).toBe(0);
    expect(detail.pairs!.every((n) => first.stored!.syscalls.includes(n))).toBe(true);
    expect(detail.pairs!.length / 2).toBeGreaterThan(first.stored!.syscalls.length);
    expect(detail.files.length).toBeGreaterThan(1); // and its libraries
    expect(first.stored!.analysedAt).toBe(1);
    const second = await run();
    expect(second.summary.static).toMatchObject({ analysed: 0, fromStore: 1, reanalysed: 0 });
    expect(second.stored!.analysedAt).toBe(1); // reused, not stored again
    // Rewritten in place (same inode, new times): the stored model no longer describes it.
    const later = new Date(Date.now() + 5000);
    writeFileSync(prog, readFileSync(prog));
    utimesSync(prog, later, later);
    const third = await run();
    expect(third.summary.static).toMatchObject({ analysed: 1, fromStore: 0, reanalysed: 1, impossibleCalls: 0 });
    expect(third.stored!.analysedAt).toBe(3); // the re-derived model replaced the stored one
    // A model stored by a set-only watch has no digraph: a watch that checks pairs derives it again.
    rmSync(join(dir, "state"), { recursive: true });
    const setOnly = await run(false);
    expect((setOnly.stored!.detail as { pairs?: number[] }).pairs).toBeUndefined();
    const withPairs = await run();
    expect(withPairs.summary.static).toMatchObject({ analysed: 1, fromStore: 0, reanalysed: 1, impossibleCalls: 0 });
    expect(withPairs.stored!.analysedAt).toBe(5);
    expect((withPairs.stored!.detail as { pairs?: number[] }).pairs!.length).toBeGreaterThan(0);
  });

  it.skipIf(spawnSync("cc", ["--version"]).status !== 0)(
    "a library upgraded under its program: the model is re-derived as the union of both versions (both may be mapped)",
    async () => {
      const lib = join(dir, "lib");
      const cc = (...args: string[]) => {
        const r = spawnSync("cc", args, { encoding: "utf8" });
        expect(r.status, r.stderr).toBe(0);
      };
      writeFileSync(join(dir, "v1.c"), "#include <unistd.h>\nint greet(void) { return getpgrp() > 0 ? 42 : 0; }\n");
      writeFileSync(join(dir, "v2.c"), "#include <unistd.h>\nint greet(void) { return getppid() > 0 ? 42 : 0; }\n");
      writeFileSync(join(dir, "main.c"), "int greet(void);\nint main(void) { return greet() == 42 ? 0 : 1; }\n");
      spawnSync("mkdir", ["-p", lib]);
      cc("-shared", "-fPIC", "-o", join(lib, "libgreet.so"), join(dir, "v1.c"));
      const prog = join(dir, "greeter");
      cc("-o", prog, join(dir, "main.c"), `-L${lib}`, "-lgreet", "-Wl,-rpath,$ORIGIN/lib");
      const st = statSync(prog);
      const key = `${prog}@${st.dev}:${st.ino}`;
      const run = async () => {
        const store = StateStore.open(join(dir, "upgrade-state"));
        const watch = startHostWatch({
          backend: "strace",
          command: [prog],
          store,
          staticModels: "alert",
          programOutput: "ignore",
        });
        const summary = await watch.done;
        const stored = store.loadStaticModel(key);
        store.close();
        return { summary, stored };
      };
      const before = await run();
      expect(before.summary.command?.exitCode).toBe(0);
      // v1 calls getpgrp (111), not getppid (110), and nothing else it links calls them.
      expect(before.stored?.syscalls).toContain(111);
      expect(before.stored?.syscalls).not.toContain(110);
      // The upgrade as a package manager does it: a new file renamed over the old one.
      cc("-shared", "-fPIC", "-o", join(lib, "libgreet.so.new"), join(dir, "v2.c"));
      renameSync(join(lib, "libgreet.so.new"), join(lib, "libgreet.so"));
      const after = await run();
      expect(after.summary.static).toMatchObject({ reanalysed: 1, analysed: 1, impossibleCalls: 0 });
      // v2 calls getppid instead; processes started before the upgrade may still run v1's getpgrp.
      expect(after.stored!.syscalls).toContain(110);
      expect(after.stored!.syscalls).toEqual(expect.arrayContaining(before.stored!.syscalls));
    },
  );
});
