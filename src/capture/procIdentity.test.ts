// identifyProcess against a process that execs all the time: every identity it gives pairs a path with that
// path's own device and inode, never the path of the program after an exec with the file of the one before (the
// race that once keyed a profile as `/usr/bin/cat` with the inode of the shell that was about to become cat).

import { spawn, spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdtempSync, realpathSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { identifyExecTarget, identifyFile, identifyProcess } from "./procIdentity.js";
import { execIdentity } from "./straceHostCapture.js";

const HOPPER = String.raw`
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
/* argv: self other n. Execs the other copy (which execs this one back) until n reaches 0. */
int main(int argc, char **argv) {
  if (argc < 4) return 2;
  long n = atol(argv[3]);
  if (n <= 0) return 0;
  char next[32];
  snprintf(next, sizeof next, "%ld", n - 1);
  execl(argv[2], argv[2], argv[2], argv[1], next, (char *)0);
  return 1;
}
`;

const noCompiler = spawnSync("cc", ["--version"]).status !== 0 ? "no C compiler (apt-get install gcc)" : undefined;
if (noCompiler !== undefined) console.log(`skipping procIdentity exec race: ${noCompiler}`);

describe.skipIf(noCompiler !== undefined)("identifyProcess", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "homeostat-procid-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("never pairs one program's path with another's file while the process execs", { timeout: 120_000 }, async () => {
    writeFileSync(path.join(dir, "hop.c"), HOPPER);
    const a = path.join(dir, "hop-a");
    const b = path.join(dir, "hop-b");
    const cc = spawnSync("cc", ["-O1", "-o", a, path.join(dir, "hop.c")], { encoding: "utf8" });
    expect(cc.status, cc.stderr).toBe(0);
    copyFileSync(a, b); // the same code, another inode
    const inodes = new Map([a, b].map((p) => [p, statSync(p).ino]));
    const child = spawn(a, [a, b, "5000"], { stdio: "ignore" });
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    let seen = 0;
    const mismatched: string[] = [];
    // A synchronous loop: the child runs on its own while this reads /proc as fast as it can; it ends when the
    // child is gone (a zombie has no executable to read).
    for (let i = 0; i < 2_000_000; i++) {
      const id = identifyProcess(child.pid!);
      if (id === undefined) {
        if (i > 0 && seen > 0) break;
        continue;
      }
      if (id.path !== a && id.path !== b) continue; // the moment before the first exec
      seen++;
      if (inodes.get(id.path) !== id.ino) mismatched.push(`${id.path} with inode ${id.ino}`);
    }
    expect(await exited).toBe(0);
    expect(seen).toBeGreaterThan(100);
    expect(mismatched).toEqual([]);
    expect(identifyFile(a)).toEqual({ path: a, dev: statSync(a).dev, ino: inodes.get(a) });
  });
});

describe("identifyExecTarget and an exec note's identity", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "homeostat-exectarget-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const sh = identifyFile("/bin/sh")!;

  it("names the file an exec ran, not what /proc shows now (the task may have exec'd again since)", () => {
    // This test process runs node; an exec note of /bin/sh read late must still name the shell.
    expect(identifyProcess(process.pid)!.ino).not.toBe(sh.ino);
    expect(execIdentity(process.pid, "/bin/sh")).toEqual(sh);
    // When /proc agrees with the file, /proc's own answer is taken.
    expect(execIdentity(process.pid, process.execPath)).toEqual(identifyProcess(process.pid));
    // No file named: /proc's answer.
    expect(execIdentity(process.pid, undefined)).toEqual(identifyProcess(process.pid));
  });

  it("follows #! to the interpreter, as the kernel does, also through a script interpreter", () => {
    const script = path.join(dir, "run.sh");
    writeFileSync(script, "#!/bin/sh -e\necho hi\n");
    chmodSync(script, 0o755);
    expect(identifyExecTarget(process.pid, script)).toEqual(sh);
    const outer = path.join(dir, "outer");
    writeFileSync(outer, `#! ${script}\n`);
    expect(identifyExecTarget(process.pid, outer)).toEqual(sh);
    const loop = path.join(dir, "loop");
    writeFileSync(loop, `#!${loop}\n`);
    expect(identifyExecTarget(process.pid, loop)).toBeUndefined();
  });

  it("resolves a relative path in the task's working directory", () => {
    const bin = path.join(dir, "mine");
    copyFileSync(realpathSync("/bin/sh"), bin);
    const rel = path.relative(process.cwd(), bin);
    expect(identifyExecTarget(process.pid, rel)).toEqual(identifyFile(bin));
    expect(identifyExecTarget(process.pid, path.join(dir, "absent"))).toBeUndefined();
  });
});
