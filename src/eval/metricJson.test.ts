import { describe, expect, it } from "vitest";
import { toJsonSafe } from "./metricJson.js";
import { roc } from "./roc.js";

describe("toJsonSafe", () => {
  it("replaces non-finite numbers with null, deeply, and typed arrays with arrays", () => {
    const value = {
      a: Number.NaN,
      b: [1, Number.POSITIVE_INFINITY, { c: Number.NEGATIVE_INFINITY, d: "x" }],
      e: new Float64Array([0.5, Number.NaN]),
      f: null,
      g: true,
    };
    expect(toJsonSafe(value)).toEqual({
      a: null,
      b: [1, null, { c: null, d: "x" }],
      e: [0.5, null],
      f: null,
      g: true,
    });
    // the input is not modified
    expect(value.a).toBeNaN();
  });

  it("makes a ROC curve with infinite thresholds valid JSON", () => {
    const curve = roc([1, Number.POSITIVE_INFINITY], [2]);
    const parsed = JSON.parse(JSON.stringify(toJsonSafe(curve)));
    expect(parsed.points[0].threshold).toBeNull();
    expect(parsed.points.at(-1).threshold).toBeNull();
    expect(parsed.auc).toBe(curve.auc);
  });
});
