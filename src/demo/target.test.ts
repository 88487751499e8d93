import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DemoConnection } from "./demoConnection.js";
import { runExploit } from "./exploitClient.js";
import { runNormalWorkload } from "./normalClient.js";
import { buildTarget, startTarget } from "./target.js";

let dir: string;
let binary: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), "homeostat-target-"));
  binary = await buildTarget(path.join(dir, "bin"));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Syscall names per traced process, from `strace -ff -o prefix` files (one file per pid, no pid column). */
function tracesByPid(prefix: string): Map<number, Set<string>> {
  const out = new Map<number, Set<string>>();
  const base = path.basename(prefix);
  for (const f of readdirSync(path.dirname(prefix))) {
    if (!f.startsWith(`${base}.`)) continue;
    const names = new Set<string>();
    for (const m of readFileSync(path.join(path.dirname(prefix), f), "utf8").matchAll(/^([a-z_][a-z0-9_]*)\(/gm)) {
      names.add(m[1]!);
    }
    out.set(Number(f.slice(base.length + 1)), names);
  }
  return out;
}

function union(sets: Iterable<Set<string>>): Set<string> {
  const u = new Set<string>();
  for (const s of sets) for (const n of s) u.add(n);
  return u;
}

describe("demo target", () => {
  it("is built as a fixed-address (non-PIE) x86-64 executable", () => {
    const elf = readFileSync(binary);
    expect(elf.readUInt32BE(0)).toBe(0x7f454c46);
    expect(elf.readUInt16LE(16)).toBe(2); // ET_EXEC; a PIE would be ET_DYN (3)
  });

  it("reports a missing compiler as E_DEPENDENCY with the package to install", async () => {
    await expect(buildTarget(path.join(dir, "x"), "homeostat-no-such-cc")).rejects.toMatchObject({
      code: "E_DEPENDENCY",
      message: expect.stringContaining("apt-get install gcc libc6-dev"),
    });
  });

  it("listens on 127.0.0.1 on the port it reports, one child process per session", async () => {
    const target = await startTarget({ binary, dataDir: path.join(dir, "data-a") });
    try {
      expect(target.port).toBeGreaterThan(0);
      expect(target.pid).toBe(target.process.pid);
      const conn = await DemoConnection.connect(target.port);
      conn.send("STATS\n");
      expect(await conn.readLine()).toMatch(/^STATS keys=0 commands=1 vmrss_kb=\d+$/);
      // The session is served by a child of the listener.
      const children = readFileSync(`/proc/${target.pid}/task/${target.pid}/children`, "utf8").trim().split(/\s+/);
      expect(children.length).toBe(1);
      conn.send("QUIT\n");
      expect(await conn.readLine()).toBe("BYE");
      conn.close();
      const tcp = readFileSync("/proc/net/tcp", "utf8");
      const hexPort = target.port.toString(16).toUpperCase().padStart(4, "0");
      expect(tcp).toContain(`0100007F:${hexPort} 00000000:0000 0A`); // LISTEN on 127.0.0.1 only
    } finally {
      await target.stop();
    }
  });

  it("an exploited session makes system calls that normal sessions never make (strace -ff)", async () => {
    const normalPrefix = path.join(dir, "strace-normal", "trace");
    const exploitPrefix = path.join(dir, "strace-exploit", "trace");
    const run = async (prefix: string, work: (port: number) => Promise<void>) => {
      const dataDir = path.join(path.dirname(prefix), "data");
      const target = await startTarget({ binary, dataDir, wrapper: ["strace", "-ff", "-qq", "-o", prefix] });
      try {
        await work(target.port);
      } finally {
        await target.stop();
      }
      const traces = tracesByPid(prefix);
      expect(traces.has(target.pid)).toBe(true);
      traces.delete(target.pid); // the listener: its execve is strace starting it
      return traces;
    };

    const normal = await run(normalPrefix, async (port) => {
      const report = await runNormalWorkload({ port, sessions: 30, seed: 3 });
      expect(report.mismatches).toEqual([]);
    });
    const proof = path.join(dir, "strace-exploit", "pwned");
    const exploited = await run(exploitPrefix, async (port) => {
      await runExploit({ port, binary, command: `id > ${proof}` });
    });
    expect(readFileSync(proof, "utf8")).toMatch(/^uid=/);

    expect(normal.size).toBe(30);
    const normalNames = union(normal.values());
    const exploitNames = union(exploited.values());
    const novel = [...exploitNames].filter((n) => !normalNames.has(n)).sort();
    console.log(`syscalls only in the exploited run: ${novel.join(", ")}`);
    expect(normalNames.has("execve")).toBe(false);
    expect(novel).toContain("execve");
    expect(novel).toContain("wait4");
    expect(novel.some((n) => n === "clone" || n === "clone3" || n === "vfork")).toBe(true);
    // The session that ran system() is one of the listener's children: its own trace already holds the new calls.
    const hijacked = [...exploited.values()].filter((s) => s.has("wait4"));
    expect(hijacked.length).toBeGreaterThanOrEqual(1);
  });
});
