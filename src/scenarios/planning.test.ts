import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SeededRandom } from "../models/random.js";
import { deriveSeed, planAttack, weighted } from "./planning.js";
import { recordingSpecs, SIZES, sizeByName } from "./sizes.js";
import type { RecordingSpec } from "./types.js";

const spec = (over: Partial<RecordingSpec> = {}): RecordingSpec => ({
  program: "p",
  split: "test/normal_and_attack",
  index: 0,
  name: "p-attack-001",
  seed: 7,
  actions: 20,
  attack: "boom",
  ...over,
});

describe("seeded planning", () => {
  it("derives the same recording seed from the same inputs, and different ones otherwise", () => {
    expect(deriveSeed(1, "git", "training", 3)).toBe(deriveSeed(1, "git", "training", 3));
    const seeds = new Set([
      deriveSeed(1, "git", "training", 3),
      deriveSeed(2, "git", "training", 3),
      deriveSeed(1, "perl", "training", 3),
      deriveSeed(1, "git", "validation", 3),
      deriveSeed(1, "git", "training", 4),
    ]);
    expect(seeds.size).toBe(5);
  });

  it("puts every attack 30%..70% into its recording, with normal actions before and after (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 6, max: 500 }), fc.integer({ min: 0, max: 2 ** 32 - 1 }), (actions, seed) => {
        const a = planAttack(spec({ actions, seed }))!;
        expect(a.kind).toBe("boom");
        expect(a.at).toBeGreaterThanOrEqual(1);
        expect(a.at).toBeLessThanOrEqual(actions - 1);
        expect(a.at).toBeGreaterThanOrEqual(Math.ceil(actions * 0.3));
        expect(a.at).toBeLessThanOrEqual(Math.max(Math.ceil(actions * 0.3), Math.floor(actions * 0.7)));
        expect(planAttack(spec({ actions, seed }))).toEqual(a);
      }),
    );
    expect(planAttack(spec({ attack: undefined }))).toBeUndefined();
  });

  it("draws weighted choices in proportion to their weights", () => {
    const rng = new SeededRandom(3);
    const counts = { a: 0, b: 0 };
    for (let i = 0; i < 10_000; i++)
      counts[
        weighted(rng, [
          ["a", 1],
          ["b", 3],
        ] as const)
      ]++;
    expect(counts.b / counts.a).toBeGreaterThan(2.6);
    expect(counts.b / counts.a).toBeLessThan(3.4);
  });

  it("lists a program's recordings in LID-DS split order, attacks cycling through the kinds", () => {
    const scenario = { name: "x", attacks: ["k1", "k2", "k3"], defaultActions: 40 };
    const specs = recordingSpecs(scenario, 1, SIZES.default);
    const n = SIZES.default;
    expect(specs).toHaveLength(n.training + n.validation + n.testNormal + n.testAttack);
    expect(specs.map((s) => s.split)).toEqual([
      ...Array<string>(n.training).fill("training"),
      ...Array<string>(n.validation).fill("validation"),
      ...Array<string>(n.testNormal).fill("test/normal"),
      ...Array<string>(n.testAttack).fill("test/normal_and_attack"),
    ]);
    expect(specs.filter((s) => s.attack !== undefined).map((s) => s.attack)).toEqual(
      Array.from({ length: n.testAttack }, (_, i) => scenario.attacks[i % 3]),
    );
    expect(new Set(specs.map((s) => s.name)).size).toBe(specs.length);
    expect(specs[0]!.name).toBe("x-train-001");
    expect(recordingSpecs(scenario, 1, SIZES.default)).toEqual(specs);
    expect(recordingSpecs(scenario, 2, SIZES.default).map((s) => s.seed)).not.toEqual(specs.map((s) => s.seed));
    expect(recordingSpecs(scenario, 1, SIZES.small).every((s) => s.actions === 12)).toBe(true);
  });

  it("refuses an unknown size", () => {
    expect(() => sizeByName("huge")).toThrow(/unknown size "huge"/);
  });
});

describe("the large size", () => {
  it("extends the default: every split's first recordings are the default build's, more follow", () => {
    const scenario = { name: "x", attacks: ["k1", "k2", "k3"], defaultActions: 40 };
    const small = recordingSpecs(scenario, 7, sizeByName("default"));
    const large = recordingSpecs(scenario, 7, sizeByName("large"));
    expect(large.length).toBeGreaterThan(2 * small.length);
    for (const split of ["training", "validation", "test/normal", "test/normal_and_attack"]) {
      const a = small.filter((s) => s.split === split);
      const b = large.filter((s) => s.split === split);
      expect(b.length).toBeGreaterThanOrEqual(2 * a.length);
      expect(b.slice(0, a.length)).toEqual(a);
    }
  });
});
