// CLI tests of `homeostat static` and `detect --static`: they run the built package (`npm run build` first) on this
// machine's real binaries and on programs compiled here with gcc. One build-id cache per test file keeps the
// analysis of libc (about a second cold) to once.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { straceUnavailableReason } from "../../ingest/testing/straceCapture.js";
import { decodeProfile } from "../../models/profile.js";
import type { StaticCalls } from "../../models/staticCalls.js";
import type { SeccompProfile } from "../../response/seccompPolicy.js";
import type { StaticModel } from "../../static/index.js";
import { BIN } from "../../testing/paths.js";

const work = mkdtempSync(join(tmpdir(), "homeostat-static-cli-"));
const cacheDir = join(work, "cache");
afterAll(() => rmSync(work, { recursive: true, force: true }));
const at = (name: string): string => join(work, name);

function run(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: "utf8",
    cwd: work,
    env: { ...process.env, NO_COLOR: "1" },
    timeout: 120_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** `homeostat static` with the shared cache. */
function analyse(...args: string[]) {
  return run(["static", "--cache-dir", cacheDir, ...args]);
}

const CAT = "/bin/cat";
const haveGcc = spawnSync("gcc", ["--version"]).status === 0;
if (!haveGcc) console.log("skipped: the compiled fixtures need gcc (apt-get install gcc libc6-dev)");
const noStrace = straceUnavailableReason();
if (noStrace !== undefined) console.log(`skipped: ${noStrace}`);

// A static program without libc: three system calls in _start, so its digraph is small and its run is four calls.
const TINY_C = `
static long sys(long n, long a, long b, long c) {
  long r;
  __asm__ volatile ("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
  return r;
}
void _start(void) {
  static const char msg[] = "hi\\n";
  sys(1, 1, (long)msg, 3);
  sys(3, 0, 0, 0);
  sys(231, 0, 0, 0);
  for (;;) {}
}
`;

beforeAll(() => {
  if (!haveGcc) return;
  const gcc = (args: string[]): void =>
    void execFileSync("gcc", args, { cwd: work, stdio: ["ignore", "ignore", "pipe"] });
  writeFileSync(at("tiny.c"), TINY_C);
  gcc(["-O1", "-static", "-nostdlib", "-o", at("tiny"), at("tiny.c")]);
  writeFileSync(at("gone.c"), "int gone(void) { return 3; }\n");
  writeFileSync(at("main.c"), "int gone(void);\nint main(void) { return gone(); }\n");
  gcc(["-shared", "-fPIC", "-o", at("libgone.so"), at("gone.c")]);
  gcc(["-o", at("uses-gone"), at("main.c"), `-L${work}`, "-lgone", "-Wl,-rpath,$ORIGIN"]);
  rmSync(at("libgone.so"));
  writeFileSync(
    at("dl.c"),
    '#include <dlfcn.h>\nint main(int argc, char **argv) { return dlopen(argc > 1 ? argv[1] : "libm.so.6", RTLD_NOW) == 0; }\n',
  );
  gcc(["-o", at("dl"), at("dl.c")]);
});

describe("homeostat static on real binaries", () => {
  it("finds cat's read, write, openat and close, and reports the JSON model", () => {
    const r = analyse("--json", CAT);
    expect(r.code, r.stderr).toBe(0);
    const m = JSON.parse(r.stdout) as StaticModel;
    for (const name of ["read", "write", "openat", "close", "rt_sigreturn"]) expect(m.names).toContain(name);
    expect(m.program).toBe(CAT);
    expect(m.names.length).toBe(m.syscalls.length);
    expect([...m.syscalls].sort((a, b) => a - b)).toEqual(m.syscalls);
    expect(m.objects.find((o) => o.role === "main")?.path).toBe(CAT);
    expect(m.objects.some((o) => o.role === "library" && /libc\.so/.test(o.path))).toBe(true);
    expect(typeof m.complete).toBe("boolean");
    expect(Array.isArray(m.unresolved) && Array.isArray(m.dlopen)).toBe(true);
    expect(m.pairs).toBeUndefined();
    expect(m.branchingFactor).toBe(m.syscalls.length);
    expect(m.alwaysAllowed.map((a) => a.name).sort()).toEqual(["restart_syscall", "rt_sigreturn"]);
    expect(m.stats.milliseconds).toBeGreaterThanOrEqual(0);
  });

  it("prints the objects (cached the second time), the set, the always-allowed calls, completeness and time", () => {
    analyse(CAT);
    const r = analyse(CAT);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^\/bin\/cat\n/);
    expect(r.stdout).toMatch(/main +\/bin\/cat +[0-9a-f]+ +cached/);
    expect(r.stdout).toMatch(/library +\S*libc\.so\.6 +[0-9a-f]+ +cached/);
    expect(r.stdout).toMatch(/\d+ system calls:\n {4}read, write, /);
    expect(r.stdout).toMatch(/always allowed:\n {4}(rt_sigreturn|restart_syscall): /);
    expect(r.stdout).toMatch(/\n {2}(complete: every reachable|INCOMPLETE: )/);
    expect(r.stdout).toMatch(/analysed in \d+\.\d\d s: /);
    expect(r.stderr).toBe("");
  });

  it("gives one JSON array for several binaries", () => {
    const r = analyse("--json", CAT, "/bin/true");
    expect(r.code, r.stderr).toBe(0);
    const ms = JSON.parse(r.stdout) as StaticModel[];
    expect(ms.map((m) => m.program)).toEqual([CAT, "/bin/true"]);
  });

  it.skipIf(!haveGcc)("says an incomplete model cannot claim zero false alarms, and lists its dlopen sites", () => {
    const r = analyse(at("dl"));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/INCOMPLETE: .*1 reachable dlopen call.*cannot claim zero false alarms/);
    expect(r.stdout).toMatch(new RegExp(`dlopen +${at("dl")} +0x[0-9a-f]+ +\\S+ +calls dlopen`));
    const m = JSON.parse(analyse("--json", at("dl")).stdout) as StaticModel;
    expect(m.complete).toBe(false);
    expect(m.dlopen.length).toBe(1);
  });
});

