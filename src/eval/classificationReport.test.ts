import { describe, expect, it } from "vitest";
import { classificationReport, formatClassificationReport, reportOfConfusion } from "./classificationReport.js";

/** Labels and predictions with the given cell counts, interleaved so that order plays no part. */
function vectors(tp: number, fn: number, fp: number, tn: number): { truth: Uint8Array; predicted: Uint8Array } {
  const cells: [number, number][] = [];
  for (let i = 0; i < tp; i++) cells.push([1, 1]);
  for (let i = 0; i < fn; i++) cells.push([1, 0]);
  for (let i = 0; i < fp; i++) cells.push([0, 1]);
  for (let i = 0; i < tn; i++) cells.push([0, 0]);
  // a fixed permutation: stride 7 through the cells (7 is coprime with 576)
  const n = cells.length;
  const truth = new Uint8Array(n);
  const predicted = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const [t, p] = cells[(i * 7) % n]!;
    truth[i] = t;
    predicted[i] = p;
  }
  return { truth, predicted };
}

describe("classification report", () => {
  it("reproduces the Bushouse seed's table (TP 205, FN 42, FP 102, TN 227)", () => {
    // precision = 205 / (205 + 102) = 205/307 = 0.66775... -> 0.668 as printed in the seed
    // recall    = 205 / (205 + 42)  = 205/247 = 0.82995... -> 0.830 as printed in the seed
    // n = 205 + 42 + 102 + 227 = 576 (the seed prints n = 574)
    const { truth, predicted } = vectors(205, 42, 102, 227);
    const r = classificationReport(truth, predicted);
    expect([r.n, r.tp, r.fn, r.fp, r.tn]).toEqual([576, 205, 42, 102, 227]);
    expect(r.precision.toFixed(3)).toBe("0.668");
    expect(r.recall.toFixed(3)).toBe("0.830");
    const text = formatClassificationReport(r);
    expect(text).toContain("n = 576");
    expect(text).toMatch(/Actual positive\s+205 TP\s+42 FN/);
    expect(text).toMatch(/Actual negative\s+102 FP\s+227 TN/);
    expect(text).toContain("Precision 0.668");
    expect(text).toContain("Recall    0.830");
  });

  it("prints undefined rates as 'undefined'", () => {
    const text = formatClassificationReport(reportOfConfusion({ tp: 0, fn: 0, fp: 0, tn: 3 }));
    expect(text).toContain("Precision undefined");
    expect(text).toContain("Accuracy  1.000");
  });
});
