import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { captureStrace, straceUnavailableReason } from "../../ingest/testing/straceCapture.js";
import { ADFA_DIR, BIN, skipWithout } from "../../testing/paths.js";

function run(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const unavailable = straceUnavailableReason();
if (unavailable !== undefined) console.log(`skipping detect CLI tests: ${unavailable}`);

describe.skipIf(unavailable !== undefined)("homeostat detect", () => {
  const dir = mkdtempSync(join(tmpdir(), "homeostat-detect-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const trace = join(dir, "cat.txt");
  writeFileSync(trace, captureStrace(["-f"], ["cat", "/etc/hostname"]).text);
  const profile = join(dir, "cat.profile");
  expect(run(["train", "--model", "stide:k=6", "-o", profile, trace]).code).toBe(0);

  it("exit 0 and no alarm for the trained behaviour; the program's output is its own", () => {
    const r = run(["detect", "-p", profile, "--", "cat", "/etc/hostname"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/no alarm/);
    expect(r.stderr).not.toMatch(/warning/);
  });

  it("exit 1 and JSON alarm lines naming the window for other behaviour", () => {
    const r = run(["detect", "-p", profile, "--json", "--", "sh", "-c", "cat /etc/hostname; ls /"]);
    expect(r.code).toBe(1);
    const lines = r.stdout
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as { type: string; window?: string[]; alarms?: number });
    const alarms = lines.filter((l) => l.type === "alarm");
    const summary = lines.find((l) => l.type === "summary")!;
    expect(alarms.length).toBeGreaterThan(0);
    expect(summary.alarms).toBe(alarms.length);
    expect(alarms[0]!.window!.every((n) => /^[a-z_0-9]+$/.test(n))).toBe(true);
  });

  it("usage errors exit 2", () => {
    expect(run(["detect", "-p", profile]).code).toBe(2);
    expect(run(["detect", "-p", profile, "--measure", "signal", "--", "true"]).code).toBe(2);
    expect(run(["detect", "-p", join(dir, "missing"), "--", "true"]).code).toBe(2);
  });
});

const ADFA_TRACE = join(ADFA_DIR, "Training_Data_Master", "UTD-0003.txt");
const noAdfa = unavailable !== undefined || skipWithout(ADFA_TRACE);
if (!noAdfa && process.arch !== "x64") console.log(`skipping the ABI warning test: ${process.arch} is not x86_64`);

describe.skipIf(noAdfa || process.arch !== "x64")("homeostat detect with a profile of another ABI", () => {
  const dir = mkdtempSync(join(tmpdir(), "homeostat-detect-abi-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("warns once, in one line on stderr, that an ADFA-LD (i386) profile does not fit an x86_64 program", () => {
    const profile = join(dir, "adfa.profile");
    expect(run(["train", "--model", "stide:k=6", "-o", profile, ADFA_TRACE]).code).toBe(0);
    for (const json of [false, true]) {
      const r = run(["detect", "-p", profile, ...(json ? ["--json"] : []), "--", "cat", "/etc/hostname"]);
      expect(r.code).toBe(1);
      const warnings = r.stderr.split("\n").filter((l) => l.includes("warning"));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(
        new RegExp(
          `^homeostat: warning: profile ${profile} looks trained on i386 traces \\(\\d+ of its \\d+ call names`,
        ),
      );
      expect(warnings[0]).toMatch(/mmap2.*but the program runs as x86_64/);
      expect(r.stdout).not.toMatch(/warning/);
    }
  });
});
