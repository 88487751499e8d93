import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { HomeostatError } from "../errors.js";
import { Vocabulary } from "../syscalls/vocabulary.js";
import { SeededRandom } from "./random.js";
import { Stide, stideFactory } from "./stide.js";
import { adfaMissingReason, firstDifference, loadAdfa } from "./testing/traces.js";
import type { WindowTableTuning } from "./windowTable.js";

/** The reference: a plain Set of windows spelled as strings. */
function referenceWindows(traces: readonly Uint16Array[], k: number): Set<string> {
  const set = new Set<string>();
  for (const t of traces) for (let i = k - 1; i < t.length; i++) set.add(t.subarray(i - k + 1, i + 1).join(","));
  return set;
}

function referenceScores(set: Set<string>, trace: Uint16Array, k: number): Float64Array {
  const out = new Float64Array(trace.length);
  for (let i = 0; i < trace.length; i++) {
    out[i] = i < k - 1 ? Number.NaN : set.has(trace.subarray(i - k + 1, i + 1).join(",")) ? 0 : 1;
  }
  return out;
}

/** The reference min Hamming distance of a window to a set of windows (k when the set is empty). */
function referenceHamming(windows: readonly number[][], w: ArrayLike<number>): number {
  let best = w.length;
  for (const x of windows) {
    let d = 0;
    for (let j = 0; j < w.length; j++) if (x[j] !== w[j]) d++;
    best = Math.min(best, d);
  }
  return best;
}

function score(d: Stide, trace: Uint16Array): Float64Array {
  const out = new Float64Array(trace.length);
  d.scoreTrace(trace, out);
  return out;
}

function stide(k: number, tuning?: WindowTableTuning): Stide {
  return new Stide({ k }, false, tuning);
}

const TUNINGS: { name: string; tuning: WindowTableTuning }[] = [
  { name: "packed keys", tuning: {} },
  { name: "hashed keys", tuning: { forceHashed: true } },
  { name: "hashed keys, hash cut to 2 bits", tuning: { forceHashed: true, hashMask: 0x3 } },
  { name: "hashed keys, every window colliding", tuning: { forceHashed: true, hashMask: 0 } },
];

describe("stide on a worked example (k = 3)", () => {
  const vocab = new Vocabulary();
  const ids = (s: string): Uint16Array => Uint16Array.from(s.split(" ").map((t) => vocab.intern(t)));
  const normal = ids("open read mmap mmap open read mmap");
  // Its windows, by hand: (open read mmap) (read mmap mmap) (mmap mmap open) (mmap open read) (open read mmap):
  // 5 windows, 4 distinct.
  const byHand = [
    ["open", "read", "mmap"],
    ["read", "mmap", "mmap"],
    ["mmap", "mmap", "open"],
    ["mmap", "open", "read"],
  ];

  for (const { name, tuning } of TUNINGS) {
    it(`stores exactly the hand-listed windows (${name})`, () => {
      const d = stide(3, tuning);
      d.train([normal]);
      expect(d.distinctWindows).toBe(4);
      expect(d.totalWindows).toBe(5);
      for (const w of byHand) expect(d.windowCount(w.map((t) => vocab.lookup(t)))).toBe(1);
      expect(d.windowCount(ids("read mmap open"))).toBe(0);
      expect(d.windowCount(ids("open open open"))).toBe(0);
    });

    it(`flags the hand-derived mismatches of a test trace (${name})`, () => {
      const d = stide(3, tuning);
      d.train([normal]);
      // open read mmap open read mmap mmap: windows end at calls 2..6:
      // (open read mmap) seen, (read mmap open) NOT seen, (mmap open read) seen, (open read mmap) seen,
      // (read mmap mmap) seen.
      expect(Array.from(score(d, ids("open read mmap open read mmap mmap")))).toEqual([
        Number.NaN,
        Number.NaN,
        0,
        1,
        0,
        0,
        0,
      ]);
      // mmap mmap mmap open close: (mmap mmap mmap) no, (mmap mmap open) yes, (mmap open close) no.
      expect(Array.from(score(d, ids("mmap mmap mmap open close")))).toEqual([Number.NaN, Number.NaN, 1, 0, 1]);
      // Two calls: no complete window.
      expect(Array.from(score(d, ids("open read")))).toEqual([Number.NaN, Number.NaN]);
    });
  }

  it("gives Hofmeyr's minimum Hamming distance by hand", () => {
    const d = stide(3);
    d.train([normal]);
    const at = (s: string): number => {
      const st = d.newState();
      for (const id of ids(s)) d.step(st, id);
      return d.minHammingDistance(st);
    };
    expect(at("open read mmap")).toBe(0);
    // (read mmap open) vs (read mmap mmap): differs in the last place only.
    expect(at("read mmap open")).toBe(1);
    // (mmap mmap mmap) vs (mmap mmap open): 1.
    expect(at("mmap mmap mmap")).toBe(1);
    // (close close close) shares nothing with any window.
    expect(at("close close close")).toBe(3);
    // (read open mmap): vs (open read mmap) 2, (read mmap mmap) 1 ... the best is 1.
    expect(at("read open mmap")).toBe(1);
    expect(at("open read")).toBeNaN();
    // Normalised signal of a trace: max d_min / k = 3/3 for the trace holding (close close close).
    expect(d.anomalySignal(ids("open read mmap close close close"))).toBe(1);
    expect(d.anomalySignal(ids("open read mmap open read"))).toBe(1 / 3);
    expect(d.anomalySignal(ids("open read mmap mmap"))).toBe(0);
    expect(d.anomalySignal(ids("open read"))).toBeNaN();
    // With nothing learnt every window is at distance k.
    const empty = stide(3);
    const st = empty.newState();
    for (const id of ids("open read mmap")) empty.step(st, id);
    expect(empty.minHammingDistance(st)).toBe(3);
  });
});

