import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { HomeostatError } from "../errors.js";
import { groupedStratifiedKFold } from "./groupedKFold.js";

/** Normal traces (label 0, no group) followed by attack sessions of the given sizes (label 1, keys "s0", "s1"...). */
function dataset(normals: number, sessions: readonly number[]): { labels: number[]; groups: (string | undefined)[] } {
  const labels: number[] = Array<number>(normals).fill(0);
  const groups: (string | undefined)[] = Array<string | undefined>(normals).fill(undefined);
  sessions.forEach((size, s) => {
    for (let i = 0; i < size; i++) {
      labels.push(1);
      groups.push(`s${s}`);
    }
  });
  return { labels, groups };
}

/** The fold holding each index. */
function foldOf(folds: ReturnType<typeof groupedStratifiedKFold>, n: number): number[] {
  const out = Array<number>(n).fill(-1);
  folds.forEach((f, fi) => {
    for (const i of f.test) {
      expect(out[i]).toBe(-1); // in one test fold only
      out[i] = fi;
    }
  });
  return out;
}

describe("grouped stratified k-fold", () => {
  it("puts a hand-worked set's sessions whole into folds, largest first to the emptiest fold", () => {
    // Sessions of 5, 3, 2 and 2 attack traces, k = 3: 5 -> fold A, 3 -> B, 2 -> C, then 2 -> C (2 < 3 < 5).
    const { labels, groups } = dataset(9, [5, 3, 2, 2]);
    const folds = groupedStratifiedKFold(labels, groups, 3, 1);
    const of = foldOf(folds, labels.length);
    const sessionFold = (s: string) => new Set(groups.flatMap((g, i) => (g === s ? [of[i]] : [])));
    for (const s of ["s0", "s1", "s2", "s3"]) expect(sessionFold(s).size).toBe(1);
    const attacksPerFold = folds.map((f) => Array.from(f.test).filter((i) => labels[i] === 1).length);
    expect([...attacksPerFold].sort()).toEqual([3, 4, 5]);
    // Normals (label 0, dealt first) are stratified on their own: 3 per fold.
    expect(folds.map((f) => f.test.length - attacksPerFold[folds.indexOf(f)]!)).toEqual([3, 3, 3]);
  });

  it("never splits an attack session, whatever the group sizes (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 40 }),
        fc.array(fc.integer({ min: 1, max: 15 }), { minLength: 1, maxLength: 25 }),
        fc.integer({ min: 2, max: 10 }),
        fc.integer({ min: 0, max: 1_000_000 }),
        (normals, sessions, k, seed) => {
          const { labels, groups } = dataset(normals, sessions);
          fc.pre(k <= normals + sessions.length);
          const folds = groupedStratifiedKFold(labels, groups, k, seed);
          expect(folds).toHaveLength(k);
          const of = foldOf(folds, labels.length);
          expect(of.every((f) => f >= 0)).toBe(true); // every index tested exactly once
          const home = new Map<string, number>();
          groups.forEach((g, i) => {
            if (g === undefined) return;
            if (!home.has(g)) home.set(g, of[i]!);
            expect(of[i], `session ${g}`).toBe(home.get(g));
          });
          for (const f of folds) {
            expect(f.test.length + f.train.length).toBe(labels.length);
            expect(f.test.length).toBeGreaterThan(0);
            const inTest = new Set(f.test);
            for (const i of f.train) expect(inTest.has(i)).toBe(false);
          }
          // Largest-first greedy: the folds' attack counts differ by at most the largest session.
          const attacks = folds.map((f) => Array.from(f.test).filter((i) => labels[i] === 1).length);
          expect(Math.max(...attacks) - Math.min(...attacks)).toBeLessThanOrEqual(Math.max(...sessions));
          // Singleton normals are dealt evenly.
          const normal = folds.map((f) => Array.from(f.test).filter((i) => labels[i] === 0).length);
          expect(Math.max(...normal) - Math.min(...normal)).toBeLessThanOrEqual(1);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("is deterministic in the seed, and the seed matters", () => {
    const { labels, groups } = dataset(50, [4, 4, 4, 4, 4, 4, 3, 3, 2, 1, 1]);
    const tests = (seed: number) => groupedStratifiedKFold(labels, groups, 4, seed).map((f) => Array.from(f.test));
    expect(tests(3)).toEqual(tests(3));
    expect(tests(4)).not.toEqual(tests(3));
  });

  it("refuses too many folds for the groups, bad k and mismatched lengths", () => {
    const { labels, groups } = dataset(1, [3, 3]);
    expect(() => groupedStratifiedKFold(labels, groups, 4, 1)).toThrow(/3 groups of traces into 4 folds/);
    expect(() => groupedStratifiedKFold(labels, groups, 1, 1)).toThrow(HomeostatError);
    expect(() => groupedStratifiedKFold(labels, groups.slice(1), 2, 1)).toThrow(/group keys/);
  });
});
