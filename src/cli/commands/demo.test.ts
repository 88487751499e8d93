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

  it.skipIf(reason !== undefined)("--json: the last stdout line is the result; exit 0; the report is written", { timeout: 120_000 }, () => {
    const report = join(dir, "demo.html");
    const r = spawnSync(process.execPath, [BIN, "demo", "--json", "--report", report], { encoding: "utf8", cwd: dir });
    expect(r.status, r.stderr).toBe(0);
    const last = r.stdout.trim().split("\n").pop()!;
    const out = JSON.parse(last);
    expect(out).toMatchObject({ exploitDetected: true, exploitSucceeded: true, falseAlarms: 0, normalSessions: 64, heldOutSessions: 10 });
    expect(out.firstAlarm.window.length).toBeGreaterThan(0);
    expect(existsSync(report)).toBe(true);
  });

  it("without strace on PATH: one line naming the package to install, exit 2", () => {
    const r = spawnSync(process.execPath, [BIN, "demo"], { encoding: "utf8", cwd: dir, env: { PATH: dir, NO_COLOR: "1" } });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain("apt-get install strace");
  });
});
