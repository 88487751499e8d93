import { describe, expect, it } from "vitest";
import type { EvalUnit } from "./experiment.js";
import { runKsKfold } from "./ksKfold.js";
import { SeededRandom } from "../models/random.js";

// Two symbols. Normal traces alternate 0 1 0 1 ... (bigrams 01 and 10); attacks repeat 1 (bigram 11): a supervised
// classifier must separate them perfectly, and the k-fold table must add up to the whole set.
function units(seed: number): EvalUnit[] {
  const rng = new SeededRandom(seed);
  const out: EvalUnit[] = [];
  for (let i = 0; i < 40; i++) {
    const attack = i % 4 === 0;
    const n = 50 + rng.nextInt(50);
    const calls = new Uint16Array(n);
    for (let j = 0; j < n; j++) calls[j] = attack ? (rng.next() < 0.9 ? 1 : 0) : j % 2;
    out.push({
      name: `t${i}`,
      traces: [{ calls }],
      attack,
      ...(attack ? { attackType: i % 8 === 0 ? "A" : "B" } : {}),
    });
  }
  return out;
}

describe("runKsKfold", () => {
  const lookup = Uint8Array.from([0, 1]);
  const data = units(3);
  const r = runKsKfold(data, { k: 5, seed: 1, lookup, symbols: 2, classifier: { models: 2, k: 1 } });

  it("has one row per fold whose sums give the total, and the total covers every trace once", () => {
    expect(r.rows).toHaveLength(5);
    for (const key of ["n", "tp", "fn", "fp", "tn"] as const) {
      expect(r.rows.reduce((a, x) => a + x[key], 0)).toBe(r.total[key]);
    }
    expect(r.total.n).toBe(40);
    expect(r.total.tp + r.total.fn).toBe(10);
  });

  it("separates clearly different behaviour", () => {
    expect(r.total).toEqual(expect.objectContaining({ tp: 10, fn: 0, fp: 0, tn: 30, precision: 1, recall: 1 }));
    expect(r.model.auc).toBe(1);
    expect(r.model.per_attack.map((p) => p.type)).toEqual(["A", "B"]);
  });

  it("is deterministic in the seed", () => {
    const again = runKsKfold(data, { k: 5, seed: 1, lookup, symbols: 2, classifier: { models: 2, k: 1 } });
    expect(again.rows).toEqual(r.rows);
  });

  it("needs both labels", () => {
    expect(() =>
      runKsKfold(
        data.filter((u) => !u.attack),
        { k: 5, seed: 1, lookup, symbols: 2 },
      ),
    ).toThrow(/both/);
  });
});
