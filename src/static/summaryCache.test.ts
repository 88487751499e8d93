// The build-id cache on disk: a program analysed cold and then warm from its cache files gets the same model, a
// damaged entry (cut short, a byte changed, another version) is a miss that is analysed again and rewritten, a
// write leaves either the whole entry or nothing, and entries of other versions are removed, and nothing else.

import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  truncateSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { analyzeProgram } from "./staticAnalysis.js";
import { cacheFile, cacheKey, directoryCache, memoryCache, removeStaleEntries } from "./summaryCache.js";
import { HomeostatError } from "../errors.js";
import { SUMMARY_VERSION } from "./objectSummary.js";
import { decodeSummary, FORMAT_VERSION } from "./summaryCodec.js";
import type { StaticModel } from "./staticModel.js";

let work = "";

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "homeostat-summary-cache-"));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** What must not depend on where the summaries came from. */
function outcome(m: StaticModel) {
  const { milliseconds: _, ...stats } = m.stats;
  return {
    syscalls: m.syscalls,
    names: m.names,
    pairs: m.pairs,
    branchingFactor: m.branchingFactor,
    complete: m.complete,
    unresolved: m.unresolved,
    dlopen: m.dlopen,
    stats,
    objects: m.objects.map(({ cached: _c, ...o }) => o),
  };
}

function libcEntry(dir: string, m: StaticModel): string {
  const libc = m.objects.find((o) => /(^|\/)libc\.so\.6$/.test(o.path));
  expect(libc?.buildId).toBeDefined();
  return cacheFile(dir, cacheKey(libc!.buildId!, false));
}

const libcCached = (m: StaticModel): boolean | undefined =>
  m.objects.find((o) => /(^|\/)libc\.so\.6$/.test(o.path))?.cached;