describe("homeostat static --out", () => {
  it("writes a `static` profile of the set, named by x86_64 calls, that says what it is of", () => {
    const out = at("cat.profile");
    const r = analyse("-o", out, CAT);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/wrote static:mode=set profile of \/bin\/cat -> .*cat\.profile/);
    expect(readdirSync(work).some((f) => f.includes(".partial-"))).toBe(false);
    const p = decodeProfile(readFileSync(out), out);
    const m = JSON.parse(analyse("--json", CAT).stdout) as StaticModel;
    expect(p.header.kind).toBe("static");
    expect(p.header.options).toEqual({ mode: "set" });
    expect(p.vocabulary.toArray()).toEqual([...m.names, "execve", "execveat"].filter((n, i, a) => a.indexOf(n) === i));
    const d = p.detector as StaticCalls;
    expect(d.calls.length).toBe(m.syscalls.length);
    expect(d.sources[0]!.program).toBe(CAT);
    expect(d.sources[0]!.buildId).toBe(m.objects.find((o) => o.role === "main")!.buildId);
    expect(d.sources[0]!.complete).toBe(m.complete);
  });

  it.skipIf(noStrace !== undefined)("scores a recorded run of cat with zero impossible calls", () => {
    const profile = at("cat-score.profile");
    expect(analyse("-o", profile, CAT).code).toBe(0);
    const trace = at("cat.hstr");
    const rec = run(["record", "-o", trace, "--", CAT, "/etc/hostname"]);
    expect(rec.code, rec.stderr).toBe(0);
    const r = run(["score", "--json", "-p", profile, trace]);
    expect(r.code, r.stderr).toBe(0);
    const line = JSON.parse(r.stdout.split("\n")[0]!) as { calls: number; anomalies: number };
    expect(line.calls).toBeGreaterThan(20);
    expect(line.anomalies).toBe(0);
    const human = run(["score", "-p", profile, trace]);
    expect(human.stdout).toMatch(
      /static set model of \/bin\/cat \(build-id [0-9a-f]+, (complete|INCOMPLETE)\): \d+ calls/,
    );
  });

  it("refuses --out or --seccomp with more than one binary", () => {
    const r = analyse("-o", at("two.profile"), CAT, "/bin/true");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/exactly one binary/);
    expect(existsSync(at("two.profile"))).toBe(false);
    expect(run(["static", "--no-cache", "--cache-dir", cacheDir, CAT]).code).toBe(2);
  });
});

describe("homeostat static --seccomp", () => {
  it("writes an allow-list of the set, then what the container runtime needs, each with why", () => {
    const file = at("cat-seccomp.json");
    const r = analyse("--seccomp", file, CAT);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/wrote seccomp allow-list -> .*: \d+ calls of the program \+ \d+ the container runtime/);
    const policy = JSON.parse(readFileSync(file, "utf8")) as SeccompProfile;
    const m = JSON.parse(analyse("--json", CAT).stdout) as StaticModel;
    expect(policy.defaultAction).toBe("SCMP_ACT_ERRNO");
    expect(policy.architectures).toEqual(["SCMP_ARCH_X86_64"]);
    expect(policy.syscalls.length).toBe(2);
    const [program, runtime] = policy.syscalls as [SeccompProfile["syscalls"][0], SeccompProfile["syscalls"][0]];
    expect(program.action).toBe("SCMP_ACT_ALLOW");
    expect(program.names).toEqual([...m.names].sort());
    expect(program.comment).toMatch(/static analysis/);
    expect(runtime.names).toContain("execve");
    for (const name of runtime.names) {
      expect(program.names).not.toContain(name);
      expect(runtime.comment).toContain(`${name}: `);
    }
    expect(runtime.comment).toMatch(/runc/);
  });
});

