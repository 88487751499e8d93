import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN } from "../../testing/paths.js";

function run(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("homeostat mimicry", () => {
  const dir = mkdtempSync(join(tmpdir(), "homeostat-mimicry-"));
  const profile = join(dir, "stide.profile");
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  beforeAll(() => {
    // ADFA-LD's format (i386 numbers): open read write close, and open read read close.
    const traces = join(dir, "Training_Data_Master");
    mkdirSync(traces);
    writeFileSync(join(traces, "UTD-0001.txt"), "5 3 4 6 ");
    writeFileSync(join(traces, "UTD-0002.txt"), "5 3 3 6 ");
    const r = run(["train", "-m", "stide:k=3", "-o", profile, traces]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
  });

  it("names the shortest unseen sequence, in the profile's call names", () => {
    const r = run(["mimicry", "-p", profile, "--goal", "close", "--start", "open,read", "--json"]);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(out).toMatchObject({ model: "stide:k=3", goal: ["close"], start: ["open", "read"], found: true });
    expect((out.sequence as string[]).length).toBe(2);
    expect(out.sequence).toEqual([expect.stringMatching(/^(read|write)$/), "close"]);
  });

  it("proves that a call never seen cannot be reached unseen", () => {
    const r = run(["mimicry", "-p", profile, "--goal", "execve", "--start", "open,read"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/no sequence after open, read reaches execve without an anomaly/);
    expect(r.stdout).toMatch(/a proof: all \d+ reachable states explored/);
    const json = JSON.parse(
      run(["mimicry", "-p", profile, "--goal", "execve", "--start", "open,read", "--json"]).stdout,
    );
    expect(json).toMatchObject({ found: false, complete: true, sequence: [] });
  });

  it("refuses an empty call name with a usage error", () => {
    const r = run(["mimicry", "-p", profile, "--goal", "execve,"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/E_USAGE.*--goal must be call names/);
  });
});
