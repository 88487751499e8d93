import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DEFAULT_ENSEMBLE_METHOD, Ensemble, fitEnsemble, midRank } from "./ensemble.js";

const f64 = (xs: number[]) => Float64Array.from(xs);

describe("rank averaging", () => {
  // Detector A (a mismatch rate): normal scores 0, 0, 0, 0.5. Detector B (bits): 1, 2, 3, 4.
  const ens = fitEnsemble([f64([0.5, 0, 0, 0]), f64([3, 1, 4, 2])], "rank");

  it("averages mid-rank CDF positions against each detector's normal scores (worked by hand)", () => {
    // A = 0: #<0 = 0, #<=0 = 3 -> (0 + 3) / 8 = 0.375.
    // B = 2.5: #<2.5 = 2, #<=2.5 = 2 -> 4 / 8 = 0.5. Mean 0.4375.
    expect(ens.combine([0, 2.5])).toBe(0.4375);
    // A = 0.5: #< = 3, #<= = 4 -> 7/8. B = 5: 4 and 4 -> 1. Mean 0.9375.
    expect(ens.combine([0.5, 5])).toBe(0.9375);
    // A = 1 is above every normal A score: 1. B = 0 is below every normal B score: 0. Mean 0.5.
    expect(ens.combine([1, 0])).toBe(0.5);
    expect(ens.normalise(0, 0.25)).toBe(6 / 8);
  });

  it("combines many traces the same way", () => {
    expect(Array.from(ens.combineMany([[0, 0.5, 1], f64([2.5, 5, 0])]))).toEqual([0.4375, 0.9375, 0.5]);
  });

  it("stays in [0, 1] and never falls when one score rises (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -100, max: 100, noNaN: true }), { minLength: 1, maxLength: 30 }),
        fc.double({ min: -200, max: 200, noNaN: true }),
        fc.double({ min: 0, max: 50, noNaN: true }),
        (normal, x, step) => {
          const sorted = f64(normal).sort();
          const a = midRank(sorted, x);
          expect(a).toBeGreaterThanOrEqual(0);
          expect(a).toBeLessThanOrEqual(1);
          expect(midRank(sorted, x + step)).toBeGreaterThanOrEqual(a);
          const direct =
            (normal.filter((s) => s < x).length + normal.filter((s) => s <= x).length) / (2 * normal.length);
          expect(a).toBe(direct);
        },
      ),
    );
  });
});

describe("normalised-score averaging", () => {
  it("zscore: population sd; a constant detector keeps its own units (worked by hand)", () => {
    // A: mean 2, sd 1. B: all 10, sd 0 -> scale 1.
    const ens = fitEnsemble([f64([1, 3]), f64([10, 10, 10, 10])], "zscore");
    expect(ens.normalise(0, 4)).toBe(2);
    expect(ens.normalise(1, 12)).toBe(2);
    expect(ens.combine([4, 12])).toBe(2);
    expect(ens.combine([2, 9])).toBe(-0.5);
  });

  it("minmax: normal scores into [0, 1], anomalies above 1 unclipped", () => {
    const ens = fitEnsemble([f64([2, 6, 3]), f64([0, 0.5])], "minmax");
    expect(ens.normalise(0, 4)).toBe(0.5);
    expect(ens.normalise(0, 10)).toBe(2);
    expect(ens.combine([6, 0.25])).toBe(0.75);
  });

  it("minmax: a detector quiet on every normal trace maps its value to 0 and anything above to 1 + excess", () => {
    // A varies (range 4); B is 0 on every normal trace.
    const ens = fitEnsemble([f64([2, 6, 3]), f64([0, 0, 0])], "minmax");
    expect(ens.normalise(1, 0)).toBe(0);
    expect(ens.normalise(1, 0.25)).toBe(1.25);
    expect(ens.normalise(1, -0.5)).toBe(-0.5);
    // A at its normal maximum (1) and B just above its normal value (1.25): mean 1.125.
    expect(ens.combine([6, 0.25])).toBe(1.125);
    expect(ens.toJSON().models[1]).toEqual({ n: 3, offset: 0, scale: 1, constant: true });
  });

  it("refuses infinite normal scores (rank accepts them)", () => {
    expect(() => fitEnsemble([f64([1, Number.POSITIVE_INFINITY])], "zscore")).toThrow(/finite/);
    expect(fitEnsemble([f64([1, Number.POSITIVE_INFINITY])], "rank").combine([2])).toBe(0.5);
  });
});

