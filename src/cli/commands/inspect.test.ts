import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADFA_DIR, BIN, skipWithout } from "../../testing/paths.js";

function run(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1", ...env },
    maxBuffer: 64 * 1024 * 1024,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface Group {
  name: string;
  kind: string;
  label: string;
  traces: number;
  syscalls: number;
}

const ADFA_EXPECTED: [string, number, number][] = [
  ["training", 833, 308_077],
  ["validation", 4_372, 2_122_085],
  ["attack", 746, 317_388],
];
const ATTACK_TYPES: [string, number][] = [
  ["Adduser", 91],
  ["Hydra_FTP", 162],
  ["Hydra_SSH", 176],
  ["Java_Meterpreter", 124],
  ["Meterpreter", 75],
  ["Web_Shell", 118],
];

describe.skipIf(skipWithout(ADFA_DIR))("homeostat inspect on ADFA-LD", () => {
  for (const [what, input] of [
    ["the folder", ADFA_DIR],
    ["the archive alone", path.join(ADFA_DIR, "ADFA-LD.tar.gz")],
  ] as const) {
    it(`gives the published counts from ${what}`, () => {
      const r = run(["inspect", "--json", input]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      const out = JSON.parse(r.stdout) as { traces: number; syscalls: number; groups: Group[] };
      expect(out.traces).toBe(5_951);
      expect(out.syscalls).toBe(2_747_550);
      const split = (n: string) => out.groups.find((g) => g.kind === "split" && g.name === n);
      for (const [name, traces, calls] of ADFA_EXPECTED) {
        expect(split(name)).toMatchObject({ traces, syscalls: calls });
      }
      expect(split("training")?.label).toBe("normal");
      expect(split("attack")?.label).toBe("attack");
      const types = out.groups.filter((g) => g.kind === "attackType").map((g) => [g.name, g.traces]);
      expect(types.sort()).toEqual(ATTACK_TYPES);
    });
  }

  it("prints a readable table by default", () => {
    const r = run(["inspect", ADFA_DIR]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/5,951 traces, 2,747,550 system calls/);
    expect(r.stdout).toMatch(/Hydra_SSH\s+attackType\s+attack\s+176/);
  });
});

describe("homeostat inspect: bad input and usage", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), "homeostat-cli-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function expectOneLineError(r: ReturnType<typeof run>, pattern: RegExp) {
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    const lines = r.stderr.trimEnd().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(pattern);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  }

  it("a missing path", () => {
    expectOneLineError(run(["inspect", path.join(dir, "nope")]), /E_NOT_FOUND.*nope/);
  });

  it("an empty file", () => {
    const f = path.join(dir, "empty.txt");
    writeFileSync(f, "");
    expectOneLineError(run(["inspect", f]), /empty\.txt: empty file/);
  });

  it("binary garbage", () => {
    const f = path.join(dir, "garbage.bin");
    writeFileSync(f, Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)));
    expectOneLineError(run(["inspect", f]), /garbage\.bin: not a recognised trace format/);
  });

  it("a malformed line names file, line and column", () => {
    const f = path.join(dir, "bad-unm.txt");
    writeFileSync(f, "10 3\n10 4\n10 x\n");
    expectOneLineError(run(["inspect", "--format", "unm", f]), /bad-unm\.txt:3:4: /);
    const lenient = run(["inspect", "--format", "unm", "--lenient", "--json", f]);
    expect(lenient.code).toBe(0);
    expect(JSON.parse(lenient.stdout)).toMatchObject({ syscalls: 2, skippedLines: 1 });
  });

  it("a 100 MB line is refused early, in bounded memory", () => {
    // An strace line whose argument string never ends: the line splitter gives up at its limit.
    const f = path.join(dir, "longline.txt");
    const line = Buffer.alloc(100 * 1024 * 1024, "a");
    Buffer.from('1234 write(1, "').copy(line);
    writeFileSync(f, line);
    const r = run(["inspect", "--format", "strace", f]);
    expectOneLineError(r, /longline\.txt:1:1: line longer than/);
    // A numeric format stops at the first byte that cannot belong to it.
    const digits = path.join(dir, "digits.txt");
    writeFileSync(digits, Buffer.alloc(100 * 1024 * 1024, "7"));
    expectOneLineError(run(["inspect", "--format", "unm", digits]), /digits\.txt:1:10: process id too large/);
  });

  it("--debug adds the stack trace", () => {
    const r = run(["inspect", "--debug", path.join(dir, "nope")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/\n\s+at /);
  });

  it("usage errors exit 2; --help exits 0 on every command", () => {
    expect(run(["inspect"]).code).toBe(2);
    expect(run(["inspect", "--format", "nope", "x"]).code).toBe(2);
    expect(run(["no-such-command"]).code).toBe(2);
    for (const cmd of [[], ["inspect"], ["convert"]]) {
      const r = run([...cmd, "--help"]);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/Usage: homeostat/);
    }
  });
});
