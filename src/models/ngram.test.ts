import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { HomeostatError } from "../errors.js";
import { hmmFactory } from "./hmm.js";
import { type NgramDetector, ngramFactory } from "./ngram.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const adfaRoot = path.resolve(repoRoot, "../shared/datasets/adfa-ld");
const haveAdfa = existsSync(path.join(adfaRoot, "Training_Data_Master"));
if (!haveAdfa) console.log(`ngram ADFA-LD tests skipped: ${adfaRoot} not found`);

const bits = (p: number) => -Math.log2(p);

function trained(n: number, traces: number[][]): NgramDetector {
  const d = ngramFactory.create({ n });
  d.train(traces.map((t) => Uint16Array.from(t)));
  return d;
}

function score(d: NgramDetector, trace: number[]): number[] {
  const out = new Float64Array(trace.length);
  d.scoreTrace(Uint16Array.from(trace), out);
  return Array.from(out);
}

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return e instanceof HomeostatError ? e.code : "not a HomeostatError";
  }
  return undefined;
}

describe("ngram: interpolated Witten-Bell by hand", () => {
  // Training trace a b a b a c (ids 0 1 0 1 0 2).
  // Order 0: N = 6 calls, counts a:3 b:2 c:1, T = D = 3 distinct, alphabet D + 1 = 4 (with "unseen"):
  //   P0(w) = (c(w) + 3 * 1/4) / (6 + 3): a 3.75/9, b 2.75/9, c 1.75/9, unseen 0.75/9 (sum 9/9).
  // Order 1: context a (3 times) -> b, b, c: T = 2; context b (2 times) -> a, a: T = 1; c is never a context.
  //   P(w | a) = (c(a, w) + 2 P0(w)) / 5     P(w | b) = (c(b, w) + 1 P0(w)) / 3
  // Order 2: context "a b" (2 times) -> a, a: T = 1; "b a" (2 times) -> b, c: T = 2.
  const train = [[0, 1, 0, 1, 0, 2]];
  const p0 = { a: 3.75 / 9, b: 2.75 / 9, c: 1.75 / 9, unseen: 0.75 / 9 };
  const pGivenA = {
    a: (0 + 2 * p0.a) / 5,
    b: (2 + 2 * p0.b) / 5,
    c: (1 + 2 * p0.c) / 5,
    unseen: (2 * p0.unseen) / 5,
  };
  const pGivenB = { a: (2 + p0.a) / 3, b: p0.b / 3, c: p0.c / 3, unseen: p0.unseen / 3 };

  it("bigram: probabilities of every context", () => {
    const d = trained(2, train);
    expect(d.alphabetSeen).toBe(3);
    expect(d.probability([], 0)).toBeCloseTo(p0.a, 6);
    expect(d.probability([], 2)).toBeCloseTo(p0.c, 6);
    expect(d.probability([], 77)).toBeCloseTo(p0.unseen, 6);
    expect(d.probability([0], 1)).toBeCloseTo(pGivenA.b, 6); // (2 + 5.5/9) / 5 = 0.52222
    expect(d.probability([0], 0)).toBeCloseTo(pGivenA.a, 6); // 7.5/9 / 5 = 0.16667
    expect(d.probability([0], 9)).toBeCloseTo(pGivenA.unseen, 6); // escape 2/5, then 1/12
    expect(d.probability([1], 0)).toBeCloseTo(pGivenB.a, 6); // (2 + 3.75/9) / 3 = 0.80556
    expect(d.probability([1], 2)).toBeCloseTo(pGivenB.c, 6);
    // c was never followed by anything: its context is the empty one.
    expect(d.probability([2], 1)).toBeCloseTo(p0.b, 6);
    // Only the last n - 1 calls count.
    expect(d.probability([2, 2, 1], 0)).toBeCloseTo(pGivenB.a, 6);
  });

  it("bigram: a scored stream uses shorter contexts at its start and after unknown contexts", () => {
    const d = trained(2, train);
    const got = score(d, [0, 1, 2, 2, 7, 0]);
    const want = [p0.a, pGivenA.b, pGivenB.c, p0.c, p0.unseen, p0.a].map(bits);
    got.forEach((g, i) => {
      expect(g).toBeCloseTo(want[i]!, 5);
    });
    expect(d.signal).toEqual({ kind: "surprisal", anomalousAt: 10 });
  });

  it("trigram: two levels of interpolation", () => {
    const d = trained(3, train);
    const pAB = { a: (2 + 1 * pGivenB.a) / 3 }; // "a b" -> a twice, T = 1: 0.93519
    const pBA = { c: (1 + 2 * pGivenA.c) / 4 }; // "b a" -> b, c, T = 2: 0.38889
    expect(d.probability([0, 1], 0)).toBeCloseTo(pAB.a, 6);
    expect(d.probability([1, 0], 2)).toBeCloseTo(pBA.c, 6);
    const got = score(d, [0, 1, 0, 2]);
    const want = [p0.a, pGivenA.b, pAB.a, pBA.c].map(bits);
    got.forEach((g, i) => {
      expect(g).toBeCloseTo(want[i]!, 5);
    });
  });
});