describe.skipIf(!existsSync("/bin/ls"))("summary cache on disk", () => {
  it("analyses /bin/ls cold, then warm from the cache files, to the same set and digraph", () => {
    const dir = join(work, "ls");
    const cold = analyzeProgram("/bin/ls", { digraph: true, cache: directoryCache(dir) });
    expect(cold.objects.some((o) => o.cached)).toBe(false);
    const warm = analyzeProgram("/bin/ls", { digraph: true, cache: directoryCache(dir) });
    expect(warm.objects.every((o) => o.cached || o.buildId === undefined)).toBe(true);
    expect(outcome(warm)).toEqual(outcome(cold));
    expect(warm.pairs!.length).toBeGreaterThan(cold.syscalls.length);
    expect(readdirSync(dir).every((f) => f.endsWith(".summary"))).toBe(true);
  });

  it("treats a damaged entry as a miss: analysed again, same model, entry rewritten", () => {
    const dir = join(work, "damaged");
    const first = analyzeProgram("/bin/true", { cache: directoryCache(dir) });
    const file = libcEntry(dir, first);
    const good = readFileSync(file);
    expect(decodeSummary(good)).toBeDefined();
    const damages: [string, () => void][] = [
      ["cut short", () => truncateSync(file, good.length - 100)],
      [
        "one byte changed",
        () => {
          const b = Buffer.from(good);
          b[Math.floor(b.length / 2)]! ^= 0x40;
          writeFileSync(file, b);
        },
      ],
      [
        "another format version",
        () => {
          const b = Buffer.from(good);
          b.writeUInt32LE(FORMAT_VERSION + 1, 8);
          writeFileSync(file, b);
        },
      ],
      ["empty", () => writeFileSync(file, "")],
    ];
    for (const [what, damage] of damages) {
      damage();
      expect(decodeSummary(readFileSync(file)), what).toBeUndefined();
      const again = analyzeProgram("/bin/true", { cache: directoryCache(dir) });
      expect(libcCached(again), what).toBe(false);
      expect(outcome(again), what).toEqual(outcome(first));
      expect(readFileSync(file).equals(good), `${what}: rewritten`).toBe(true);
      expect(libcCached(analyzeProgram("/bin/true", { cache: directoryCache(dir) })), what).toBe(true);
    }
  });

  it("leaves no file behind when an entry cannot be written", () => {
    const dir = join(work, "unwritable");
    const cache = directoryCache(dir);
    const first = analyzeProgram("/bin/true", { cache });
    const file = libcEntry(dir, first);
    const summary = cache.get(file.slice(dir.length + 1, -".summary".length))!;
    expect(summary).toBeDefined();
    // A name with NUL cannot be stored (ELF names never have one): the write fails before anything is renamed.
    const before = readdirSync(dir).sort();
    cache.put("broken", { ...summary, strings: [...summary.strings, "a\0b"] });
    expect(readdirSync(dir).sort()).toEqual(before);
    // The rename fails (a directory holds the entry's name): the temporary file written before it is removed.
    mkdirSync(cacheFile(dir, "busy"));
    cache.put("busy", summary);
    expect(readdirSync(dir).sort()).toEqual([...before, "busy.summary"].sort());
    // A directory where the cache directory should be: nothing thrown, nothing written.
    const blocked = join(work, "blocked");
    writeFileSync(blocked, "not a directory");
    expect(() => directoryCache(blocked).put("x", summary)).not.toThrow();
  });

  it("removes entries of other versions once it writes, and only regular files it names itself", () => {
    const dir = join(work, "stale");
    const outside = join(work, "outside");
    mkdirSync(dir, { recursive: true });
    mkdirSync(outside, { recursive: true });
    const id = "0123456789abcdef0123456789abcdef01234567";
    const old = SUMMARY_VERSION - 1;
    const stale = [
      `${id}-v${old}.json`,
      `${id}-v${old}-interp.json`,
      `${id}-v${old}.summary`,
      `${id}-v${SUMMARY_VERSION}.json`,
    ];
    const abandoned = `${id}-v${SUMMARY_VERSION}.summary.4242.1.tmp`;
    const kept = [
      `fedcba9876543210fedcba9876543210fedcba98-v${SUMMARY_VERSION}.summary`, // this version: still read
      `${id}-v${SUMMARY_VERSION}.summary.4243.1.tmp`, // a write that may still be under way
      "notes.txt",
      `${id}-v${old}.json.bak`,
      `${id.toUpperCase()}-v${old}.json`,
    ];
    for (const name of [...stale, abandoned, ...kept]) writeFileSync(join(dir, name), "x");
    const longAgo = new Date(Date.now() - 2 * 60 * 60 * 1000);
    utimesSync(join(dir, abandoned), longAgo, longAgo);
    // A symlink and a folder with a stale entry's name: neither followed nor removed.
    writeFileSync(join(outside, "target.json"), "not the cache's");
    symlinkSync(join(outside, "target.json"), join(dir, `${id}-v1-interp.summary`));
    mkdirSync(join(dir, `${id}-v${old}-interp.summary`));

    // The first write of a cold analysis sweeps the folder.
    const cache = directoryCache(dir);
    const model = analyzeProgram("/bin/true", { cache });
    expect(model.objects.some((o) => o.cached)).toBe(false);
    const left = readdirSync(dir);
    for (const name of [...stale, abandoned]) expect(left, name).not.toContain(name);
    for (const name of [...kept, `${id}-v1-interp.summary`, `${id}-v${old}-interp.summary`])
      expect(left, name).toContain(name);
    expect(readFileSync(join(outside, "target.json"), "utf8")).toBe("not the cache's");
    expect(left).toContain(libcEntry(dir, model).slice(dir.length + 1));
    // A warm analysis writes nothing, and so removes nothing.
    writeFileSync(join(dir, stale[0]!), "x");
    expect(libcCached(analyzeProgram("/bin/true", { cache: directoryCache(dir) }))).toBe(true);
    expect(readdirSync(dir)).toContain(stale[0]);
  });

  it("a folder it cannot sweep never fails the analysis", () => {
    // Not a folder, missing, or a symlink to one (not swept: its files are not the cache's to judge).
    const file = join(work, "plain-file");
    writeFileSync(file, "x");
    expect(removeStaleEntries(file)).toEqual([]);
    expect(removeStaleEntries(join(work, "missing", "deeper"))).toEqual([]);
    const real = join(work, "real");
    mkdirSync(real, { recursive: true });
    writeFileSync(join(real, `00aa-v${SUMMARY_VERSION - 1}.json`), "x");
    symlinkSync(real, join(work, "linked"));
    expect(removeStaleEntries(join(work, "linked"))).toEqual([]);
    expect(readdirSync(real)).toContain(`00aa-v${SUMMARY_VERSION - 1}.json`);
    expect(removeStaleEntries(real)).toEqual([`00aa-v${SUMMARY_VERSION - 1}.json`]);
    // The analysis goes on whatever the sweep meets: a cache under a plain file writes nothing and throws nothing.
    expect(analyzeProgram("/bin/true", { cache: directoryCache(join(file, "sub")) }).syscalls.length).toBeGreaterThan(
      0,
    );
  });

  it("an object whose summary is cached is read no further than its headers: damage past them fails only a cold run", () => {
    // /bin/true with its dynamic symbol table's entry size damaged: same build-id, so the same cache entry.
    const bytes = new Uint8Array(readFileSync("/bin/true"));
    const view = new DataView(bytes.buffer);
    const shoff = Number(view.getBigUint64(40, true));
    const dynsym = Array.from({ length: view.getUint16(60, true) }, (_, i) => shoff + i * 64).find(
      (at) => view.getUint32(at + 4, true) === 11,
    );
    expect(dynsym).toBeDefined();
    view.setBigUint64(dynsym! + 56, 7n, true);
    const damaged = join(work, "true-damaged");
    writeFileSync(damaged, bytes, { mode: 0o755 });
    const cold = (() => {
      try {
        analyzeProgram(damaged, { cache: memoryCache() });
      } catch (err) {
        return err;
      }
      return undefined;
    })();
    expect(cold).toBeInstanceOf(HomeostatError);
    expect((cold as HomeostatError).code).toBe("E_FORMAT");
    const cache = memoryCache();
    const intact = analyzeProgram("/bin/true", { cache });
    const warm = analyzeProgram(damaged, { cache });
    expect(warm.objects.every((o) => o.cached || o.buildId === undefined)).toBe(true);
    expect(warm.syscalls).toEqual(intact.syscalls);
  });
});
