import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { commandExists, straceUnavailableReason } from "../../ingest/testing/straceCapture.js";
import { BIN } from "../../testing/paths.js";

const reason = straceUnavailableReason() ?? (commandExists("cc") ? undefined : "no C compiler");
if (reason !== undefined) console.log(`skipping the demo CLI run: ${reason}`);

describe("homeostat demo (the CLI)", () => {
  const dir = mkdtempSync(join(tmpdir(), "homeostat-demo-cli-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.skipIf(reason !== undefined)(
    "--json: the last stdout line is the result; exit 0; the report is written",
    { timeout: 120_000 },
    () => {
      const report = join(dir, "demo.html");
      // XDG_CACHE_HOME: the static analysis' build-id cache goes under the test's folder, not the user's.
      const r = spawnSync(process.execPath, [BIN, "demo", "--json", "--report", report], {
        encoding: "utf8",
        cwd: dir,
        env: { ...process.env, XDG_CACHE_HOME: dir },
      });
      expect(r.status, r.stderr).toBe(0);
      const last = r.stdout.trim().split("\n").pop()!;
      const out = JSON.parse(last);
      expect(out).toMatchObject({
        exploitDetected: true,
        exploitSucceeded: true,
        falseAlarms: 0,
        normalSessions: 64,
        heldOutSessions: 10,
      });
      expect(out.firstAlarm.window.length).toBeGreaterThan(0);
      expect(existsSync(report)).toBe(true);
      // The static model of the server, with no training: the exploit's calls outside it, none from normal sessions.
      expect(out.staticModel.normal.impossible).toEqual([]);
      expect(out.staticModel.exploit.impossible.map((c: { syscall: string }) => c.syscall)).toEqual(
        expect.arrayContaining(["execve", "wait4"]),
      );
    },
  );

  it.skipIf(reason !== undefined)(
    "the story has one line on what the static model says about the exploit, with zero training",
    { timeout: 120_000 },
    () => {
      const report = join(dir, "demo-text.html");
      const r = spawnSync(process.execPath, [BIN, "demo", "--report", report], {
        encoding: "utf8",
        cwd: dir,
        env: { ...process.env, XDG_CACHE_HOME: dir, NO_COLOR: "1" },
      });
      expect(r.status, r.stderr).toBe(0);
      const lines = r.stdout.split("\n").filter((l) => l.startsWith("static model (no training): "));
      expect(lines, r.stdout).toHaveLength(1);
      const line = lines[0]!;
      // Measured on glibc 2.36: clone3, execve and wait4 from the hijacked system(); each session's fork is clone,
      // which the server's set holds.
      expect(line).toMatch(
        /the server's code can make \d+ system calls; the 10 held-out normal sessions made none outside them; the exploit made \d+ it cannot: .*execve/,
      );
      expect(line).toContain("wait4");
      expect(line).toMatch(/\(first \w+ at call \d+ of pid \d+\)$/);
    },
  );

  it("without strace on PATH: one line naming the package to install, exit 3 (environment)", () => {
    const r = spawnSync(process.execPath, [BIN, "demo"], {
      encoding: "utf8",
      cwd: dir,
      env: { PATH: dir, NO_COLOR: "1" },
    });
    expect(r.status).toBe(3);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain("apt-get install strace");
  });
});
