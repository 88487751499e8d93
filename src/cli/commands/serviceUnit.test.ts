// The systemd unit (packaging/homeostat-watch.service), checked as far as a machine without systemd as its init
// can: systemd's own verifier finds nothing to say about it (and does flag a broken copy, so the check can fail);
// its offline security analysis keeps the exposure it had when the hardening was chosen; and its ExecStart line,
// flags as written, runs a system-wide watch that serves metrics and stops cleanly (exit 0, profiles saved) on the
// SIGTERM that `systemctl stop` sends; and the npm package ships it.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { bpftraceUnavailableReason } from "../../capture/bpftraceCapture.js";
import { freePort } from "../../demo/demoRun.js";
import { BIN, REPO_ROOT } from "../../testing/paths.js";

const UNIT = join(REPO_ROOT, "packaging/homeostat-watch.service");
const unitText = readFileSync(UNIT, "utf8");

describe("packaging/homeostat-watch.service in the npm package", () => {
  it("is shipped, where the install line takes it from", () => {
    const r = spawnSync("npm", ["pack", "--dry-run", "--ignore-scripts", "--json"], {
      cwd: REPO_ROOT,
      encoding: "utf8",
    });
    expect(r.status, r.stderr).toBe(0);
    const files = (JSON.parse(r.stdout) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path);
    expect(files).toContain("packaging/homeostat-watch.service");
    expect(files).toContain("bin/homeostat");
  });
});

const noAnalyzer =
  spawnSync("systemd-analyze", ["--version"]).status !== 0
    ? "systemd-analyze is not installed (apt-get install systemd)"
    : undefined;
if (noAnalyzer !== undefined) console.log(`skipping the unit's systemd checks: ${noAnalyzer}`);

const dir = mkdtempSync(join(tmpdir(), "homeostat-unit-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The unit's ExecStart command line, split into words (the line has no quoting to honour). */
function execStart(): string[] {
  const line = /^ExecStart=(.+)$/m.exec(unitText)?.[1];
  expect(line).toBeDefined();
  expect(line).not.toMatch(/["'\\$%]/);
  return line!.trim().split(/\s+/);
}

/** A copy of the unit, its ExecStart naming this tree's executable (systemd checks that it exists). */
function localCopy(name: string, extra = ""): string {
  const [exe] = execStart();
  const file = join(dir, name);
  writeFileSync(file, unitText.replaceAll(`ExecStart=${exe}`, `ExecStart=${BIN}`) + extra);
  return file;
}

describe.skipIf(noAnalyzer !== undefined)("packaging/homeostat-watch.service under systemd-analyze", () => {
  it("verifies with nothing to say, where a broken copy is flagged", () => {
    const clean = spawnSync("systemd-analyze", ["verify", localCopy("homeostat-watch.service")], { encoding: "utf8" });
    expect({ status: clean.status, out: clean.stdout + clean.stderr }).toEqual({ status: 0, out: "" });
    const broken = localCopy("homeostat-broken.service", "BogusKey=1\n");
    const flagged = spawnSync("systemd-analyze", ["verify", broken], { encoding: "utf8" });
    expect(flagged.stdout + flagged.stderr).toMatch(/Unknown key 'BogusKey'/);
  });

  it("keeps its exposure (systemd-analyze security, offline) at or below the level it was hardened to", () => {
    const r = spawnSync(
      "systemd-analyze",
      ["security", "--offline=true", "--no-pager", localCopy("homeostat-watch.service")],
      {
        encoding: "utf8",
      },
    );
    const level = /Overall exposure level for \S+: ([\d.]+)/.exec(r.stdout)?.[1];
    expect(level, r.stdout + r.stderr).toBeDefined();
    console.log(`homeostat-watch.service: exposure ${level} (systemd-analyze security --offline)`);
    // Root with eBPF, ptrace and kill capabilities cannot go much lower; this bound catches a lost directive.
    expect(Number(level)).toBeLessThanOrEqual(4.5);
  });
});

const noBpftrace = bpftraceUnavailableReason();
describe.skipIf(noBpftrace !== undefined)("the unit's ExecStart command line", () => {
  it("watches the whole host, serves metrics, and on SIGTERM saves its profiles and exits 0", async () => {
    const state = join(dir, "state");
    const port = await freePort();
    const args = execStart().slice(1);
    // As written, but the state directory and the metrics port are this test's.
    const at = (flag: string) => args.indexOf(flag) + 1;
    expect(at("--state")).toBeGreaterThan(0);
    expect(at("--metrics")).toBeGreaterThan(0);
    args[at("--state")] = state;
    args[at("--metrics")] = `127.0.0.1:${port}`;
    const child: ChildProcess = spawn(process.execPath, [BIN, ...args], {
      stdio: ["ignore", "ignore", "pipe"],
      env: { ...process.env, NO_COLOR: "1" },
    });
    let err = "";
    child.stderr!.on("data", (b: Buffer) => (err += b.toString()));
    const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on("exit", (code, signal) => resolve({ code, signal })),
    );
    try {
      // --quiet says nothing when it is ready: the endpoint answering is the sign (bpftrace attaches first).
      const deadline = performance.now() + 60_000;
      let captured = 0;
      while (captured === 0 && child.exitCode === null && performance.now() < deadline) {
        const text = await fetch(`http://127.0.0.1:${port}/metrics`).then(
          (r) => r.text(),
          () => "",
        );
        // The system-wide capture sees this test's own calls at least.
        captured = Number(/^homeostat_events_captured_total (\d+)/m.exec(text)?.[1] ?? 0);
        if (captured === 0) await new Promise((r) => setTimeout(r, 50));
      }
      expect(child.exitCode, err).toBeNull();
      expect(captured, err).toBeGreaterThan(0);
    } finally {
      child.kill("SIGTERM");
    }
    const { code, signal } = await exit;
    expect({ code, signal }, err).toEqual({ code: 0, signal: null });
    expect(existsSync(join(state, "homeostat.db"))).toBe(true);
    const list = spawnSync(process.execPath, [BIN, "profiles", "list", "--json", "--state", state], {
      encoding: "utf8",
    });
    expect(list.status, list.stderr).toBe(0);
    expect((JSON.parse(list.stdout) as unknown[]).length).toBeGreaterThan(0);
  }, 120_000);
});