const traceArb = fc.array(fc.integer({ min: 0, max: 6 }), { minLength: 1, maxLength: 60 });
const corpusArb = fc.array(traceArb, { minLength: 1, maxLength: 6 });

describe("ngram: properties", () => {
  it("every context's distribution over the seen ids and 'unseen' sums to 1", () => {
    fc.assert(
      fc.property(
        corpusArb,
        fc.integer({ min: 1, max: 8 }),
        fc.array(fc.integer({ min: 0, max: 8 }), { maxLength: 9 }),
        (corpus, n, ctx) => {
          const d = trained(n, corpus);
          const seen = new Set(corpus.flat());
          let sum = d.probability(ctx, 1000);
          for (const w of seen) sum += d.probability(ctx, w);
          expect(sum).toBeCloseTo(1, 5);
        },
      ),
      { numRuns: 150 },
    );
  });

  it("streaming equals batch scoring, state reset restarts the stream", () => {
    fc.assert(
      fc.property(corpusArb, fc.integer({ min: 1, max: 8 }), traceArb, (corpus, n, test) => {
        const d = trained(n, corpus);
        const batch = score(d, test);
        const st = d.newState();
        d.step(st, 3);
        st.reset();
        const stream = test.map((c) => d.step(st, c));
        expect(stream).toEqual(batch);
        for (const v of stream) expect(Number.isFinite(v) && v > 0).toBe(true);
      }),
      { numRuns: 100 },
    );
  });

  it("merging equals training on both inputs", () => {
    fc.assert(
      fc.property(corpusArb, corpusArb, fc.integer({ min: 1, max: 6 }), traceArb, (x, y, n, test) => {
        const a = trained(n, x);
        const b = trained(n, y);
        score(a, test); // freeze before merging: the merge must invalidate the frozen tables
        a.merge(b);
        const both = trained(n, [...x, ...y]);
        expect(score(a, test)).toEqual(score(both, test));
        expect(a.trainedCalls).toBe(both.trainedCalls);
        expect(a.trainedTraces).toBe(both.trainedTraces);
        const self = trained(n, x);
        self.merge(self);
        expect(score(self, test)).toEqual(score(trained(n, [...x, ...x]), test));
      }),
      { numRuns: 100 },
    );
  });

  it("incremental training equals training at once", () => {
    fc.assert(
      fc.property(corpusArb, corpusArb, fc.integer({ min: 1, max: 6 }), traceArb, (x, y, n, test) => {
        const a = trained(n, x);
        score(a, test);
        a.train(y.map((t) => Uint16Array.from(t)));
        expect(score(a, test)).toEqual(score(trained(n, [...x, ...y]), test));
      }),
      { numRuns: 50 },
    );
  });

  it("serialisation round trip is exact", () => {
    fc.assert(
      fc.property(corpusArb, fc.integer({ min: 1, max: 8 }), traceArb, (corpus, n, test) => {
        const d = trained(n, corpus);
        const bytes = d.serialize();
        const back = ngramFactory.deserialize(d.options, bytes);
        expect(back.serialize()).toEqual(bytes);
        expect(score(back, test)).toEqual(score(d, test));
        expect(back.trainedCalls).toBe(d.trainedCalls);
        expect(back.trainedTraces).toBe(d.trainedTraces);
      }),
      { numRuns: 60 },
    );
  });
});