describe("the default method keeps a strong member's evidence", () => {
  // Three normal calibration traces, as a LID-DS scenario's validation recordings. Member S separates clearly: its
  // attacks score far above its normal range. Member W is weak: its scores barely depend on the label.
  const calibration = [f64([0.01, 0.02, 0.03]), f64([0.1, 0.3, 0.2])];
  const normals = { s: [0.02, 0.04, 0.05, 0.01], w: [0.5, 0.25, 0.15, 0.45] };
  const attacks = { s: [0.4, 0.6, 0.9], w: [0.12, 0.2, 0.1] };
  const combined = (method: "rank" | "minmax") => {
    const ens = fitEnsemble(calibration, method);
    return {
      normal: Array.from(ens.combineMany([normals.s, normals.w])),
      attack: Array.from(ens.combineMany([attacks.s, attacks.w])),
    };
  };

  it("minmax ranks every attack above every normal trace, as S alone does", () => {
    expect(DEFAULT_ENSEMBLE_METHOD).toBe("minmax");
    expect(Math.min(...attacks.s)).toBeGreaterThan(Math.max(...normals.s));
    const { normal, attack } = combined("minmax");
    expect(Math.min(...attack)).toBeGreaterThan(Math.max(...normal));
  });

  it("rank saturates above the normal maximum, so W's noise outranks S's evidence", () => {
    // S: normals 0.04 and 0.05 are above every calibration score, as every attack is: all map to 1. W then decides,
    // and its normal 0.5 (rank 1) beats its attack 0.1 (rank 0).
    const { normal, attack } = combined("rank");
    expect(Math.min(...attack)).toBeLessThan(Math.max(...normal));
  });
});

describe("Ensemble", () => {
  it("round-trips through JSON text, infinite scores included", () => {
    const normal = [f64([0, 0, 0.25, Number.POSITIVE_INFINITY]), f64([3, 1, 2])];
    for (const method of ["rank", "zscore", "minmax"] as const) {
      const fitted = method === "rank" ? normal : [f64([0, 0, 0.25]), normal[1]!, f64([0.5, 0.5])];
      const ens = fitEnsemble(fitted, method);
      const back = Ensemble.fromJSON(JSON.parse(JSON.stringify(ens)));
      expect(back.method).toBe(method);
      expect(back.toJSON()).toEqual(ens.toJSON());
      for (const scores of [
        [0, 1, 0.5],
        [0.25, 2.5, 0.75],
        [Number.POSITIVE_INFINITY, 9, 0],
      ]) {
        if (method === "rank") scores.pop();
        expect(back.combine(scores)).toBe(ens.combine(scores));
      }
    }
  });

  it("is deterministic: the same inputs give the same ensemble", () => {
    const normal = [f64([0.3, 0.1, 0.2]), f64([5, 7, 6, 9])];
    for (const method of ["rank", "zscore", "minmax"] as const) {
      expect(JSON.stringify(fitEnsemble(normal, method))).toBe(JSON.stringify(fitEnsemble(normal, method)));
    }
  });

  it("rejects bad JSON with stable codes", () => {
    const good = fitEnsemble([f64([1, 2])], "rank").toJSON();
    expect(() => Ensemble.fromJSON({ ...good, version: 2 })).toThrow(expect.objectContaining({ code: "E_VERSION" }));
    expect(() => Ensemble.fromJSON({ ...good, method: "vote" })).toThrow(expect.objectContaining({ code: "E_PARSE" }));
    expect(() => Ensemble.fromJSON({ ...good, models: [{ n: 2, sorted: [2, 1] }] })).toThrow(/not sorted/);
    expect(() => Ensemble.fromJSON({ ...good, models: [{ n: 3, sorted: [1, 2] }] })).toThrow(/3 sorted/);
    expect(() => Ensemble.fromJSON({ version: 1, method: "zscore", models: [{ n: 2 }] })).toThrow(/offset/);
    const constant = { n: 2, offset: 0, scale: 1, constant: true };
    expect(Ensemble.fromJSON({ version: 1, method: "minmax", models: [constant] }).combine([0.5])).toBe(1.5);
    expect(() => Ensemble.fromJSON({ version: 1, method: "zscore", models: [constant] })).toThrow(/constant/);
    expect(() => Ensemble.fromJSON({ version: 1, method: "minmax", models: [{ ...constant, scale: 2 }] })).toThrow(
      /constant/,
    );
    expect(() => Ensemble.fromJSON("nonsense")).toThrow(expect.objectContaining({ code: "E_PARSE" }));
  });

  it("rejects mismatched inputs", () => {
    const ens = fitEnsemble([f64([1]), f64([2])], "rank");
    expect(() => ens.combine([1])).toThrow(/2 models given 1/);
    expect(() => ens.combine([1, Number.NaN])).toThrow(/NaN/);
    expect(() => ens.combineMany([[1, 2], [1]])).toThrow(/same traces/);
    expect(() => fitEnsemble([], "rank")).toThrow(/at least one/);
    expect(() => fitEnsemble([f64([])], "rank")).toThrow(/no normal scores/);
    // A caller outside TypeScript may pass any string.
    expect(() => fitEnsemble([f64([1])], "vote" as never)).toThrow(/unknown ensemble method/);
  });
});
