// One writer per state directory, end to end: a second `homeostat watch` on the state directory of a running one
// refuses to start (exit 3, one line naming the first's pid), and the first's training is kept.
import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { BIN } from "../testing/paths.js";

const hasStrace = spawnSync("strace", ["-V"]).status === 0;
const dir = mkdtempSync(join(tmpdir(), "homeostat-watch-lock-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!hasStrace)("homeostat watch: one writer per state directory", () => {
  it("refuses a second watch on the same state directory, naming the first's pid, and the first ends normally", async () => {
    const state = join(dir, "state");
    // The first watch runs a command that waits for its stdin to close: it holds the lock until the test lets go.
    const first = spawn(BIN, ["watch", "--backend", "strace", "--state", state, "--json", "--", "cat"], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    const exited = once(first, "exit");
    let err = "";
    first.stderr!.setEncoding("utf8").on("data", (d: string) => (err += d));
    first.stdout!.resume();
    // Its pid file appears once the lock is held (an event to wait for; bounded by the test's timeout).
    const pidFile = join(state, "watch.pid");
    while (!existsSync(pidFile) || readFileSync(pidFile, "utf8").trim() !== String(first.pid)) {
      if (first.exitCode !== null) throw new Error(`the first watch ended early: ${err}`);
      await new Promise((r) => setImmediate(r));
    }
    const second = spawnSync(BIN, ["watch", "--backend", "strace", "--state", state, "--", "true"], {
      encoding: "utf8",
    });
    expect(second.status).toBe(3);
    expect(second.stderr).toBe(
      `homeostat: error [E_LOCKED]: ${state}: the state directory is in use by homeostat watch (pid ${first.pid}); one watch per state directory (--state picks another)\n`,
    );
    first.stdin!.end();
    const [code] = await exited;
    expect(code, err).toBe(0);
    // A third, after the first ended, starts.
    const third = spawnSync(BIN, ["watch", "--backend", "strace", "--state", state, "--", "true"], {
      encoding: "utf8",
    });
    expect(third.status, third.stderr).toBe(0);
  }, 60_000);
});
