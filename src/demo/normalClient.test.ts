import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DemoConnection } from "./demoConnection.js";
import { COMMAND_KINDS, fnv1a32, runNormalWorkload } from "./normalClient.js";
import { buildTarget, type RunningTarget, startTarget } from "./target.js";

let dir: string;
let target: RunningTarget;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), "homeostat-normal-"));
  const binary = await buildTarget(path.join(dir, "bin"));
  target = await startTarget({ binary, dataDir: path.join(dir, "data") });
});

afterAll(async () => {
  await target?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("normalClient", () => {
  it("fnv1a32 matches the published FNV-1a test vectors", () => {
    expect(fnv1a32(Buffer.from(""))).toBe(0x811c9dc5);
    expect(fnv1a32(Buffer.from("a"))).toBe(0xe40c292c);
    expect(fnv1a32(Buffer.from("foobar"))).toBe(0xbf9cf968);
  });

  it("runs sessions whose replies all match the model of the server, covering every command", async () => {
    const report = await runNormalWorkload({ port: target.port, sessions: 40, seed: 7 });
    expect(report.mismatches).toEqual([]);
    expect(report.sessions).toBe(40);
    for (const kind of COMMAND_KINDS) expect(report.counts[kind], kind).toBeGreaterThan(0);
  });

  it("is reproducible for a seed and varies with it", async () => {
    const a = await runNormalWorkload({ port: target.port, sessions: 5, seed: 11 });
    const b = await runNormalWorkload({ port: target.port, sessions: 5, seed: 11 });
    const c = await runNormalWorkload({ port: target.port, sessions: 5, seed: 12 });
    expect(b.counts).toEqual(a.counts);
    expect(c.counts).not.toEqual(a.counts);
  });

  it("detects a wrong reply (the model is not a tautology)", async () => {
    // A hand-driven session: the server's real replies for a fixed script, checked literally.
    const conn = await DemoConnection.connect(target.port);
    conn.send(
      "SET k1 hello world\nGET k1\nGET nope\nSET k2 x\nLIST\nDEL k1\nDEL k1\nBLOB 3\nabcECHO  two  spaces\nQUIT\n",
    );
    const lines: string[] = [];
    for (let i = 0; i < 12; i++) lines.push(await conn.readLine());
    await conn.waitClosed();
    conn.close();
    expect(lines).toEqual([
      "OK",
      "VALUE hello world",
      "NOTFOUND",
      "OK",
      "KEYS 2",
      "KEY k1",
      "KEY k2",
      "DELETED",
      "NOTFOUND",
      `BLOB 3 ${fnv1a32(Buffer.from("abc")).toString(16).padStart(8, "0")}`,
      "ECHO  two  spaces",
      "BYE",
    ]);
  });
});
