import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { parseLdCache, readLdCache } from "./ldCache.js";

const X86_64 = 0x0303;
const I386 = 0x0003; // FLAG_ELF_LIBC6 alone: i386 libraries in a multilib cache

interface Entry {
  flags: number;
  name: string;
  path: string;
  hwcap?: bigint;
}

/** A cache as ldconfig writes it: optionally the old "ld.so-1.7.0" table first, then the new format and strings. */
function buildCache(entries: Entry[], options: { old?: boolean; endian?: number } = {}): Uint8Array {
  const strings: number[] = [];
  const stringAt = new Map<string, number>();
  const newTableSize = 48 + entries.length * 24;
  const offsetOf = (s: string): number => {
    if (!stringAt.has(s)) {
      stringAt.set(s, newTableSize + strings.length);
      strings.push(...Buffer.from(s), 0);
    }
    return stringAt.get(s)!;
  };
  const table = new Uint8Array(newTableSize);
  const view = new DataView(table.buffer);
  table.set(Buffer.from("glibc-ld.so.cache1.1"));
  view.setUint32(20, entries.length, true);
  table[28] = options.endian ?? 2;
  entries.forEach((e, i) => {
    const at = 48 + i * 24;
    view.setInt32(at, e.flags, true);
    view.setUint32(at + 4, offsetOf(e.name), true);
    view.setUint32(at + 8, offsetOf(e.path), true);
    view.setBigUint64(at + 16, e.hwcap ?? 0n, true);
  });
  view.setUint32(24, strings.length, true);
  const prefix: number[] = [];
  if (options.old === true) {
    // Old format: magic, nlibs, then 12-byte entries (left empty here); the new part is 8-aligned after it.
    const old = new Uint8Array(16 + 3 * 12);
    old.set(Buffer.from("ld.so-1.7.0"));
    new DataView(old.buffer).setUint32(12, 3, true);
    prefix.push(...old, ...new Array((8 - (old.length % 8)) % 8).fill(0));
  }
  return new Uint8Array([...prefix, ...table, ...strings]);
}

const sample: Entry[] = [
  {
    flags: X86_64,
    name: "libfoo.so.1",
    path: "/usr/lib/x86_64-linux-gnu/glibc-hwcaps/x86-64-v3/libfoo.so.1",
    hwcap: (1n << 62n) | 1n,
  },
  { flags: X86_64, name: "libfoo.so.1", path: "/usr/lib/x86_64-linux-gnu/libfoo.so.1" },
  { flags: I386, name: "libbar.so.2", path: "/usr/lib/i386-linux-gnu/libbar.so.2" },
  { flags: X86_64, name: "libbar.so.2", path: "/usr/lib/x86_64-linux-gnu/libbar.so.2" },
  { flags: X86_64, name: "libbar.so.2", path: "/opt/second/libbar.so.2" },
  {
    flags: X86_64,
    name: "libonlyv3.so",
    path: "/usr/lib/glibc-hwcaps/x86-64-v3/libonlyv3.so",
    hwcap: (1n << 62n) | 1n,
  },
  { flags: 0x0a03, name: "libarm.so", path: "/usr/lib/aarch64-linux-gnu/libarm.so" },
];
const expected = new Map([
  ["libfoo.so.1", "/usr/lib/x86_64-linux-gnu/libfoo.so.1"],
  ["libbar.so.2", "/usr/lib/x86_64-linux-gnu/libbar.so.2"],
  ["libonlyv3.so", "/usr/lib/glibc-hwcaps/x86-64-v3/libonlyv3.so"],
]);

describe("parseLdCache", () => {
  it("keeps x86-64 entries only; the baseline entry beats a glibc-hwcaps one; the first of equals wins", () => {
    expect(parseLdCache(buildCache(sample))).toEqual(expected);
  });

  it("skips an old-format table that precedes the new one", () => {
    expect(parseLdCache(buildCache(sample, { old: true }))).toEqual(expected);
  });

  it("malformed caches give an empty map", () => {
    const good = buildCache(sample);
    expect(parseLdCache(new Uint8Array(0)).size).toBe(0);
    expect(parseLdCache(Buffer.from("not a cache at all, just some text\n")).size).toBe(0);
    expect(parseLdCache(good.subarray(0, 100)).size).toBe(0); // entry table cut short
    expect(parseLdCache(good.subarray(0, good.length - 10)).size).toBe(0); // strings cut short
    expect(parseLdCache(buildCache(sample, { endian: 3 })).size).toBe(0); // a big-endian cache
    const huge = new Uint8Array(good);
    new DataView(huge.buffer).setUint32(20, 0xffffffff, true);
    expect(parseLdCache(huge).size).toBe(0);
    const oldOnly = new Uint8Array(16);
    oldOnly.set(Buffer.from("ld.so-1.7.0"));
    expect(parseLdCache(oldOnly).size).toBe(0);
  });

  it("random bytes and mutations never throw", () => {
    const good = buildCache(sample, { old: true });
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 600 }),
        fc.array(fc.tuple(fc.nat({ max: good.length - 1 }), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
        (random, edits) => {
          expect(parseLdCache(random)).toBeInstanceOf(Map);
          const mutated = new Uint8Array(good);
          for (const [at, v] of edits) mutated[at] = v;
          expect(parseLdCache(mutated)).toBeInstanceOf(Map);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe("readLdCache", () => {
  let dir: string | undefined;
  afterAll(() => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it("an absent cache is an empty map; a file is read", () => {
    dir = mkdtempSync(join(tmpdir(), "homeostat-ldcache-"));
    expect(readLdCache(join(dir, "missing.cache")).size).toBe(0);
    writeFileSync(join(dir, "ld.so.cache"), buildCache(sample));
    expect(readLdCache(join(dir, "ld.so.cache"))).toEqual(expected);
  });

  const ldconfig = spawnSync("ldconfig", ["-p"], { encoding: "utf8", env: { ...process.env, LC_ALL: "C" } });
  const haveCache = ldconfig.status === 0 && existsSync("/etc/ld.so.cache");
  if (!haveCache) console.log("skipped: the real-cache test needs /etc/ld.so.cache and ldconfig");

  it.skipIf(!haveCache)("the real /etc/ld.so.cache agrees with ldconfig -p", () => {
    const cache = readLdCache();
    const listed = new Map<string, string>();
    for (const m of ldconfig.stdout.matchAll(/^\t(\S+) \(libc6,x86-64\) => (\S+)$/gm))
      if (!listed.has(m[1]!)) listed.set(m[1]!, m[2]!);
    expect(listed.get("libc.so.6")).toBeDefined();
    expect(cache.get("libc.so.6")).toBe(listed.get("libc.so.6"));
    expect(cache).toEqual(listed);
  });
});
