import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { type AbiName, syscallTable } from "./abi.js";
import { canonicalSyscallName } from "./aliases.js";
import { I386_SYSCALLS } from "./i386.js";
import { X86_64_SYSCALLS } from "./x86_64.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const adfaDir = path.resolve(repoRoot, "../shared/datasets/adfa-ld");
const adfaPresent = existsSync(path.join(adfaDir, "Training_Data_Master"));

const TABLES: Record<AbiName, readonly (readonly [number, string])[]> = {
  x86_64: X86_64_SYSCALLS,
  i386: I386_SYSCALLS,
};

function numbers(entries: readonly (readonly [number, string])[]): Set<number> {
  return new Set(entries.map(([n]) => n));
}

function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let n = from; n <= to; n++) out.push(n);
  return out;
}

function missing(entries: readonly (readonly [number, string])[], from: number, to: number): number[] {
  const have = numbers(entries);
  return range(from, to).filter((n) => !have.has(n));
}

/** `#define __NR_<name> <n>` lines of a kernel uapi header, as [n, name]. */
function headerEntries(file: string): [number, string][] {
  const out: [number, string][] = [];
  for (const line of readFileSync(file, "utf8").split("\n")) {
    const m = /^#define __NR_(\w+)\s+(\d+)\s*$/.exec(line);
    if (m) out.push([Number(m[2]), m[1]!]);
  }
  return out;
}

const HEADER_DIRS = ["/usr/include/x86_64-linux-gnu/asm", "/usr/include/asm"];
function findHeader(file: string): string | undefined {
  return HEADER_DIRS.map((d) => path.join(d, file)).find((f) => existsSync(f));
}

describe.each(["x86_64", "i386"] as const)("%s table shape", (abi) => {
  const entries = TABLES[abi];

  it("has strictly ascending non-negative integer numbers", () => {
    for (let i = 0; i < entries.length; i++) {
      const [n] = entries[i]!;
      expect(Number.isInteger(n) && n >= 0).toBe(true);
      if (i > 0) expect(n).toBeGreaterThan(entries[i - 1]![0]);
    }
  });

  it("has unique, kernel-style names", () => {
    const names = entries.map(([, name]) => name);
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) expect(name).toMatch(/^[a-z_][a-z0-9_]*$/);
  });

  it("round-trips number <-> name through syscallTable", () => {
    const table = syscallTable(abi);
    for (const [n, name] of entries) {
      expect(table.names[n]).toBe(name);
      expect(table.numberOf(name)).toBe(n);
    }
    expect(table.names.filter((x) => x !== undefined)).toHaveLength(entries.length);
    expect(table.numberOf("no_such_call")).toBeUndefined();
  });
});

describe("x86_64 table contents", () => {
  it("covers 0-335 and 424-466 with no other numbers (x32 512+ left out)", () => {
    expect([...numbers(X86_64_SYSCALLS)]).toEqual([...range(0, 335), ...range(424, 466)]);
  });

  it("names well-known calls by their kernel names", () => {
    const t = syscallTable("x86_64");
    expect(t.names[0]).toBe("read");
    expect(t.names[59]).toBe("execve");
    expect(t.names[166]).toBe("umount2");
    expect(t.names[202]).toBe("futex");
    expect(t.names[257]).toBe("openat");
    expect(t.names[262]).toBe("newfstatat");
    expect(t.names[435]).toBe("clone3");
    expect(t.names[466]).toBe("removexattrat");
    // i386-only calls do not exist in the 64-bit ABI.
    for (const name of ["socketcall", "ipc", "mmap2", "stat64", "_llseek", "_newselect", "umount"]) {
      expect(t.numberOf(name)).toBeUndefined();
    }
  });
});

describe("i386 table contents", () => {
  it("has no gaps in 0-340 except the numbers the kernel leaves unused (222, 223, 251, 285)", () => {
    expect(missing(I386_SYSCALLS, 0, 340)).toEqual([222, 223, 251, 285]);
  });

  it("has no other gaps up to its last entry except 387-392 and 415", () => {
    const last = I386_SYSCALLS[I386_SYSCALLS.length - 1]![0];
    expect(last).toBe(466);
    expect(missing(I386_SYSCALLS, 341, last)).toEqual([387, 388, 389, 390, 391, 392, 415]);
  });

  it("matches the ADFA-LD README facts (i386 numbering of kernel 2.6.38)", () => {
    const t = syscallTable("i386");
    const facts: [number, string][] = [
      [102, "socketcall"],
      [192, "mmap2"],
      [195, "stat64"],
      [197, "fstat64"],
      [221, "fcntl64"],
      [243, "set_thread_area"],
      [265, "clock_gettime"],
      [340, "prlimit64"],
      [156, "sched_setscheduler"],
      [173, "rt_sigreturn"],
      [324, "fallocate"],
      // The README's ten most frequent Training calls.
      [3, "read"],
      [4, "write"],
      [6, "close"],
      [5, "open"],
      [240, "futex"],
      [168, "poll"],
      [78, "gettimeofday"],
    ];
    for (const [n, name] of facts) expect(`${n} ${t.names[n]}`).toBe(`${n} ${name}`);
  });

  it("keeps the kernel spellings that strace also prints", () => {
    const t = syscallTable("i386");
    expect(t.names[22]).toBe("umount");
    expect(t.names[52]).toBe("umount2");
    expect(t.names[82]).toBe("select");
    expect(t.names[140]).toBe("_llseek");
    expect(t.names[142]).toBe("_newselect");
    expect(t.names[191]).toBe("ugetrlimit");
  });
});

