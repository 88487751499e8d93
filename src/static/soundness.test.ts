// Soundness of the static models on real programs of this machine: every system call strace sees a program make,
// over workloads defined here, is in its static set, and every consecutive pair is in its digraph (Wagner & Dean's
// claim: no false alarm by construction). A miss is a bug in the analysis, never something to tolerate.

import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { analyzeProgram } from "./staticAnalysis.js";
import { memoryCache } from "./summaryCache.js";
import type { StaticModel } from "./staticModel.js";
import { missingCalls, missingPairs, observeCalls } from "./testing/observedCalls.js";

const hasStrace = spawnSync("strace", ["-V"]).status === 0;
const cache = memoryCache();
let work = "";

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "homeostat-soundness-"));
  mkdirSync(join(work, "tree/sub"), { recursive: true });
  for (let i = 0; i < 5; i++) writeFileSync(join(work, `tree/sub/f${i}.txt`), `line ${i}\n`.repeat(50 * (i + 1)));
  writeFileSync(join(work, "data.txt"), "alpha 1\nbeta 2\ngamma 3\n");
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

function check(
  program: string,
  workloads: string[][],
  options: { plugins?: string[]; input?: string } = {},
): StaticModel {
  const model = analyzeProgram(program, {
    digraph: true,
    cache,
    ...(options.plugins ? { plugins: options.plugins } : {}),
  });
  for (const argv of workloads) {
    const seen = observeCalls([program, ...argv], { cwd: work, ...(options.input ? { input: options.input } : {}) });
    expect(seen.unknown, `${argv.join(" ")}: names strace printed`).toEqual([]);
    expect(
      seen.streams.some((s) => s.length > 10),
      `${argv.join(" ")}: something was traced`,
    ).toBe(true);
    expect(missingCalls(seen, model.syscalls), `${program} ${argv.join(" ")}: calls outside the static set`).toEqual(
      [],
    );
    expect(missingPairs(seen, model.pairs ?? []), `${program} ${argv.join(" ")}: pairs outside the digraph`).toEqual(
      [],
    );
  }
  return model;
}

describe.skipIf(!hasStrace)("static models contain what real programs do", () => {
  it("cat", () => {
    const m = check("/usr/bin/cat", [["data.txt"], ["-n", "tree/sub/f1.txt", "data.txt"], ["no-such-file"], ["-"]], {
      input: "from stdin\n",
    });
    expect(m.complete).toBe(true);
    for (const call of ["execve", "fork", "vfork", "clone3", "socket"]) expect(m.names).not.toContain(call);
  });

  it("ls", () => {
    check("/usr/bin/ls", [
      ["-la", "/usr/lib"],
      ["-R", "tree"],
      ["--color=always", "-l", "/dev"],
      ["-l", "/nonexistent"],
    ]);
  });

  it("tar", () => {
    check("/usr/bin/tar", [
      ["cf", "t.tar", "tree"],
      ["tf", "t.tar"],
      ["xf", "t.tar", "-C", "/tmp/.."],
      ["czf", "t.tgz", "tree"],
    ]);
  });

  it("find", () => {
    check("/usr/bin/find", [
      ["tree", "-name", "*.txt"],
      ["tree", "-newer", "data.txt", "-size", "+1k"],
      ["tree", "-exec", "true", "{}", ";"],
    ]);
  });

  it("mawk", () => {
    check("/usr/bin/mawk", [
      ["{ s += $2 } END { print s }", "data.txt"],
      ['BEGIN { system("true"); "echo hi" | getline x; print x > "out.txt" }'],
    ]);
  });

  it.skipIf(!existsSync("/usr/bin/sqlite3"))("sqlite3", () => {
    const script = "create table t(a, b); insert into t values (1, 'x'), (2, 'y'); select * from t; .dump\n";
    check("/usr/bin/sqlite3", [["db.sqlite"]], { input: script });
  });

  it("bash", () => {
    check("/usr/bin/bash", [
      ["-c", "for i in 1 2 3; do echo $i; done; x=$(echo hi); ls > /dev/null; cd tree && pwd"],
      ["-c", "trap 'echo got' USR1; kill -USR1 $$; read -t 0 y; echo ${#y}; ulimit -a > /dev/null"],
    ]);
  });

  const dynload = existsSync("/usr/lib") ? readdirSync("/usr/lib").filter((d) => /^python3\.\d+$/.test(d)) : [];
  it.skipIf(dynload.length === 0 || !existsSync("/usr/bin/python3"))("python3 with its lib-dynload plugins", () => {
    const plugins = dynload.map((d) => join("/usr/lib", d, "lib-dynload")).filter((d) => existsSync(d));
    const py =
      "import json, mmap, os, socket, hashlib, zlib\n" +
      "m = mmap.mmap(-1, 4096); m.write(b'x'); m.flush(); os.fdatasync(os.open('p.txt', os.O_CREAT | os.O_WRONLY))\n" +
      "s = socket.socket(); s.close(); print(json.dumps({'h': hashlib.sha256(zlib.compress(b'a')).hexdigest()}))\n";
    const m = check(
      "/usr/bin/python3",
      [
        ["-c", py],
        ["-c", "import subprocess; subprocess.run(['true'])"],
      ],
      { plugins },
    );
    expect(m.dlopen).toEqual([]);
  });
});

// The set must not say a program can do what it cannot: a program compiled here with no fork, exec or network code.
describe.skipIf(spawnSync("cc", ["--version"]).status !== 0)("precision on a compiled program", () => {
  it("a program that only reads and writes has no execve, fork, vfork, clone3 or socket", () => {
    const src = join(work, "rw.c");
    writeFileSync(
      src,
      "#include <unistd.h>\nint main(void){char b[64];ssize_t n=read(0,b,sizeof b);if(n>0)write(1,b,n);return 0;}\n",
    );
    for (const flags of [[], ["-static"], ["-no-pie"]]) {
      const exe = join(work, `rw${flags.join("")}`);
      execFileSync("cc", ["-O2", ...flags, "-o", exe, src]);
      const m = analyzeProgram(exe, { cache });
      for (const call of ["execve", "fork", "vfork", "clone3", "socket"])
        expect(m.names, `${flags} ${call}`).not.toContain(call);
      for (const call of ["read", "write", "exit_group"]) expect(m.names, `${flags} ${call}`).toContain(call);
    }
  });
});
