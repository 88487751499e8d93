import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { delayFor, delayProcess, refusalReason } from "./graduatedDelay.js";
import { ManualClock } from "./testing/manualClock.js";
import { procState, until, untilState } from "./testing/waits.js";

describe("graduated delay (pH)", () => {
  it("delay = delay_factor x 2^LFC, 0 at LFC 0, capped", () => {
    const p = { delayFactorMs: 2, maxDelayMs: 1000 };
    expect([0, 1, 2, 5, 9, 10].map((l) => delayFor(l, p))).toEqual([0, 4, 8, 64, 1000, 1000]);
    expect(delayFor(5, { delayFactorMs: 0, maxDelayMs: 1000 })).toBe(0);
    expect(delayFor(10_000, p)).toBe(1000);
  });

  it("never acts on init, homeostat or its parent", () => {
    expect(refusalReason(1)).toMatch(/init/);
    expect(refusalReason(process.pid)).toMatch(/itself/);
    expect(refusalReason(process.ppid)).toMatch(/parent/);
    expect(refusalReason(2 ** 22 + 7)).toMatch(/does not exist/);
  });

  // kthreadd is pid 2 on a Linux host or VM (not inside a container, where pid 2 is an ordinary process).
  let comm = "";
  try {
    comm = readFileSync("/proc/2/comm", "utf8").trim();
  } catch {
    // no pid 2
  }
  it.skipIf(comm !== "kthreadd")("never acts on a kernel thread (kthreadd, pid 2; not seen inside a container)", () => {
    expect(refusalReason(2)).toBe("a kernel thread");
  });

  it("pauses a real process for the delay, and only it; dry runs and allow-lists do nothing", async () => {
    // A child that prints a tick every 10 ms. Time is a manual clock: the pause ends when the test advances it.
    const child = spawn(process.execPath, ["-e", "setInterval(() => process.stdout.write('.'), 10)"], {
      stdio: ["ignore", "pipe", "ignore"],
    });
    const pid = child.pid!;
    let ticks = 0;
    child.stdout!.on("data", (b: Buffer) => {
      ticks += b.length;
    });
    const sent: NodeJS.Signals[] = [];
    const kill = (p: number, signal: NodeJS.Signals) => {
      sent.push(signal);
      process.kill(p, signal);
    };
    const clock = new ManualClock();
    const policy = { delayFactorMs: 5, maxDelayMs: 10_000 };
    try {
      await until("the child's first tick", () => ticks > 0);
      expect(refusalReason(pid)).toBeNull();
      const allowed = await delayProcess(pid, 6, { ...policy, allow: [process.execPath] }, { kill, clock });
      expect(allowed.outcome).toBe("refused");
      expect(allowed.reason).toMatch(/^allow-listed executable /);
      const dry = await delayProcess(pid, 6, { ...policy, dryRun: true }, { kill, clock });
      expect(dry).toMatchObject({ outcome: "dry-run", delayMs: 320 });
      expect(sent).toEqual([]);
      expect(clock.pending()).toEqual([]);
      let settled = false;
      const pausing = delayProcess(pid, 6, policy, { kill, clock }).finally(() => {
        settled = true;
      });
      expect(sent).toEqual(["SIGSTOP"]);
      expect(clock.pending()).toEqual([320]);
      await untilState(pid, "T");
      clock.advance(319);
      await new Promise(setImmediate);
      expect(settled).toBe(false);
      expect(sent).toEqual(["SIGSTOP"]);
      expect(procState(pid)).toBe("T");
      clock.advance(1); // the pause is over: delayProcess resumes the process, then resolves
      expect(await pausing).toMatchObject({
        outcome: "paused",
        delayMs: 320,
        reason: "LFC 6: delay 320 ms = 5 ms x 2^6",
      });
      expect(sent).toEqual(["SIGSTOP", "SIGCONT"]);
      // Resumed: it runs and prints again.
      await untilState(pid, "S", "R");
      const resumedAt = ticks;
      await until("ticks after the pause", () => ticks > resumedAt + 2);
    } finally {
      child.kill("SIGKILL");
    }
  });

  it("by default pauses with process.kill and a real timer, and resumes", async () => {
    const child = spawn("sleep", ["30"], { stdio: "ignore" });
    try {
      await untilState(child.pid!, "S");
      const action = await delayProcess(child.pid!, 3, { delayFactorMs: 2, maxDelayMs: 1000 }); // 16 ms
      expect(action).toMatchObject({ outcome: "paused", delayMs: 16 });
      await untilState(child.pid!, "S");
    } finally {
      child.kill("SIGKILL");
    }
  });

  it("a signal it may not send (EPERM) fails with its reason; a process gone before its pause (ESRCH) is refused as exited", async () => {
    const child = spawn("sleep", ["30"], { stdio: "ignore" });
    const pid = child.pid!;
    const failing = (code: string) => () => {
      throw Object.assign(new Error(`kill ${code}`), { code, syscall: "kill" });
    };
    const clock = new ManualClock();
    try {
      await untilState(pid, "S");
      const denied = await delayProcess(
        pid,
        2,
        { delayFactorMs: 5, maxDelayMs: 1000 },
        { kill: failing("EPERM"), clock },
      );
      expect(denied).toEqual({
        pid,
        lfc: 2,
        delayMs: 20,
        outcome: "failed",
        reason: `pid ${pid} could not be paused: SIGSTOP failed with EPERM (not permitted)`,
        error: "EPERM",
      });
      const gone = await delayProcess(
        pid,
        2,
        { delayFactorMs: 5, maxDelayMs: 1000 },
        { kill: failing("ESRCH"), clock },
      );
      expect(gone).toMatchObject({ outcome: "refused", reason: `pid ${pid} exited before it could be paused` });
      expect(clock.pending()).toEqual([]);
      expect(procState(pid)).toBe("S");
    } finally {
      child.kill("SIGKILL");
    }
  });
});