describe.skipIf(!haveGcc)("homeostat static --digraph", () => {
  it("adds the ordered pairs and the average branching factor", () => {
    const r = analyse("--json", "--digraph", at("tiny"));
    expect(r.code, r.stderr).toBe(0);
    const m = JSON.parse(r.stdout) as StaticModel;
    expect(m.names).toEqual(expect.arrayContaining(["write", "close", "exit_group"]));
    expect(m.pairs!.length).toBeGreaterThan(0);
    expect(m.branchingFactor).toBeCloseTo(m.pairs!.length / m.syscalls.length, 10);
    // write comes before close in _start: the pair exists.
    expect(m.pairs).toContainEqual([1, 3]);
    const human = analyse("--digraph", at("tiny"));
    expect(human.stdout).toMatch(/digraph: \d+ ordered pairs; on average \d+\.\d calls may follow a call/);
  });

  it("writes a digraph profile with --out", () => {
    const out = at("tiny.profile");
    expect(analyse("--digraph", "-o", out, at("tiny")).code).toBe(0);
    const p = decodeProfile(readFileSync(out), out);
    expect(p.header.options).toEqual({ mode: "digraph" });
    expect((p.detector as StaticCalls).pairs.length).toBeGreaterThan(0);
  });
});

describe("homeostat static: bad binaries are one line naming the file, exit 2", () => {
  const expectOneLine = (path: string, pattern: RegExp): void => {
    const r = analyse(path);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stdout).toBe("");
    const lines = r.stderr.trimEnd().split("\n");
    expect(lines.length, r.stderr).toBe(1);
    expect(lines[0]).toContain(path);
    expect(lines[0]).toMatch(pattern);
  };

  it("a missing file", () => {
    expectOneLine(at("no-such-program"), /E_NOT_FOUND.*no such program/);
  });

  it("a text file", () => {
    writeFileSync(at("notes.txt"), "just text\n");
    expectOneLine(at("notes.txt"), /E_FORMAT.*not an ELF/);
  });

  it("a truncated ELF", () => {
    writeFileSync(at("truncated"), readFileSync(CAT).subarray(0, 100));
    expectOneLine(at("truncated"), /E_FORMAT.*truncated/);
  });

  it("an i386 ELF", () => {
    const bytes = new Uint8Array(readFileSync(CAT));
    bytes[4] = 1; // ELFCLASS32
    bytes[18] = 3; // EM_386
    bytes[19] = 0;
    writeFileSync(at("i386"), bytes);
    expectOneLine(at("i386"), /E_FORMAT.*i386/);
  });

  it.skipIf(!haveGcc)("a program whose library is gone", () => {
    expectOneLine(at("uses-gone"), /E_NOT_FOUND.*libgone\.so.*not found/);
  });
});

describe.skipIf(noStrace !== undefined)("homeostat detect --static", () => {
  it("runs /bin/true against its own static model: exit 0, no alarm", () => {
    const r = run(["detect", "--static", "--cache-dir", cacheDir, "--", "/bin/true"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/scoring against the static set model of \/bin\/true/);
    expect(r.stderr).toMatch(/scored against static:mode=set; no alarm/);
  });

  it.skipIf(!haveGcc)("in digraph mode too, and alarms (exit 1) when the run is not the analysed program's", () => {
    const ok = run(["detect", "--static", "--digraph", "--cache-dir", cacheDir, "--json", "--", at("tiny")]);
    expect(ok.code, ok.stderr).toBe(0);
    const summary = JSON.parse(ok.stdout.split("\n").find((l) => l.includes('"summary"'))!) as {
      alarms: number;
      model: string;
    };
    expect(summary).toMatchObject({ alarms: 0, model: "static:mode=digraph" });
    // tiny's profile on cat's run: cat makes calls tiny's code cannot.
    const profile = at("tiny-set.profile");
    expect(analyse("-o", profile, at("tiny")).code).toBe(0);
    const bad = run(["detect", "-p", profile, "--", CAT, "/etc/hostname"]);
    expect(bad.code, bad.stderr).toBe(1);
    expect(bad.stderr).toMatch(/ALARM pid \d+/);
  });

  it("refuses --static with a profile, a threshold or a measure", () => {
    for (const args of [
      ["--static", "-p", at("x.profile")],
      ["--static", "--threshold", "1"],
      ["--static", "--measure", "signal"],
      ["--digraph", "-p", at("x.profile")],
      [],
    ]) {
      const r = run(["detect", ...args, "--", "/bin/true"]);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr.trimEnd().split("\n").length).toBe(1);
    }
  });
});
