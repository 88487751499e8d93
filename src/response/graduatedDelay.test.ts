import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { delayFor, delayProcess, refusalReason } from "./graduatedDelay.js";

describe("graduated delay (pH)", () => {
  it("delay = delay_factor x 2^LFC, 0 at LFC 0, capped", () => {
    const p = { delayFactorMs: 2, maxDelayMs: 1000 };
    expect([0, 1, 2, 5, 9, 10].map((l) => delayFor(l, p))).toEqual([0, 4, 8, 64, 1000, 1000]);
    expect(delayFor(5, { delayFactorMs: 0, maxDelayMs: 1000 })).toBe(0);
    expect(delayFor(10_000, p)).toBe(1000);
  });

  it("never acts on init, kernel threads, homeostat or its parent", () => {
    expect(refusalReason(1)).toMatch(/init/);
    // kthreadd is pid 2 on a Linux host or VM (not inside a container, where pid 2 is an ordinary process).
    let comm = "";
    try {
      comm = readFileSync("/proc/2/comm", "utf8").trim();
    } catch {
      // no pid 2
    }
    if (comm === "kthreadd") expect(refusalReason(2)).toMatch(/kernel thread/);
    else console.log("no kthreadd at pid 2 here (a container?): the kernel-thread check is not exercised");
    expect(refusalReason(process.pid)).toMatch(/itself/);
    expect(refusalReason(process.ppid)).toMatch(/parent/);
    expect(refusalReason(2 ** 22 + 7)).toMatch(/does not exist/);
  });

  it("pauses a real process for the delay, and only it; dry runs and allow-lists do nothing", async () => {
    // A child that prints a tick every 10 ms: while paused it prints nothing.
    const child = spawn(process.execPath, ["-e", "setInterval(() => process.stdout.write('.'), 10)"], {
      stdio: ["ignore", "pipe", "ignore"],
    });
    let ticks = 0;
    child.stdout!.on("data", (b: Buffer) => {
      ticks += b.length;
    });
    try {
      await new Promise((r) => setTimeout(r, 300));
      expect(refusalReason(child.pid!)).toBeNull();
      const allowed = await delayProcess(child.pid!, 6, { delayFactorMs: 5, maxDelayMs: 10_000, allow: [process.execPath] });
      expect(allowed.outcome).toBe("refused");
      const dry = await delayProcess(child.pid!, 6, { delayFactorMs: 5, maxDelayMs: 10_000, dryRun: true });
      expect(dry).toMatchObject({ outcome: "dry-run", delayMs: 320 });
      const before = ticks;
      const t0 = performance.now();
      const action = await delayProcess(child.pid!, 6, { delayFactorMs: 5, maxDelayMs: 10_000 });
      const paused = performance.now() - t0;
      const during = ticks - before;
      expect(action).toMatchObject({ outcome: "paused", delayMs: 320 });
      expect(paused).toBeGreaterThanOrEqual(300);
      // At most a tick or two already in flight when SIGSTOP landed; 30 would arrive in 320 ms unpaused.
      expect(during).toBeLessThan(10);
      const after = ticks;
      await new Promise((r) => setTimeout(r, 200));
      expect(ticks - after).toBeGreaterThan(3); // resumed
    } finally {
      child.kill("SIGKILL");
    }
  });
});
