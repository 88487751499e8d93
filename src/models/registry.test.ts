import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { HomeostatError } from "../errors.js";
import type { OptionHelp } from "./detector.js";
import { inRange, type NumberRule } from "./numberText.js";
import { createDetector, DETECTORS, detectorFactory, formatModelSpec, parseModelSpec } from "./registry.js";

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof HomeostatError ? err.code : "not a HomeostatError";
  }
  return undefined;
}

describe("detector registry", () => {
  it("lists stide, t-stide and lookahead pairs under their kinds", () => {
    for (const kind of ["stide", "tstide", "lookahead"]) {
      expect(DETECTORS[kind]?.kind).toBe(kind);
      const d = createDetector(kind);
      expect(d.kind).toBe(kind);
      for (const [key, help] of Object.entries(DETECTORS[kind]!.optionHelp)) {
        expect(d.options[key]).toBe(help.default);
        expect(help.help.length).toBeGreaterThan(0);
      }
    }
    expect(codeOf(() => detectorFactory("nosuch"))).toBe("E_MODEL");
    expect(codeOf(() => detectorFactory("toString"))).toBe("E_MODEL");
  });
});

describe("model specs", () => {
  it("parses a kind alone with defaults filled in", () => {
    expect(parseModelSpec("stide")).toEqual({ kind: "stide", options: { k: 6 } });
    expect(parseModelSpec(" lookahead ")).toEqual({ kind: "lookahead", options: { L: 9, locality: 128 } });
  });

  it("types values by the option's default", () => {
    expect(parseModelSpec("stide:k=10")).toEqual({ kind: "stide", options: { k: 10 } });
    expect(parseModelSpec("tstide:threshold=1e-4, k=3")).toEqual({
      kind: "tstide",
      options: { k: 3, threshold: 0.0001 },
    });
    expect(parseModelSpec("lookahead:locality=64").options.locality).toBe(64);
  });

  it("rejects unknown kinds, unknown or repeated keys and malformed values as usage errors", () => {
    for (const bad of [
      "nosuch",
      "stide:window=6",
      "stide:k=6,k=7",
      "stide:k=six",
      "stide:k=",
      "stide:k",
      "stide:=6",
      "tstide:threshold=NaN",
      "stide:__proto__=1",
      "stide:k=1e3",
      "stide:k=0x10",
      "stide:k=+6",
      "stide:k=6.0",
      "stide:k=1_0",
      "stide:k=257",
      "tstide:threshold=",
      "tstide:threshold=0x1",
      "tstide:threshold=1e",
      "tstide:threshold=Infinity",
      "tstide:threshold=1.5",
      "tstide:threshold=-0.1",
      "hmm:threshold=1",
      "ngram:threshold=0",
    ]) {
      expect(
        codeOf(() => parseModelSpec(bad)),
        bad,
      ).toBe("E_USAGE");
    }
  });

  it("formats specs that parse back to the same options", () => {
    for (const kind of Object.keys(DETECTORS)) {
      const d = createDetector(kind);
      const spec = formatModelSpec(d.kind, d.options);
      expect(parseModelSpec(spec)).toEqual({ kind, options: { ...d.options } });
    }
    const t = parseModelSpec("tstide:threshold=0.00001,k=7");
    expect(formatModelSpec(t.kind, t.options)).toBe("tstide:k=7,threshold=0.00001");
    expect(formatModelSpec("stide")).toBe("stide");
  });
});

/** Every numeric option of every registered model, with its rule. */
const NUMERIC: { kind: string; key: string; help: Extract<OptionHelp, { range: NumberRule }> }[] = Object.values(
  DETECTORS,
).flatMap((f) =>
  Object.entries(f.optionHelp).flatMap(([key, help]) => ("range" in help ? [{ kind: f.kind, key, help }] : [])),
);

/** What the shared rule accepts for `rule`, written out independently: digits for integers, reals with exponents. */
function acceptedSyntax(text: string, rule: NumberRule): boolean {
  const sign = rule.min < 0 ? "-?" : "";
  const body = rule.fraction === true ? "(?:[0-9]+(?:\\.[0-9]+)?|\\.[0-9]+)(?:[eE][+-]?[0-9]+)?" : "[0-9]+";
  return new RegExp(`^${sign}${body}$`).test(text);
}

