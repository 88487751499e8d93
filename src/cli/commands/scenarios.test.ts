import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { commandExists, straceUnavailableReason } from "../../ingest/testing/straceCapture.js";
import { BIN } from "../../testing/paths.js";

const reason = straceUnavailableReason() ?? (commandExists("perl") ? undefined : "perl is not installed");
if (reason !== undefined) console.log(`skipping the scenarios CLI build: ${reason}`);

const dir = mkdtempSync(join(tmpdir(), "homeostat-scenarios-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function homeostat(...args: string[]) {
  return spawnSync(process.execPath, [BIN, ...args], {
    encoding: "utf8",
    cwd: dir,
    env: { ...process.env, NO_COLOR: "1" },
  });
}

describe("homeostat scenarios (the CLI)", () => {
  it("--help describes build and list", () => {
    const r = homeostat("scenarios", "--help");
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/build/);
    expect(r.stdout).toMatch(/list/);
    const b = homeostat("scenarios", "build", "--help");
    expect(b.status).toBe(0);
    for (const option of ["--seed", "--size", "--programs", "--jobs", "--json"]) expect(b.stdout).toContain(option);
  });

  it("list says which programs can be recorded here", () => {
    const r = homeostat("scenarios", "list", "--json");
    expect(r.status).toBe(0);
    const rows = JSON.parse(r.stdout) as { name: string; available: boolean; reason?: string }[];
    expect(rows.map((x) => x.name)).toEqual(["nginx", "python-http", "git", "make-gcc", "perl", "openssl", "kvserver"]);
    for (const row of rows) if (!row.available) expect(row.reason).toMatch(/not installed/);
  });

  it("refuses a non-empty output folder, an unknown program and an unwritable path: one line, exit 2", () => {
    const full = join(dir, "full");
    mkdirSync(full);
    writeFileSync(join(full, "x"), "");
    const file = join(dir, "plain-file");
    writeFileSync(file, "");
    for (const args of [
      [full],
      [join(dir, "new"), "--programs", "perl,tar"],
      [join(file, "out"), "--programs", "perl"],
      [join(dir, "n2"), "--size", "huge"],
    ]) {
      const r = homeostat("scenarios", "build", ...args);
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toMatch(/^homeostat: error \[E_USAGE\]/);
    }
  });

  it.skipIf(reason !== undefined)(
    "--json prints the manifest of a small build, which inspect reads",
    { timeout: 120_000 },
    () => {
      const out = join(dir, "small");
      const r = homeostat("scenarios", "build", out, "--size", "small", "--programs", "perl", "--seed", "5", "--json");
      expect(r.status, r.stderr).toBe(0);
      const manifest = JSON.parse(r.stdout);
      expect(manifest).toMatchObject({
        schema: "homeostat-scenarios/1",
        seed: 5,
        size: "small",
        programs: [{ name: "perl" }],
      });
      expect(r.stderr).toBe("");
      const inspect = homeostat("inspect", "--json", join(out, "perl"));
      expect(inspect.status, inspect.stderr).toBe(0);
      expect(JSON.parse(inspect.stdout.trim().split("\n").pop()!)).toBeTruthy();
    },
  );
});
