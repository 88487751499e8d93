import { describe, expect, it } from "vitest";
import type { Trace } from "../ingest/traceCollector.js";
import { adfaExperiment, genericExperiment, liddsExperiment } from "./protocol.js";
import { dedupeSummary, removeTrainingCopies } from "./trainingCopies.js";

function trace(path: string, split: string, calls: number[], attackType?: string): Trace {
  const attack = split === "attack";
  return {
    source: {
      path,
      format: "adfa",
      split,
      label: attack ? "attack" : "normal",
      ...(attackType !== undefined ? { attackType } : {}),
    },
    stream: 0,
    multiStream: false,
    calls: Uint16Array.from(calls),
    notes: [],
  };
}

describe("removeTrainingCopies", () => {
  it("removes a unit only when every one of its traces is a training trace", () => {
    const train = [Uint16Array.of(1, 2, 3), Uint16Array.of(4, 5)];
    const unit = (name: string, ...calls: number[][]) => ({
      name,
      attack: false,
      traces: calls.map((c) => ({ calls: Uint16Array.from(c) })),
    });
    const { kept, removed } = removeTrainingCopies(train, [
      unit("copy", [1, 2, 3]),
      unit("both copies", [4, 5], [1, 2, 3]),
      unit("half", [4, 5], [9]),
      unit("prefix", [1, 2]),
      unit("none"),
    ]);
    expect(removed.map((u) => u.name)).toEqual(["copy", "both copies"]);
    expect(kept.map((u) => u.name)).toEqual(["half", "prefix", "none"]);
    expect(dedupeSummary(removed)).toEqual({ removed: 2, normal: 2, attack: 0, units: ["copy", "both copies"] });
  });
});

describe("the dedupe protocol variant", () => {
  const traces = [
    trace("t1", "training", [1, 2, 3]),
    trace("t2", "training", [3, 2, 1]),
    ...Array.from({ length: 10 }, (_, i) => trace(`v${i}`, "validation", [1, 2, 3, i])),
    trace("v-copy", "validation", [1, 2, 3]),
    trace("a-copy", "attack", [3, 2, 1], "X"),
    trace("a1", "attack", [9, 9, 9], "X"),
  ];

  it("ADFA-LD: removes copies before drawing the calibration share; strict keeps them", () => {
    const strict = adfaExperiment(traces, 1, 0.2);
    expect(strict.test.length).toBe(13);
    expect(strict.removedCopies).toBeUndefined();
    const d = adfaExperiment(traces, 1, 0.2, { dedupe: true });
    expect(d.removedCopies!.map((u) => u.name)).toEqual(["v-copy", "a-copy"]);
    expect(d.test.map((u) => u.name)).not.toContain("v-copy");
    expect(d.calibration.every((u) => d.test.includes(u))).toBe(true);
    expect(d.test.length).toBe(11);
  });

  it("generic and LID-DS protocols take the option too", () => {
    const g = genericExperiment(
      traces.filter((t) => t.source.split === "training"),
      traces.filter((t) => t.source.split === "validation"),
      [{ type: "X", traces: traces.filter((t) => t.source.split === "attack") }],
      1,
      0.2,
      { dedupe: true },
    );
    expect(g.removedCopies!.map((u) => u.name)).toEqual(["v-copy", "a-copy"]);
    const lidds = traces.map((t) => {
      const split = t.source.split === "validation" ? "test" : t.source.split === "attack" ? "test" : "training";
      return { ...t, source: { ...t.source, split } };
    });
    lidds.push({
      ...trace("cal", "validation", [1, 1]),
      source: { path: "cal", format: "x", split: "validation", label: "normal" },
    });
    const l = liddsExperiment(lidds, { dedupe: true });
    expect(l.removedCopies!.map((u) => u.name)).toEqual(["v-copy", "a-copy"]);
  });
});
