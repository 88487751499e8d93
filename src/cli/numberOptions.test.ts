import { spawnSync } from "node:child_process";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { HomeostatError } from "../errors.js";
import { BIN } from "../testing/paths.js";
import {
  describeRange,
  FRAME_MAX,
  intOption,
  type NumberSpec,
  numberOption,
  parseNumber,
  SEED_MAX,
} from "./numberOptions.js";

/** The error `fn` throws (fails the test when it returns). */
function thrown(fn: () => unknown): HomeostatError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(HomeostatError);
    return err as HomeostatError;
  }
  throw new Error("expected a throw");
}

const window: NumberSpec = { name: "window", min: 1, max: FRAME_MAX };
const share: NumberSpec = { name: "share", min: 0, max: 1, fraction: true, minExclusive: true, maxExclusive: true };

describe("parseNumber: integers", () => {
  it("takes decimal digits in range, leading zeros included", () => {
    expect(parseNumber("1", window)).toBe(1);
    expect(parseNumber("20", window)).toBe(20);
    expect(parseNumber("007", window)).toBe(7);
    expect(parseNumber(String(FRAME_MAX), window)).toBe(FRAME_MAX);
    expect(parseNumber("4294967295", { name: "seed", min: 0, max: SEED_MAX })).toBe(SEED_MAX);
  });

  it("refuses hex, exponents, blanks, spaces, signs, fractions, words and other digits", () => {
    for (const text of [
      "0x10",
      "0X10",
      "0o7",
      "0b1",
      "1e3",
      "1E3",
      "",
      " ",
      " 5",
      "5 ",
      "\t5",
      "5\n",
      "+5",
      "-5",
      "--5",
      "5.0",
      "5.",
      ".5",
      "1_000",
      "1,000",
      "Infinity",
      "NaN",
      "five",
      "１２",
      "٣",
      "5px",
    ]) {
      const err = thrown(() => parseNumber(text, window));
      expect(err.code, JSON.stringify(text)).toBe("E_USAGE");
    }
  });

  it("refuses values out of range, however large (no typed-array or timer surprises downstream)", () => {
    for (const text of ["0", "1000001", "99999999999", "1" + "0".repeat(400), "9007199254740993"]) {
      expect(thrown(() => parseNumber(text, window)).code).toBe("E_USAGE");
    }
    expect(
      thrown(() => parseNumber("9007199254740993", { name: "n", min: 0, max: Number.MAX_SAFE_INTEGER })).code,
    ).toBe("E_USAGE");
  });

  it("takes a sign only where the range allows negative values", () => {
    const signed: NumberSpec = { name: "offset", min: -10, max: 10 };
    expect(parseNumber("-10", signed)).toBe(-10);
    expect(parseNumber("-0", signed)).toBe(0);
    expect(Object.is(parseNumber("-0", signed), 0)).toBe(true);
    for (const text of ["+1", "--1", "- 1", "-", "-11"])
      expect(thrown(() => parseNumber(text, signed)).code).toBe("E_USAGE");
  });

  it("says in one line which option, what it takes, and what it got", () => {
    const err = thrown(() => parseNumber("1e20", window));
    expect(err.message).toBe('--window needs an integer from 1 to 1000000 (decimal digits only), got "1e20"');
    expect(thrown(() => parseNumber("99999999999", window)).message).toBe(
      '--window needs an integer from 1 to 1000000, got "99999999999"',
    );
    expect(thrown(() => parseNumber("", window)).message).toMatch(/got ""$/);
    const long = thrown(() => parseNumber("9".repeat(10_000), window)).message;
    expect(long.length).toBeLessThan(200);
    expect(thrown(() => parseNumber("5\n6", window)).message).not.toContain("\n");
  });

  it("property: a string is accepted exactly when it is decimal digits of a value in range, and then means that value", () => {
    const spec: NumberSpec = { name: "n", min: 3, max: 5000 };
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.stringMatching(/^[0-9]{1,6}$/), fc.integer().map(String)), (text) => {
        const ok = /^[0-9]+$/.test(text) && Number(text) >= 3 && Number(text) <= 5000;
        if (ok) expect(parseNumber(text, spec)).toBe(Number(text));
        else expect(thrown(() => parseNumber(text, spec)).code).toBe("E_USAGE");
      }),
      { numRuns: 2000 },
    );
  });

  it("property: every integer in range round-trips, every one outside is refused", () => {
    fc.assert(
      fc.property(fc.integer({ min: -2 * FRAME_MAX, max: 2 * FRAME_MAX }), (n) => {
        const text = String(n);
        if (n >= 1 && n <= FRAME_MAX) expect(parseNumber(text, window)).toBe(n);
        else expect(thrown(() => parseNumber(text, window)).code).toBe("E_USAGE");
      }),
    );
  });

  it("property: signed ranges accept exactly -?digits in range", () => {
    const spec: NumberSpec = { name: "n", min: -1000, max: 1000 };
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.integer({ min: -3000, max: 3000 }).map(String)), (text) => {
        const ok = /^-?[0-9]+$/.test(text) && Math.abs(Number(text)) <= 1000;
        if (ok) expect(parseNumber(text, spec)).toBe(Number(text) === 0 ? 0 : Number(text));
        else expect(thrown(() => parseNumber(text, spec)).code).toBe("E_USAGE");
      }),
    );
  });
});

