import { mkdtempSync, realpathSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { straceUnavailableReason } from "../ingest/testing/straceCapture.js";
import { StateStore } from "../store/stateStore.js";
import { profileRecord, restoreProfile, startHostWatch } from "./hostWatch.js";

const unavailable = straceUnavailableReason();
if (unavailable !== undefined) console.log(`skipping hostWatch tests: ${unavailable}`);

describe.skipIf(unavailable !== undefined)("startHostWatch (strace backend, real store)", () => {
  const dir = mkdtempSync(join(tmpdir(), "homeostat-hostwatch-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("picks up an administrator's change to a stored profile while running, instead of overwriting it", async () => {
    const state = join(dir, "state");
    const store = StateStore.open(state);
    const sh = realpathSync("/bin/sh");
    const st = statSync(sh);
    const key = `${sh}@${st.dev}:${st.ino}`;
    const watch = startHostWatch({
      backend: "strace",
      command: ["/bin/sh", "-c", "i=0; while [ $i -lt 40 ]; do i=$((i+1)); sleep 0.05; done"],
      store,
      saveIntervalMs: 200,
      pollIntervalMs: 100,
      programOutput: "ignore",
    });
    // Wait until the shell's profile is stored, then normalize it as `homeostat profiles normalize` would.
    let adminVersion = 0;
    for (let i = 0; i < 100 && adminVersion === 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
      const admin = StateStore.open(state);
      const stored = admin.loadProfile(key);
      if (stored !== undefined) {
        const p = restoreProfile(stored.model, stored.blob, key);
        p.normalize();
        admin.saveProfiles([profileRecord(key, { path: sh, dev: st.dev, ino: st.ino }, p)]);
        adminVersion = stored.version + 1;
      }
      admin.close();
    }
    expect(adminVersion).toBeGreaterThan(0);
    const summary = await watch.done;
    expect(summary.reloaded).toBeGreaterThanOrEqual(1);
    expect(watch.monitor.profile(key)!.profile.state).toBe("normal");
    const after = store.loadProfile(key)!;
    store.close();
    expect(after.state).toBe("normal"); // the admin's normalize survived watch's later saves
    expect(after.version).toBeGreaterThanOrEqual(adminVersion);
    expect(summary.command?.exitCode).toBe(0);
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
