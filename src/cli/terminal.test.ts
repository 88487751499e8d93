import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { num } from "./terminal.js";

const locale = (n: number, digits = 0): string =>
  n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });

describe("num", () => {
  it("groups whole numbers exactly as toLocaleString does, without loading ICU", () => {
    for (const n of [
      0,
      1,
      -1,
      12,
      999,
      1000,
      -1000,
      99_999,
      100_000,
      1_234_567,
      -1_234_567,
      Number.MAX_SAFE_INTEGER,
      -Number.MAX_SAFE_INTEGER,
    ]) {
      expect(num(n)).toBe(locale(n));
    }
    fc.assert(
      fc.property(fc.maxSafeInteger(), (n) => num(n) === locale(n)),
      { numRuns: 20_000 },
    );
  });

  it("leaves fractions, -0, huge and non-finite values to toLocaleString / String", () => {
    for (const [n, d] of [
      [1.5, 0],
      [2.5, 0],
      [-0, 0],
      [1e21, 0],
      [2 ** 60, 0],
      [1234.5678, 1],
      [0.05, 2],
    ] as const)
      expect(num(n, d)).toBe(locale(n, d));
    expect(num(Number.NaN)).toBe("NaN");
    expect(num(Number.POSITIVE_INFINITY)).toBe("Infinity");
  });
});
