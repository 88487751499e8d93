import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ABI_NAMES, syscallTable } from "./abi.js";
import { ABI_SYSCALL_ALIAS_LIST, SYSCALL_ALIAS_LIST } from "./aliases.js";
import {
  CATEGORIES,
  CATEGORY_COUNT,
  CATEGORY_MEMBERS,
  categoryIndex,
  categoryLookup,
  categoryOf,
  type SyscallCategory,
} from "./categories.js";
import { categoriesMarkdown } from "./categoriesMarkdown.js";
import { opaqueToken, unknownSyscallToken, Vocabulary } from "./vocabulary.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const docPath = path.join(repoRoot, "docs", "syscall-categories.md");
const adfaDir = path.resolve(repoRoot, "../shared/datasets/adfa-ld");
const adfaPresent = existsSync(path.join(adfaDir, "Training_Data_Master"));

const tableNames = new Set(ABI_NAMES.flatMap((abi) => syscallTable(abi).names.filter((n) => n !== undefined)));
const otherIndex = CATEGORIES.findIndex((c) => c.name === "other");
const allAliases = [...SYSCALL_ALIAS_LIST, ...ABI_NAMES.flatMap((abi) => ABI_SYSCALL_ALIAS_LIST[abi])];

// Calls newer than the v6.13 tables that the categories list on purpose (strace names of 467-471).
const NEWER_THAN_TABLES = ["open_tree_attr", "file_getattr", "file_setattr", "listns", "rseq_slice_yield"];

describe("CATEGORIES", () => {
  it("has about thirty categories, unique, one membership list each, 'other' last", () => {
    const names = CATEGORIES.map((c) => c.name);
    expect(new Set(names).size).toBe(names.length);
    expect(CATEGORY_COUNT).toBe(names.length);
    expect(CATEGORY_COUNT).toBeGreaterThanOrEqual(25);
    expect(CATEGORY_COUNT).toBeLessThanOrEqual(35);
    expect([...names].sort()).toEqual(Object.keys(CATEGORY_MEMBERS).sort());
    expect(otherIndex).toBe(CATEGORY_COUNT - 1);
    for (const c of CATEGORIES) {
      expect(c.description.length).toBeGreaterThan(10);
      expect(c.description).not.toContain("\n");
    }
  });

  it("lists no syscall name in two categories", () => {
    const seen = new Map<string, SyscallCategory>();
    const twice: string[] = [];
    for (const c of CATEGORIES) {
      for (const name of CATEGORY_MEMBERS[c.name]) {
        const before = seen.get(name);
        if (before !== undefined) twice.push(`${name}: ${before} and ${c.name}`);
        seen.set(name, c.name);
      }
    }
    expect(twice).toEqual([]);
  });

  it("lists only table names, plus the documented calls newer than the tables (catches typos)", () => {
    const listed = CATEGORIES.flatMap((c) => CATEGORY_MEMBERS[c.name]);
    const notInTables = listed.filter((n) => !tableNames.has(n)).sort();
    expect(notInTables).toEqual([...NEWER_THAN_TABLES].sort());
  });
});

describe("categoryOf / categoryIndex", () => {
  it("puts every syscall of both ABI tables in exactly the category that lists it", () => {
    for (const name of tableNames) {
      const owners = CATEGORIES.filter((c) => CATEGORY_MEMBERS[c.name].includes(name)).map((c) => c.name);
      expect(owners, name).toHaveLength(1);
      expect(categoryOf(name)).toBe(owners[0]);
    }
  });

  it("sends no real syscall to 'other' unless it is deliberately listed there", () => {
    const inOther = [...tableNames].filter((n) => categoryOf(n) === "other").sort();
    expect(inOther).toEqual([...CATEGORY_MEMBERS.other].sort());
  });

  it("gives dense indices that agree with CATEGORIES", () => {
    CATEGORIES.forEach((c, i) => {
      for (const name of CATEGORY_MEMBERS[c.name]) {
        expect(categoryIndex(name)).toBe(i);
        expect(CATEGORIES[categoryIndex(name)]!.name).toBe(categoryOf(name));
      }
    });
  });

  it("sends unknown, opaque and empty tokens to 'other'", () => {
    fc.assert(
      fc.property(fc.nat({ max: 1_000_000 }), (n) => {
        expect(categoryOf(unknownSyscallToken(n))).toBe("other");
        expect(categoryIndex(opaqueToken(n))).toBe(otherIndex);
      }),
    );
    expect(categoryOf("")).toBe("other");
    expect(categoryOf("definitely_not_a_syscall")).toBe("other");
    expect(categoryOf("constructor")).toBe("other");
  });

  it("resolves tracer aliases before categorising", () => {
    for (const a of allAliases) expect(categoryOf(a.alias), a.alias).toBe(categoryOf(a.name));
    expect(categoryOf("oldumount")).toBe("mount_admin");
    expect(categoryOf("pread")).toBe("file_read");
    expect(categoryOf("llseek")).toBe("file_seek_sync");
    expect(categoryOf("send")).toBe("socket_send_receive");
  });

  it("files representative calls by primitive", () => {
    const expected: [string, SyscallCategory][] = [
      ["openat", "file_open_close"],
      ["read", "file_read"],
      ["writev", "file_write"],
      ["newfstatat", "file_metadata"],
      ["getdents64", "directories_links"],
      ["mmap2", "memory_mapping"],
      ["brk", "memory_management_other"],
      ["clone", "process_lifecycle"],
      ["execve", "program_execution"],
      ["setuid32", "identity_credentials"],
      ["rt_sigaction", "signals"],
      ["fcntl64", "pipes_fds"],
      ["semop", "ipc"],
      ["accept4", "socket_setup"],
      ["recvmsg", "socket_send_receive"],
      ["_newselect", "polling_multiplexing"],
      ["inotify_add_watch", "event_fds"],
      ["futex", "futex_sync"],
      ["io_uring_enter", "io_async"],
      ["clock_gettime", "time_clocks"],
      ["nanosleep", "timers_sleep"],
      ["init_module", "modules_kernel"],
      ["ptrace", "tracing_debug"],
      ["seccomp", "security_isolation"],
    ];
    for (const [name, cat] of expected) expect(`${name}: ${categoryOf(name)}`).toBe(`${name}: ${cat}`);
  });
});