describe("stide is exact against a brute-force Set of windows", () => {
  const traceArb = fc.array(fc.integer({ min: 0, max: 6 }), { maxLength: 50 }).map((a) => Uint16Array.from(a));
  for (const { name, tuning } of TUNINGS) {
    it(`matches the reference on random traces (${name})`, () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 2, max: 9 }),
          fc.array(traceArb, { maxLength: 8 }),
          fc.array(traceArb, { minLength: 1, maxLength: 5 }),
          (k, train, tests) => {
            const d = stide(k, tuning);
            d.train(train);
            const ref = referenceWindows(train, k);
            expect(d.distinctWindows).toBe(ref.size);
            for (const t of tests) expect(firstDifference([score(d, t)], [referenceScores(ref, t, k)])).toBeUndefined();
          },
        ),
        { numRuns: 150, seed: 7 },
      );
    });
  }

  it("stays exact when retraining grows the vocabulary across the 64-bit packing limit", () => {
    // k = 8: ids up to 254 pack in 8 bits (exactly 64 bits); id 255 needs 9 bits, so the table turns to hashed keys.
    const rng = new SeededRandom(5);
    const gen = (n: number, max: number): Uint16Array => Uint16Array.from({ length: n }, () => rng.nextInt(max + 1));
    const small = Array.from({ length: 40 }, () => gen(60, 20));
    const wide = [
      ...Array.from({ length: 20 }, () => gen(80, 254)),
      Uint16Array.of(254, 254, 254, 254, 254, 254, 254, 254),
    ];
    const wider = [...Array.from({ length: 20 }, () => gen(80, 400)), ...small.slice(0, 3)];
    const tests = [...small.slice(0, 5), ...wide.slice(0, 5), ...wider.slice(0, 5), gen(200, 500)];
    const d = stide(8);
    const seen: Uint16Array[] = [];
    const stepsPacked: boolean[] = [];
    for (const batch of [small, wide, wider]) {
      d.train(batch);
      seen.push(...batch);
      stepsPacked.push(d.packedKeys);
      const ref = referenceWindows(seen, 8);
      expect(d.distinctWindows).toBe(ref.size);
      for (const t of tests) expect(firstDifference([score(d, t)], [referenceScores(ref, t, 8)])).toBeUndefined();
    }
    expect(stepsPacked).toEqual([true, true, false]);
  });

  it("keeps per-window counts exact for windows that share a hash", () => {
    // With the hash cut to nothing, every window has the same key; only the stored window tells them apart.
    const d = new Stide({ k: 4 }, true, { forceHashed: true, hashMask: 0 });
    const traces = [Uint16Array.of(1, 2, 3, 4, 1, 2, 3, 4, 1), Uint16Array.of(4, 3, 2, 1)];
    d.train(traces);
    // Windows by hand: 1234 2341 3412 4123 1234 2341 of the first trace, 4321 of the second.
    expect(d.windowCount([1, 2, 3, 4])).toBe(2);
    expect(d.windowCount([2, 3, 4, 1])).toBe(2);
    expect(d.windowCount([3, 4, 1, 2])).toBe(1);
    expect(d.windowCount([4, 1, 2, 3])).toBe(1);
    expect(d.windowCount([4, 3, 2, 1])).toBe(1);
    expect(d.windowCount([1, 2, 3, 5])).toBe(0);
    expect(d.windowCount([3, 2, 1, 4])).toBe(0);
    expect(d.distinctWindows).toBe(5);
  });

  it("gives the exact min Hamming distance (checked by brute force)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 7 }),
        fc.array(traceArb, { maxLength: 6 }),
        traceArb,
        fc.boolean(),
        (k, train, test, hashed) => {
          const d = stide(k, hashed ? { forceHashed: true } : {});
          d.train(train);
          const windows = [...referenceWindows(train, k)].map((s) => s.split(",").map(Number));
          const st = d.newState();
          for (let i = 0; i < test.length; i++) {
            d.step(st, test[i]!);
            const got = d.minHammingDistance(st);
            if (i < k - 1) expect(got).toBeNaN();
            else expect(got).toBe(referenceHamming(windows, test.subarray(i - k + 1, i + 1)));
          }
        },
      ),
      { numRuns: 200, seed: 11 },
    );
  });
});

