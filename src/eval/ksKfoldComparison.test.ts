import { describe, expect, it } from "vitest";
import { SeededRandom } from "../models/random.js";
import type { EvalUnit } from "./experiment.js";
import { runKsKfold } from "./ksKfold.js";
import { hasSharedSessions, LEAKY_MODEL_NAME, runKsKfoldComparison } from "./ksKfoldComparison.js";

// Two symbols. Normal traces alternate 0 1 (bigrams 01, 10); each attack session repeats 1 with its own share of
// noise, so its traces resemble one another more than other sessions' (what makes random folds leak).
function units(seed: number, sessions: readonly number[]): EvalUnit[] {
  const rng = new SeededRandom(seed);
  const out: EvalUnit[] = [];
  const calls = (f: (j: number) => number) => Uint16Array.from({ length: 40 + rng.nextInt(40) }, (_, j) => f(j));
  for (let i = 0; i < 40; i++) out.push({ name: `n${i}`, traces: [{ calls: calls((j) => j % 2) }], attack: false });
  sessions.forEach((size, s) => {
    const noise = 0.05 + 0.1 * (s % 4);
    for (let i = 0; i < size; i++) {
      out.push({
        name: `a${s}-${i}`,
        traces: [{ calls: calls(() => (rng.next() < noise ? 0 : 1)) }],
        attack: true,
        attackType: s % 2 === 0 ? "A" : "B",
        attackInstance: `${s % 2 === 0 ? "A" : "B"}_${s}`,
      });
    }
  });
  return out;
}

const lookup = Uint8Array.from([0, 1]);
const classifier = { models: 2, k: 1 };

describe("KS k-fold grouped by attack session", () => {
  const data = units(4, [6, 1, 4, 3, 5, 2, 7, 3]);

  it("tests every trace of one session in one fold, and the seed fixes the folds", () => {
    const r = runKsKfold(data, { k: 4, seed: 2, lookup, symbols: 2, classifier });
    expect(r.grouping).toBe("attack-session");
    expect(r.attackGroups).toBe(8);
    const home = new Map<string, number>();
    data.forEach((u, i) => {
      if (u.attackInstance === undefined) return;
      if (!home.has(u.attackInstance)) home.set(u.attackInstance, r.foldOfUnit[i]!);
      expect(r.foldOfUnit[i], u.attackInstance).toBe(home.get(u.attackInstance));
    });
    expect(r.total.n).toBe(data.length);
    const again = runKsKfold(data, { k: 4, seed: 2, lookup, symbols: 2, classifier });
    expect(Array.from(again.foldOfUnit)).toEqual(Array.from(r.foldOfUnit));
    expect(again.rows).toEqual(r.rows);
  });

  it("random folds split sessions (the leak the grouped folds prevent)", () => {
    const r = runKsKfold(data, { k: 4, seed: 2, lookup, symbols: 2, classifier, grouping: "trace" });
    const foldsOf = (s: string) => new Set(data.flatMap((u, i) => (u.attackInstance === s ? [r.foldOfUnit[i]] : [])));
    expect(["A_0", "A_2", "B_3", "A_4", "B_5", "A_6", "B_7"].some((s) => foldsOf(s).size > 1)).toBe(true);
  });

  it("reports the grouped figure first and the random one beside it, labelled leaky", () => {
    const c = runKsKfoldComparison(data, { k: 4, seed: 2, lookup, symbols: 2, classifier });
    expect(c.models.map((m) => m.name)).toEqual(["ksbigram", LEAKY_MODEL_NAME]);
    expect(c.kfold).toMatchObject({ k: 4, grouping: "attack-session", attackGroups: 8 });
    expect(c.kfold.random).toMatchObject({ grouping: "trace", leaky: true, model: LEAKY_MODEL_NAME });
    expect(c.kfold.random!.auc).toBe(c.models[1]!.auc);
    expect(c.kfold.total.accuracy).toBeCloseTo((c.kfold.total.tp + c.kfold.total.tn) / c.kfold.total.n, 12);
  });

  it("runs random folds only when no session holds two traces", () => {
    const single = data.map((u, i) => (u.attack ? { ...u, attackInstance: `s${i}` } : u));
    expect(hasSharedSessions(single)).toBe(false);
    expect(hasSharedSessions(data)).toBe(true);
    const c = runKsKfoldComparison(single, { k: 4, seed: 2, lookup, symbols: 2, classifier });
    expect(c.kfold.grouping).toBe("trace");
    expect(c.kfold.random).toBeUndefined();
    expect(c.models).toHaveLength(1);
  });

  it("refuses folds that would train without attack traces", () => {
    const few = units(4, [5]); // one session: the fold that tests it trains on no attack
    expect(() => runKsKfold(few, { k: 2, seed: 1, lookup, symbols: 2, classifier })).toThrow(
      /would train on no attack traces/,
    );
  });
});
