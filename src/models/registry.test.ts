import { describe, expect, it } from "vitest";
import { HomeostatError } from "../errors.js";
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