const adfaReason = adfaMissingReason();
if (adfaReason !== undefined) {
  console.log(`skipping stide ADFA-LD checks: ${adfaReason}`);
}

describe.skipIf(adfaReason !== undefined)("stide on all of ADFA-LD", () => {
  for (const k of [2, 6, 10, 32]) {
    it(`counts exactly the brute-force mismatches of every validation and attack trace (k = ${k})`, () => {
      const adfa = loadAdfa();
      expect(adfa.training).toHaveLength(833);
      expect(adfa.validation).toHaveLength(4372);
      expect(adfa.attack).toHaveLength(746);
      const d = stideFactory.create({ k });
      d.train(adfa.training);
      const ref = referenceWindows(adfa.training, k);
      expect(d.distinctWindows).toBe(ref.size);
      for (const split of [adfa.validation, adfa.attack]) {
        const got: number[] = [];
        const want: number[] = [];
        for (const t of split) {
          const out = score(d, t);
          const exp = referenceScores(ref, t, k);
          let g = 0;
          let w = 0;
          for (let i = 0; i < t.length; i++) {
            if (out[i] === 1) g++;
            if (exp[i] === 1) w++;
          }
          got.push(g);
          want.push(w);
          const diff = firstDifference([out], [exp]);
          if (diff !== undefined) expect.fail(`trace ${got.length - 1}: ${diff}`);
        }
        expect(got).toEqual(want);
        expect(want.some((n) => n > 0)).toBe(true);
      }
    });
  }

  it("gives the brute-force min Hamming distance of attack windows (k = 6)", () => {
    const adfa = loadAdfa();
    const k = 6;
    const d = stideFactory.create({ k });
    d.train(adfa.training);
    const windows = [...referenceWindows(adfa.training, k)].map((s) => s.split(",").map(Number));
    let checked = 0;
    const dist = new Set<number>();
    for (const t of adfa.attack.slice(0, 40)) {
      const st = d.newState();
      for (let i = 0; i < t.length && checked < 400; i++) {
        if (d.step(st, t[i]!) !== 1) continue;
        const got = d.minHammingDistance(st);
        expect(got).toBe(referenceHamming(windows, t.subarray(i - k + 1, i + 1)));
        dist.add(got);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(100);
    expect(dist.size).toBeGreaterThan(1);
  });
});

describe("stide sizes and errors", () => {
  it("holds 60,000 distinct windows (k = 6) in under 2 MB, in memory and serialised", () => {
    const rng = new SeededRandom(9);
    const set = new Set<string>();
    const traces: Uint16Array[] = [];
    while (traces.length < 60_000) {
      const w = Uint16Array.from({ length: 6 }, () => rng.nextInt(200));
      const key = w.join(",");
      if (set.has(key)) continue;
      set.add(key);
      traces.push(w);
    }
    const d = stideFactory.create({ k: 6 });
    d.train(traces);
    expect(d.distinctWindows).toBe(60_000);
    expect(d.packedKeys).toBe(true);
    expect(d.memoryBytes()).toBeLessThan(2 * 1024 * 1024);
    const bytes = d.serialize();
    expect(bytes.length).toBeLessThan(2 * 1024 * 1024);
    const back = stideFactory.deserialize(d.options, bytes);
    expect(back.distinctWindows).toBe(60_000);
    expect(back.memoryBytes()).toBeLessThan(2 * 1024 * 1024);
  });

  it("rejects bad window lengths and options", () => {
    for (const k of [1, 0, -3, 2.5, 257]) {
      expect(() => stideFactory.create({ k })).toThrowError(HomeostatError);
    }
    expect(() => stideFactory.create({ k: "6" })).toThrowError(/must be a number/);
    expect(() => stideFactory.create({ window: 6 })).toThrowError(/no option "window"/);
  });

  it("refuses to merge different window lengths", () => {
    const a = stideFactory.create({ k: 5 });
    const b = stideFactory.create({ k: 6 });
    expect(() => a.merge(b)).toThrowError(/different options/);
  });

  it("rejects a payload whose windows are not canonical", () => {
    const d = stideFactory.create({ k: 2 });
    d.train([Uint16Array.of(0, 1, 2)]);
    const bytes = d.serialize();
    // The two windows (0,1) (1,2) are the last 8 bytes: swap them so that they are out of order.
    const bad = bytes.slice();
    bad.set(bytes.subarray(bytes.length - 4), bytes.length - 8);
    bad.set(bytes.subarray(bytes.length - 8, bytes.length - 4), bytes.length - 4);
    expect(() => stideFactory.deserialize(d.options, bad)).toThrowError(/not strictly sorted/);
    expect(() => stideFactory.deserialize({ k: 3 }, bytes)).toThrowError(/differs from the options/);
  });
});