describe.each([
  ["x86_64", "unistd_64.h"],
  ["i386", "unistd_32.h"],
] as const)("%s table against the installed kernel uapi header %s", (abi, file) => {
  const header = findHeader(file);
  if (header === undefined) {
    console.log(`skipping: no ${file} under ${HEADER_DIRS.join(" or ")} (install linux-libc-dev)`);
  }
  it.skipIf(header === undefined)("agrees on every number the header defines", () => {
    const entries = headerEntries(header!);
    expect(entries.length).toBeGreaterThan(300);
    const t = syscallTable(abi);
    const disagreements = entries.filter(([n, name]) => t.names[n] !== name).map(([n, name]) => `${n} ${name}`);
    expect(disagreements).toEqual([]);
  });
});

const stracePath = ["/usr/bin/strace", "/bin/strace"].find((p) => existsSync(p));

describe("x86_64 table against a real strace capture on this host", () => {
  const runnable = stracePath !== undefined && process.arch === "x64";
  if (!runnable) {
    console.log(`skipping strace capture: strace ${stracePath ?? "not found"}, arch ${process.arch}`);
  }
  it.skipIf(!runnable)("names every call strace prints (after alias resolution)", (ctx) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "homeostat-tables-"));
    try {
      const out = path.join(dir, "trace.txt");
      const r = spawnSync(stracePath!, ["-f", "-qq", "-o", out, "/bin/sh", "-c", "ls -la / > /dev/null; date"], {
        encoding: "utf8",
        timeout: 30_000,
      });
      if (r.status !== 0 && /ptrace|Operation not permitted/.test(r.stderr)) {
        console.log(`skipping strace capture: ${r.stderr.trim()}`);
        ctx.skip();
      }
      expect(r.status).toBe(0);
      const names = new Set<string>();
      for (const line of readFileSync(out, "utf8").split("\n")) {
        const m = /^\d+\s+(?:<\.\.\. )?([a-z_][a-z0-9_]*)(?:\(| resumed>)/.exec(line);
        if (m) names.add(m[1]!);
      }
      expect(names.size).toBeGreaterThan(10);
      expect(names.has("execve")).toBe(true);
      const t = syscallTable("x86_64");
      const unknown = [...names].filter((n) => t.numberOf(canonicalSyscallName(n, "x86_64")) === undefined);
      expect(unknown).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** Every ADFA-LD trace file's numbers, by split folder. */
function readAdfa(): Map<string, number[][]> {
  const splits = new Map<string, number[][]>();
  const readTrace = (file: string): number[] =>
    readFileSync(file, "latin1")
      .trim()
      .split(/\s+/)
      .filter((s) => s.length > 0)
      .map(Number);
  for (const split of ["Training_Data_Master", "Validation_Data_Master"]) {
    const dir = path.join(adfaDir, split);
    splits.set(
      split,
      readdirSync(dir)
        .filter((f) => f.endsWith(".txt"))
        .map((f) => readTrace(path.join(dir, f))),
    );
  }
  const attack: number[][] = [];
  const attackDir = path.join(adfaDir, "Attack_Data_Master");
  for (const folder of readdirSync(attackDir)) {
    const dir = path.join(attackDir, folder);
    for (const f of readdirSync(dir).filter((x) => x.endsWith(".txt"))) attack.push(readTrace(path.join(dir, f)));
  }
  splits.set("Attack_Data_Master", attack);
  return splits;
}

describe.skipIf(!adfaPresent)("i386 table against ADFA-LD", () => {
  if (!adfaPresent) {
    console.log(`skipping ADFA-LD checks: ${adfaDir} not found`);
  }

  it("names every system-call number the dataset uses", () => {
    const splits = readAdfa();
    expect(splits.get("Training_Data_Master")).toHaveLength(833);
    const t = syscallTable("i386");
    const used = new Set<number>();
    for (const traces of splits.values()) for (const trace of traces) for (const n of trace) used.add(n);
    for (const n of used) expect(Number.isInteger(n)).toBe(true);
    const unnamed = [...used].filter((n) => t.names[n] === undefined).sort((a, b) => a - b);
    expect(unnamed).toEqual([]);
    expect(Math.max(...used)).toBe(340);

    // The README's ten most frequent Training calls, decoded with the table.
    const counts = new Map<number, number>();
    for (const trace of splits.get("Training_Data_Master")!) {
      for (const n of trace) counts.set(n, (counts.get(n) ?? 0) + 1);
    }
    const top10 = [...counts.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 10)
      .map(([n]) => t.names[n]);
    expect(top10).toEqual([
      "read",
      "write",
      "close",
      "open",
      "stat64",
      "futex",
      "mmap2",
      "poll",
      "gettimeofday",
      "fstat64",
    ]);
  });
});