describe("parseNumber: fractions", () => {
  const seconds: NumberSpec = { name: "save-interval", min: 0.1, max: 2_147_483, fraction: true };

  it("takes decimal notation where a fraction makes sense", () => {
    expect(parseNumber("0.5", seconds)).toBe(0.5);
    expect(parseNumber(".5", seconds)).toBe(0.5);
    expect(parseNumber("30", seconds)).toBe(30);
    expect(parseNumber("0.1", seconds)).toBe(0.1);
    expect(parseNumber("0.25", share)).toBe(0.25);
  });

  it("refuses exponents, blanks, hex, signs, a bare point and out-of-range values", () => {
    for (const text of [
      "",
      " ",
      "1e3",
      "1e-2",
      "0x10",
      "+1",
      "-1",
      ".",
      "5.",
      "1.2.3",
      "0.09",
      "2147484",
      "Infinity",
      "NaN",
      "1 ",
    ]) {
      expect(thrown(() => parseNumber(text, seconds)).code, JSON.stringify(text)).toBe("E_USAGE");
    }
  });

  it("honours excluded bounds", () => {
    for (const text of ["0", "1", "0.0", "1.0", "2"])
      expect(thrown(() => parseNumber(text, share)).code).toBe("E_USAGE");
    expect(thrown(() => parseNumber("1", share)).message).toMatch(/greater than 0 and less than 1/);
  });

  it("property: integer.fraction strings in range mean Number(text); others are refused", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9]{1,4}$/), fc.stringMatching(/^[0-9]{1,8}$/), (whole, frac) => {
        const text = `${whole}.${frac}`;
        const v = Number(text);
        if (v >= 0.1 && v <= 2_147_483) expect(parseNumber(text, seconds)).toBe(v);
        else expect(thrown(() => parseNumber(text, seconds)).code).toBe("E_USAGE");
      }),
    );
  });

  it("property: any string either parses to a finite number in range or is one E_USAGE", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.double().map(String), fc.stringMatching(/^-?[0-9.e+-]{0,8}$/)), (text) => {
        let v: number;
        try {
          v = parseNumber(text, share);
        } catch (err) {
          expect(err).toBeInstanceOf(HomeostatError);
          expect((err as HomeostatError).code).toBe("E_USAGE");
          return;
        }
        expect(/^(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)$/.test(text)).toBe(true);
        expect(v > 0 && v < 1).toBe(true);
        expect(v).toBe(Number(text));
      }),
      { numRuns: 2000 },
    );
  });
});

describe("commander parsers and their words", () => {
  it("intOption and numberOption are parseNumber for commander", () => {
    expect(intOption("pid", 1, 10)("7")).toBe(7);
    expect(() => intOption("pid", 1, 10)("1.5")).toThrow(/--pid needs an integer from 1 to 10/);
    expect(numberOption("max-delay", 1, 10)("2.5")).toBe(2.5);
    expect(numberOption("share", 0, 1, { minExclusive: true })("1")).toBe(1);
    expect(() => numberOption("share", 0, 1, { minExclusive: true })("0")).toThrow(/greater than 0 and at most 1/);
  });

  it("describes ranges", () => {
    expect(describeRange(window)).toBe("an integer from 1 to 1000000");
    expect(describeRange({ name: "x", min: 0, max: 1, fraction: true, maxExclusive: true })).toBe(
      "a number at least 0 and less than 1",
    );
  });
});

describe("the CLI: strict numbers end to end (one line, exit 2)", () => {
  const run = (args: string[]) =>
    spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
  it.each([
    [
      ["detect", "--window", "1e20", "-p", "x", "--", "true"],
      /--window needs an integer from 1 to 1000000 \(decimal digits only\), got "1e20"/,
    ],
    [
      ["detect", "--window", "99999999999", "-p", "x", "--", "true"],
      /--window needs an integer from 1 to 1000000, got "99999999999"/,
    ],
    [["watch", "--normal-wait", "", "--", "true"], /--normal-wait needs a number from 0 to \d+ .*got ""/],
    [["score", "--frame", "0x10", "-p", "x", "y"], /--frame needs an integer/],
    [["inspect", "--top", "-1", "x"], /--top needs an integer from 0/],
    [["eval", "--seed", "1e3", "--train", "a"], /--seed needs an integer from 0 to 4294967295/],
    [
      ["eval", "--calibration-share", "1", "--train", "a"],
      /--calibration-share needs a number greater than 0 and less than 1/,
    ],
    [
      // Inputs that exist (any regular file): eval checks its input paths before it reads its options' values.
      ["eval", "--threshold", "far:1e-2", "--train", BIN, "--normal", BIN, "--attack", BIN],
      /RATE of --threshold far:RATE/,
    ],
    [["record", "--pid", "99999999999"], /--pid needs an integer from 1 to 4194304/],
    [["demo", "--sessions", " 8"], /--sessions needs an integer from 4 to/],
  ])("%j", (args, pattern) => {
    const r = run(args);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/E_USAGE/);
    expect(r.stderr).toMatch(pattern);
  });
});
