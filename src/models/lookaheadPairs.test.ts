import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { HomeostatError } from "../errors.js";
import { Vocabulary } from "../syscalls/vocabulary.js";
import { type LookaheadPairs, lookaheadPairsFactory } from "./lookaheadPairs.js";
import { adfaMissingReason, firstDifference, loadAdfa, scoreAll } from "./testing/traces.js";

/** The reference: a Set of numeric (lag, prev, cur) keys. */
function referencePairs(traces: readonly Uint16Array[], L: number): Set<number> {
  const set = new Set<number>();
  for (const t of traces) {
    for (let i = 0; i < t.length; i++) {
      for (let l = 1; l < L && l <= i; l++) set.add((l * 65536 + t[i - l]!) * 65536 + t[i]!);
    }
  }
  return set;
}

function referenceScores(set: Set<number>, trace: Uint16Array, L: number): Float64Array {
  const out = new Float64Array(trace.length);
  for (let i = 0; i < trace.length; i++) {
    if (i === 0) {
      out[i] = Number.NaN;
      continue;
    }
    let c = 0;
    for (let l = 1; l < L && l <= i; l++) if (!set.has((l * 65536 + trace[i - l]!) * 65536 + trace[i]!)) c++;
    out[i] = c;
  }
  return out;
}

function score(d: LookaheadPairs, trace: Uint16Array): number[] {
  const out = new Float64Array(trace.length);
  d.scoreTrace(trace, out);
  return Array.from(out);
}

describe("lookahead pairs on Forrest et al.'s 1996 example (window 4: lags 1..3)", () => {
  const vocab = new Vocabulary();
  const ids = (s: string): Uint16Array => Uint16Array.from(s.split(" ").map((t) => vocab.intern(t)));
  const normal = ids("open read mmap mmap open getrlimit mmap close");
  // The paper's table, by hand: for each call, the calls that follow it at position 1, 2 and 3.
  const followers: Record<string, string[][]> = {
    open: [["read", "getrlimit"], ["mmap"], ["mmap", "close"]],
    read: [["mmap"], ["mmap"], ["open"]],
    mmap: [
      ["mmap", "open", "close"],
      ["open", "getrlimit"],
      ["getrlimit", "mmap"],
    ],
    getrlimit: [["mmap"], ["close"], []],
    close: [[], [], []],
  };

  it("learns exactly the paper's pairs", () => {
    const d = lookaheadPairsFactory.create({ L: 4 });
    d.train([normal]);
    let pairs = 0;
    for (const [prev, byLag] of Object.entries(followers)) {
      for (let lag = 1; lag <= 3; lag++) {
        for (const cur of Object.keys(followers)) {
          const want = byLag[lag - 1]!.includes(cur);
          if (want) pairs++;
          expect(d.hasPair(lag, vocab.lookup(prev), vocab.lookup(cur)), `${prev} +${lag} ${cur}`).toBe(want);
        }
      }
    }
    expect(d.distinctPairs).toBe(pairs);
  });

  it("counts the paper's 4 mismatches in the trace with one mmap replaced by open", () => {
    const d = lookaheadPairsFactory.create({ L: 4 });
    d.train([normal]);
    // open read mmap OPEN open getrlimit mmap close. By hand, per call:
    //   open(3): open +3 open no, read +2 open no, mmap +1 open yes          -> 2
    //   open(4): open +1 open no, mmap +2 open yes, read +3 open yes         -> 1
    //   getrlimit(5): open +1 yes, open +2 getrlimit no, mmap +3 yes         -> 1
    //   mmap(6), close(7), read(1), mmap(2): all pairs seen                  -> 0
    const got = score(d, ids("open read mmap open open getrlimit mmap close"));
    expect(got).toEqual([Number.NaN, 0, 0, 2, 1, 1, 0, 0]);
    expect(got.slice(1).reduce((a, b) => a + b, 0)).toBe(4);
  });

  it("checks only the lags a call has at the start of a stream, and counts every lag of an unseen call", () => {
    const d = lookaheadPairsFactory.create({ L: 4 });
    d.train([normal]);
    expect(score(d, ids("read mmap"))).toEqual([Number.NaN, 0]);
    // close never follows read at lag 1: 1 of the 1 lag available.
    expect(score(d, ids("read close"))).toEqual([Number.NaN, 1]);
    const unseen = ids("open read fork");
    expect(unseen[2]).toBeGreaterThan(4);
    expect(score(d, unseen)).toEqual([Number.NaN, 0, 2]);
    expect(score(d, ids("fork open read mmap mmap"))).toEqual([Number.NaN, 1, 1, 1, 0]);
  });

  it("keeps pH's locality frame as an option", () => {
    const d = lookaheadPairsFactory.create({ locality: 64 });
    expect(d.locality).toBe(64);
    expect(d.L).toBe(9);
    expect(lookaheadPairsFactory.create().locality).toBe(128);
  });
});

