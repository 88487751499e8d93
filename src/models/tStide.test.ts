import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Vocabulary } from "../syscalls/vocabulary.js";
import { stideFactory } from "./stide.js";
import { adfaMissingReason, firstDifference, loadAdfa, scoreAll } from "./testing/traces.js";
import { rareCountLimit, TStide, tStideFactory } from "./tStide.js";

function score(d: { scoreTrace(t: Uint16Array, o: Float64Array): void }, trace: Uint16Array): number[] {
  const out = new Float64Array(trace.length);
  d.scoreTrace(trace, out);
  return Array.from(out);
}

describe("t-stide on a worked example (k = 2, threshold 0.2)", () => {
  const vocab = new Vocabulary();
  const ids = (s: string): Uint16Array => Uint16Array.from(s.split(" ").map((t) => vocab.intern(t)));

  it("flags windows unseen or rarer than the threshold, relative to all training windows", () => {
    const d = tStideFactory.create({ k: 2, threshold: 0.2 });
    // Windows of "a b a b a b a b c", by hand: ab ba ab ba ab ba ab bc -> ab 4, ba 3, bc 1; 8 in all.
    d.train([ids("a b a b a b a b c")]);
    expect(d.totalWindows).toBe(8);
    expect(d.windowCount(ids("a b"))).toBe(4);
    expect(d.windowCount(ids("b a"))).toBe(3);
    expect(d.windowCount(ids("b c"))).toBe(1);
    // bc is 1/8 = 0.125 < 0.2: rare. ba is 3/8: not. The smallest non-rare count is 2 (2/8 = 0.25).
    expect(d.rareBelow).toBe(2);
    expect(score(d, ids("a b c d"))).toEqual([Number.NaN, 0, 1, 1]);
    expect(score(d, ids("b a b"))).toEqual([Number.NaN, 0, 0]);
    // stide on the same data flags only the unseen window.
    const s = stideFactory.create({ k: 2 });
    s.train([ids("a b a b a b a b c")]);
    expect(score(s, ids("a b c d"))).toEqual([Number.NaN, 0, 0, 1]);

    // More training: "b c b c b c" adds bc 3, cb 2 (13 windows in all). bc is now 4/13 (not rare), cb 2/13 (rare).
    d.train([ids("b c b c b c")]);
    expect(d.totalWindows).toBe(13);
    expect(d.rareBelow).toBe(3);
    expect(score(d, ids("a b c b"))).toEqual([Number.NaN, 0, 0, 1]);

    // Ten cc windows make 23 in all: the threshold count is 5 (4.6 rounded up), so ab (4) and ba (3) are now rare
    // although they were common: the threshold is relative to the training total at scoring time.
    d.train([ids("c c c c c c c c c c c")]);
    expect(d.totalWindows).toBe(23);
    expect(d.rareBelow).toBe(5);
    expect(score(d, ids("a b a c c"))).toEqual([Number.NaN, 1, 1, 1, 0]);
  });

  it("adds counts when merging", () => {
    const a = tStideFactory.create({ k: 2, threshold: 0.2 });
    const b = tStideFactory.create({ k: 2, threshold: 0.2 });
    a.train([ids("a b a b a b a b c")]);
    b.train([ids("b c b c b c")]);
    a.merge(b);
    expect(a.windowCount(ids("b c"))).toBe(4);
    expect(a.windowCount(ids("c b"))).toBe(2);
    expect(a.totalWindows).toBe(13);
    expect(a.rareBelow).toBe(3);
  });

  it("restores counts and the threshold from its bytes", () => {
    const d = tStideFactory.create({ k: 2, threshold: 0.2 });
    d.train([ids("a b a b a b a b c")]);
    const back = tStideFactory.deserialize(d.options, d.serialize());
    expect(back.windowCount(ids("a b"))).toBe(4);
    expect(back.rareBelow).toBe(2);
    expect(score(back, ids("a b c d"))).toEqual([Number.NaN, 0, 1, 1]);
  });
});

describe("rareCountLimit", () => {
  it("is the smallest count whose share reaches the threshold", () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.integer({ min: 1, max: 2_000_000_000 }),
        (t, total) => {
          const c = rareCountLimit(t, total);
          expect(Number.isInteger(c)).toBe(true);
          expect(c / total >= t).toBe(true);
          if (c > 0) expect((c - 1) / total < t).toBe(true);
        },
      ),
      { numRuns: 2000, seed: 3 },
    );
    expect(rareCountLimit(0.00001, 300_000)).toBe(3);
    expect(rareCountLimit(0.5, 0)).toBe(0);
  });

  it("rejects thresholds outside [0, 1]", () => {
    expect(() => tStideFactory.create({ threshold: -0.1 })).toThrowError(/threshold/);
    expect(() => tStideFactory.create({ threshold: 1.5 })).toThrowError(/threshold/);
  });
});

const adfaReason = adfaMissingReason();
if (adfaReason !== undefined) {
  console.log(`skipping t-stide ADFA-LD checks: ${adfaReason}`);
}

describe.skipIf(adfaReason !== undefined)("t-stide on ADFA-LD", () => {
  const cases = [
    { k: 6, threshold: 0.00001 },
    { k: 6, threshold: 0.0001 },
    { k: 10, threshold: 0.00001 },
  ];
  for (const { k, threshold } of cases) {
    it(`matches a brute-force count Map on every validation and attack trace (k=${k}, threshold=${threshold})`, () => {
      const adfa = loadAdfa();
      const counts = new Map<string, number>();
      let total = 0;
      for (const t of adfa.training) {
        for (let i = k - 1; i < t.length; i++) {
          const key = t.subarray(i - k + 1, i + 1).join(",");
          counts.set(key, (counts.get(key) ?? 0) + 1);
          total++;
        }
      }
      const d = new TStide({ k, threshold });
      d.train(adfa.training);
      expect(d.totalWindows).toBe(total);
      expect(d.distinctWindows).toBe(counts.size);
      const tests = [...adfa.validation, ...adfa.attack];
      const expected = tests.map((t) => {
        const out = new Float64Array(t.length);
        for (let i = 0; i < t.length; i++) {
          if (i < k - 1) out[i] = Number.NaN;
          else {
            const c = counts.get(t.subarray(i - k + 1, i + 1).join(",")) ?? 0;
            out[i] = c === 0 || c / total < threshold ? 1 : 0;
          }
        }
        return out;
      });
      expect(firstDifference(scoreAll(d, tests), expected)).toBeUndefined();
      // The threshold must matter here: t-stide flags calls that stide does not.
      const s = stideFactory.create({ k });
      s.train(adfa.training);
      const sum = (xs: Float64Array[]): number =>
        xs.reduce((a, o) => a + o.reduce((b, v) => b + (v === 1 ? 1 : 0), 0), 0);
      expect(sum(expected)).toBeGreaterThan(sum(scoreAll(s, tests)));
    });
  }
});
