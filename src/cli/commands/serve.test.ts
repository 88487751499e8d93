// `homeostat serve` as a user runs it (the built CLI): usage errors for a non-loopback address without a token and
// for a bad token file; and a console started on a port the system picks, serving its overview, that closes cleanly
// on SIGTERM.

import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { makeConsoleState } from "../../serve/testing/consoleState.js";
import { BIN } from "../../testing/paths.js";

function run(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("homeostat serve", () => {
  const state = makeConsoleState();
  const dir = mkdtempSync(join(tmpdir(), "homeostat-serve-cli-"));
  afterAll(() => {
    state.remove();
    rmSync(dir, { recursive: true, force: true });
  });

  it("refuses a non-loopback --listen without a token, and a short token", () => {
    const open = run(["serve", "--state", state.dir, "--listen", "0.0.0.0:0"]);
    expect(open.code).toBe(2);
    expect(open.stderr).toMatch(/E_USAGE.*not a loopback address.*--token-file/);
    const short = join(dir, "short");
    writeFileSync(short, "abc\n");
    const weak = run(["serve", "--state", state.dir, "--listen", "0.0.0.0:0", "--token-file", short]);
    expect(weak.code).toBe(2);
    expect(weak.stderr).toMatch(/E_USAGE.*16 characters/);
    expect(run(["serve", "--state", state.dir, "--listen", "127.0.0.1:99999"]).code).toBe(2);
    expect(run(["serve", "--state", join(dir, "none")]).code).toBe(2); // E_NOT_FOUND: no state database
  });

  it("serves the overview on the port the system picks, and closes on SIGTERM", async () => {
    const child = spawn(process.execPath, [BIN, "serve", "--state", state.dir, "--listen", "127.0.0.1:0"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    const url = await new Promise<string>((resolve, reject) => {
      child.stderr.on("data", (chunk: Buffer) => {
        stderr += chunk.toString();
        const m = /console at (http:\/\/\S+\/)/.exec(stderr);
        if (m !== null) resolve(m[1]!);
      });
      child.once("exit", () => reject(new Error(`serve ended: ${stderr}`)));
    });
    console.log(`homeostat serve listening at ${url}`);
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("Overview");
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(stderr).toContain("console closed");
  });
});