describe("lookahead pairs are exact against a brute-force Set of pairs", () => {
  const traceArb = fc.array(fc.integer({ min: 0, max: 8 }), { maxLength: 60 }).map((a) => Uint16Array.from(a));
  it("on random traces for every window length (one-byte and four-byte masks)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 33 }),
        fc.array(traceArb, { maxLength: 6 }),
        fc.array(traceArb, { maxLength: 6 }),
        fc.array(traceArb, { minLength: 1, maxLength: 4 }),
        (L, x, y, tests) => {
          const d = lookaheadPairsFactory.create({ L });
          d.train(x);
          d.train(y);
          const ref = referencePairs([...x, ...y], L);
          expect(d.distinctPairs).toBe(ref.size);
          for (const t of tests) {
            expect(firstDifference(scoreAll(d, [t]), [referenceScores(ref, t, L)])).toBeUndefined();
          }
        },
      ),
      { numRuns: 200, seed: 5 },
    );
  });
});

describe("lookahead pairs limits and errors", () => {
  it("refuses ids beyond the dense table", () => {
    const d = lookaheadPairsFactory.create();
    let err: unknown;
    try {
      d.train([Uint16Array.of(1, 5000)]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(HomeostatError);
    expect((err as HomeostatError).code).toBe("E_LIMIT");
    // Scoring such ids is fine: they are simply unseen.
    d.train([Uint16Array.of(1, 2, 3)]);
    expect(score(d, Uint16Array.of(1, 60000, 2))).toEqual([Number.NaN, 1, 2]);
  });

  it("rejects window lengths outside 2..33", () => {
    for (const L of [1, 34, 3.5])
      expect(() => lookaheadPairsFactory.create({ L })).toThrowError(/an integer from 2 to 33/);
  });

  it("rejects a payload with mask bits beyond its lags", () => {
    const d = lookaheadPairsFactory.create({ L: 3 });
    d.train([Uint16Array.of(0, 1, 0)]);
    const bytes = d.serialize();
    const bad = bytes.slice();
    bad[bad.length - 1] = 0x80;
    expect(() => lookaheadPairsFactory.deserialize(d.options, bad)).toThrowError(/bits beyond lag 2/);
  });
});

const adfaReason = adfaMissingReason();
if (adfaReason !== undefined) {
  console.log(`skipping lookahead pairs ADFA-LD checks: ${adfaReason}`);
}

describe.skipIf(adfaReason !== undefined)("lookahead pairs on all of ADFA-LD", () => {
  it("counts exactly the brute-force unseen pairs of every validation and attack call (L = 9)", () => {
    const adfa = loadAdfa();
    const L = 9;
    const d = lookaheadPairsFactory.create({ L });
    d.train(adfa.training);
    const ref = referencePairs(adfa.training, L);
    expect(d.distinctPairs).toBe(ref.size);
    const tests = [...adfa.validation, ...adfa.attack];
    expect(
      firstDifference(
        scoreAll(d, tests),
        tests.map((t) => referenceScores(ref, t, L)),
      ),
    ).toBeUndefined();
  });
});