describe("model spec numbers: strict, with explicit ranges", () => {
  it("every numeric option has a range holding its default", () => {
    expect(NUMERIC.length).toBeGreaterThan(8);
    for (const { kind, key, help } of NUMERIC) expect(inRange(help.default, help.range), `${kind}.${key}`).toBe(true);
  });

  it("says in one E_USAGE line which option, what it takes and what it got", () => {
    const err = (() => {
      try {
        parseModelSpec("stide:k=1e3");
      } catch (e) {
        return e as HomeostatError;
      }
      throw new Error("expected a throw");
    })();
    expect(err.code).toBe("E_USAGE");
    expect(err.message).toBe('option stide.k needs an integer from 2 to 256 (decimal digits only), got "1e3"');
    expect(() => parseModelSpec("stide:k=")).toThrowError(/option stide\.k needs an integer from 2 to 256.*got ""$/);
  });

  it("takes reals in decimal notation or with an exponent, integers as digits only", () => {
    expect(parseModelSpec("tstide:threshold=1e-4").options.threshold).toBe(0.0001);
    expect(parseModelSpec("tstide:threshold=.5").options.threshold).toBe(0.5);
    expect(parseModelSpec("tstide:threshold=1").options.threshold).toBe(1);
    expect(parseModelSpec("hmm:seed=-5").options.seed).toBe(-5);
    expect(parseModelSpec("lookahead:L=007").options.L).toBe(7);
  });

  it("the range of a spec is the range of the detector: its ends are created, values past them refused", () => {
    for (const { kind, key, help } of NUMERIC) {
      const { min, max } = help.range;
      for (const v of [min, max]) {
        const ok = inRange(v, help.range);
        const make = (): unknown => createDetector(kind, { [key]: v });
        if (ok) expect(make, `${kind}.${key}=${v}`).not.toThrow();
        else expect(make, `${kind}.${key}=${v}`).toThrowError(HomeostatError);
      }
      const step = help.range.fraction === true ? Math.max(1e-9, Math.abs(max) * 1e-9) : 1;
      for (const v of [min - step, max + step]) {
        expect(() => createDetector(kind, { [key]: v }), `${kind}.${key}=${v}`).toThrowError(HomeostatError);
      }
    }
  });

  it("property: a value is accepted exactly when the shared rule's syntax and range allow it, and means Number(text)", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...NUMERIC),
        fc.oneof(
          fc.string(),
          fc.stringMatching(/^-?[0-9.eExX+_ -]{0,8}$/),
          fc.integer({ min: -10, max: 2000 }).map(String),
          fc.double({ noNaN: true }).map(String),
        ),
        ({ kind, key, help }, text) => {
          // A spec's own separators cannot be inside a value; surrounding spaces belong to the spec syntax.
          fc.pre(!/[,=]/.test(text) && text === text.trim());
          let value: unknown;
          try {
            value = parseModelSpec(`${kind}:${key}=${text}`).options[key];
          } catch (err) {
            expect(err).toBeInstanceOf(HomeostatError);
            expect((err as HomeostatError).code).toBe("E_USAGE");
            expect((err as HomeostatError).message).not.toContain("\n");
            const n = Number(text);
            const fits =
              acceptedSyntax(text, help.range) &&
              Number.isFinite(n) &&
              (help.range.fraction === true || Number.isSafeInteger(n)) &&
              inRange(n === 0 ? 0 : n, help.range);
            expect(fits, `${kind}.${key}=${JSON.stringify(text)}`).toBe(false);
            return;
          }
          expect(acceptedSyntax(text, help.range), `${kind}.${key}=${JSON.stringify(text)}`).toBe(true);
          expect(value).toBe(Number(text) === 0 ? 0 : Number(text));
        },
      ),
      { numRuns: 3000 },
    );
  });

  it("property: any in-range value prints as a spec that parses back to it", () => {
    const valueOf = (rule: NumberRule): fc.Arbitrary<number> =>
      rule.fraction === true
        ? fc.double({ min: rule.min, max: rule.max, noNaN: true }).filter((v) => inRange(v, rule) && !Object.is(v, -0))
        : fc.integer({ min: rule.min, max: rule.max });
    fc.assert(
      fc.property(
        fc.constantFrom(...NUMERIC).chain((o) => fc.tuple(fc.constant(o), valueOf(o.help.range))),
        ([{ kind, key }, v]) => {
          const spec = formatModelSpec(kind, { [key]: v });
          expect(parseModelSpec(spec).options[key]).toBe(v);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