describe("categoryLookup", () => {
  it("maps every vocabulary id to the category index of its token", () => {
    const known = [...tableNames, ...allAliases.map((a) => a.alias)];
    const token = fc.oneof(
      fc.constantFrom(...known),
      fc.nat({ max: 5000 }).map(unknownSyscallToken),
      fc.nat({ max: 5000 }).map(opaqueToken),
      fc.string({ maxLength: 12 }),
    );
    fc.assert(
      fc.property(fc.array(token, { maxLength: 200 }), (tokens) => {
        const vocab = new Vocabulary(tokens);
        const lookup = categoryLookup(vocab);
        expect(lookup).toBeInstanceOf(Uint8Array);
        expect(lookup.length).toBe(vocab.size);
        for (let id = 0; id < vocab.size; id++) {
          const t = vocab.token(id);
          expect(lookup[id]).toBe(categoryIndex(t));
          if (t.startsWith("syscall_") || t.startsWith("#")) expect(lookup[id]).toBe(otherIndex);
        }
      }),
    );
  });
});

describe("docs/syscall-categories.md", () => {
  it("is in sync with the code (regenerate with HOMEOSTAT_UPDATE_DOCS=1)", () => {
    const generated = categoriesMarkdown();
    if (process.env.HOMEOSTAT_UPDATE_DOCS === "1") writeFileSync(docPath, generated);
    expect(existsSync(docPath), `${docPath} is missing: regenerate it`).toBe(true);
    expect(readFileSync(docPath, "utf8")).toBe(generated);
  });

  it("documents every category and every table syscall", () => {
    const doc = categoriesMarkdown();
    for (const c of CATEGORIES) expect(doc).toContain(`## ${c.name}\n`);
    for (const name of tableNames) expect(doc).toContain(`| \`${name}\` |`);
  });
});

const stracePath = ["/usr/bin/strace", "/bin/strace"].find((p) => existsSync(p));

describe("categories of real traces", () => {
  const runnable = stracePath !== undefined && process.arch === "x64";
  if (!runnable) {
    console.log(`skipping strace capture: strace ${stracePath ?? "not found"}, arch ${process.arch}`);
  }
  it.skipIf(!runnable)("never fall into 'other' for a program traced on this host", (ctx) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "homeostat-categories-"));
    try {
      const out = path.join(dir, "trace.txt");
      const script = "ls -la /usr > /dev/null; sleep 0.01; cat /etc/hostname > /dev/null";
      const r = spawnSync(stracePath!, ["-f", "-qq", "-o", out, "/bin/sh", "-c", script], {
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
        const m = /^\d+\s+([a-z_][a-z0-9_]*)\(/.exec(line);
        if (m) names.add(m[1]!);
      }
      expect(names.size).toBeGreaterThan(10);
      expect([...names].filter((n) => categoryOf(n) === "other")).toEqual([]);
      // Several primitives show up, so the category alphabet is not degenerate on real data.
      expect(new Set([...names].map(categoryOf)).size).toBeGreaterThanOrEqual(8);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  if (!adfaPresent) {
    console.log(`skipping ADFA-LD category check: ${adfaDir} not found`);
  }
  it.skipIf(!adfaPresent)("never fall into 'other' for the numbers ADFA-LD uses", () => {
    const t = syscallTable("i386");
    const used = new Set<number>();
    const walk = (dir: string): void => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.name.endsWith(".txt")) {
          for (const s of readFileSync(p, "latin1").trim().split(/\s+/)) used.add(Number(s));
        }
      }
    };
    for (const split of ["Training_Data_Master", "Validation_Data_Master", "Attack_Data_Master"]) {
      walk(path.join(adfaDir, split));
    }
    expect(used.size).toBeGreaterThan(100);
    const inOther = [...used].filter((n) => categoryOf(t.names[n] ?? unknownSyscallToken(n)) === "other");
    expect(inOther).toEqual([]);
  });
});
