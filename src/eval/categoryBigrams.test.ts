import { describe, expect, it } from "vitest";
import { CategoryBigrams, heatmapDifference } from "./categoryBigrams.js";

/** Ids 0..3 map to symbols 0..3 of a 4-symbol alphabet. */
const LUT = Uint8Array.of(0, 1, 2, 3);

describe("CategoryBigrams", () => {
  const b = new CategoryBigrams(4);
  b.add(Uint16Array.of(0, 1, 0, 1, 0), LUT, [["label", "normal"]], "normal"); // 0->1 twice, 1->0 twice
  b.add(Uint16Array.of(0, 1), LUT, [["label", "normal"]], "normal"); // 0->1 once
  b.add(
    Uint16Array.of(2, 3, 2),
    LUT,
    [
      ["label", "attack"],
      ["attackType", "X"],
    ],
    "attack",
  );
  b.add(Uint16Array.of(3), LUT, [["label", "attack"]], "attack"); // no bigram: ignored

  it("averages each trace's bigram shares over its group", () => {
    const maps = b.heatmaps();
    const normal = maps.find((m) => m.name === "normal")!;
    expect(normal.traces).toBe(2);
    expect(normal.cells[0 * 4 + 1]).toBeCloseTo((0.5 + 1) / 2);
    expect(normal.cells[1 * 4 + 0]).toBeCloseTo(0.25);
    expect(normal.cells.reduce((s, x) => s + x, 0)).toBeCloseTo(1);
    const x = maps.find((m) => m.kind === "attackType")!;
    expect(x).toMatchObject({ name: "X", traces: 1 });
    expect(x.cells[2 * 4 + 3]).toBeCloseTo(0.5);
    const diff = heatmapDifference(
      normal,
      maps.find((m) => m.name === "attack")!,
    );
    expect(diff.kind).toBe("difference");
    expect(diff.cells.reduce((s, v) => s + v, 0)).toBeCloseTo(0);
  });

  it("ranks the bigrams by their KS statistic between the labels", () => {
    expect(b.sides).toEqual({ normal: 2, attack: 1 });
    const sep = b.separation();
    expect(sep.map((s) => [s.prev, s.next, s.d])).toEqual([
      [0, 1, 1],
      [2, 3, 1],
      [3, 2, 1],
      [1, 0, 0.5],
    ]);
    expect(sep[0]!.meanNormal).toBeCloseTo(0.75);
    expect(sep[0]!.meanAttack).toBe(0);
  });
});