describe("ngram: errors and options", () => {
  it("fills defaults and rejects bad options", () => {
    const d = ngramFactory.create();
    expect(d.options).toEqual({ n: 6, threshold: 10 });
    expect(ngramFactory.optionHelp.n?.default).toBe(6);
    expect(codeOf(() => ngramFactory.create({ n: 0 }))).toBe("E_USAGE");
    expect(codeOf(() => ngramFactory.create({ n: 2.5 }))).toBe("E_USAGE");
    expect(codeOf(() => ngramFactory.create({ threshold: -1 }))).toBe("E_USAGE");
    expect(codeOf(() => ngramFactory.create({ k: 3 }))).toBe("E_USAGE");
  });

  it("gives no signal (NaN) before training, and a stream open across training continues correctly", () => {
    const d = ngramFactory.create({ n: 3 });
    const st = d.newState();
    expect(Number.isNaN(d.step(st, 1))).toBe(true);
    expect(Number.isNaN(d.step(st, 2))).toBe(true);
    expect(score(d, [1, 2])).toEqual([Number.NaN, Number.NaN]);
    d.train([Uint16Array.of(1, 2, 3, 1, 2, 4)]);
    // The stream's history is 1 2: the next call is scored in context "1 2", as in a fresh stream 1 2 3.
    expect(d.step(st, 3)).toBe(score(d, [1, 2, 3])[2]);
  });

  it("merges only ngram detectors with equal options", () => {
    const a = trained(3, [[1, 2, 3]]);
    expect(a.mergeable).toBe(true);
    expect(codeOf(() => a.merge(trained(4, [[1, 2, 3]])))).toBe("E_MODEL");
    expect(codeOf(() => a.merge(hmmFactory.create({ states: 2 })))).toBe("E_MODEL");
  });

  it("rejects truncated, padded, and foreign bytes", () => {
    const d = trained(3, [[1, 2, 3, 1, 2, 4]]);
    const bytes = d.serialize();
    expect(codeOf(() => ngramFactory.deserialize(d.options, bytes.subarray(0, bytes.length - 3)))).toBe("E_PARSE");
    expect(codeOf(() => ngramFactory.deserialize(d.options, Uint8Array.of(...bytes, 0)))).toBe("E_PARSE");
    expect(codeOf(() => ngramFactory.deserialize({ n: 4, threshold: 10 }, bytes))).toBe("E_PARSE");
    const badVersion = bytes.slice();
    badVersion[0] = 99;
    expect(codeOf(() => ngramFactory.deserialize(d.options, badVersion))).toBe("E_VERSION");
    // A count entry pointing at a node that does not exist (the last entry's node field).
    const badNode = bytes.slice();
    new DataView(badNode.buffer).setInt32(badNode.length - 14, 1_000_000, true);
    expect(codeOf(() => ngramFactory.deserialize(d.options, badNode))).toBe("E_PARSE");
  });
});

/** ADFA-LD traces of one split, as dense ids shared through `ids`. */
function loadAdfa(dir: string, ids: Map<number, number>, limit = Number.POSITIVE_INFINITY): Uint16Array[] {
  const files: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((x, y) => (x.name < y.name ? -1 : 1))) {
      if (e.isDirectory()) walk(path.join(d, e.name));
      else if (e.name.endsWith(".txt")) files.push(path.join(d, e.name));
    }
  };
  walk(path.join(adfaRoot, dir));
  return files.slice(0, limit).map((f) => {
    const nums = readFileSync(f, "latin1").trim().split(/\s+/).map(Number);
    return Uint16Array.from(nums, (v) => {
      let id = ids.get(v);
      if (id === undefined) {
        id = ids.size;
        ids.set(v, id);
      }
      return id;
    });
  });
}

function meanSurprisal(d: NgramDetector, trace: Uint16Array): number {
  const out = new Float64Array(trace.length);
  d.scoreTrace(trace, out);
  let s = 0;
  for (const v of out) s += v;
  return s / trace.length;
}

/** P(a random positive scores above a random negative), ties counting half. */
function auc(neg: number[], pos: number[]): number {
  let wins = 0;
  for (const p of pos) for (const q of neg) wins += p > q ? 1 : p === q ? 0.5 : 0;
  return wins / (pos.length * neg.length);
}

describe.skipIf(!haveAdfa)("ngram on ADFA-LD", () => {
  it("gives held-out normal traces lower surprisal than attack traces", () => {
    const ids = new Map<number, number>();
    const train = loadAdfa("Training_Data_Master", ids);
    const validation = loadAdfa("Validation_Data_Master", ids, 1500);
    const attack = loadAdfa("Attack_Data_Master", ids);
    const d = ngramFactory.create();
    d.train(train);
    expect(d.trainedCalls).toBe(308_077);
    expect(d.alphabetSeen).toBe(150);
    const v = validation.map((t) => meanSurprisal(d, t));
    const a = attack.map((t) => meanSurprisal(d, t));
    const mean = (x: number[]) => x.reduce((p, q) => p + q, 0) / x.length;
    expect(mean(v)).toBeLessThan(mean(a));
    // Ranking traces by mean surprisal separates attacks from normal traces well above chance.
    expect(auc(v, a)).toBeGreaterThan(0.75);
    // A model of the training data explains the training data better than held-out data.
    expect(mean(train.slice(0, 300).map((t) => meanSurprisal(d, t)))).toBeLessThan(mean(v));
  });
});
