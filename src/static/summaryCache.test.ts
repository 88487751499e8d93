// The build-id cache on disk: a program analysed cold and then warm from its cache files gets the same model, a
// damaged entry (cut short, a byte changed, another version) is a miss that is analysed again and rewritten, and a
// write leaves either the whole entry or nothing.

import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { analyzeProgram } from "./staticAnalysis.js";
import { cacheFile, cacheKey, directoryCache } from "./summaryCache.js";
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
});
