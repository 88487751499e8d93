import { describe, expect, it } from "vitest";
import type { Trace } from "../ingest/traceCollector.js";
import { fileNameOf, takeFirstByFileName, trainingFromValidation, validationMovedToTraining } from "./liddsSplit.js";
import { adfaExperiment } from "./protocol.js";

const ROOT = "/data/ADFA-LD";

/** One trace of an ADFA-LD tree: its calls encode its index so copies are easy to plant. */
function trace(path: string, split: string, calls: number[], attackInstance?: string): Trace {
  return {
    source: {
      path: `${ROOT}/${path}`,
      format: "adfa",
      split,
      label: split === "attack" ? "attack" : "normal",
      ...(attackInstance !== undefined ? { attackInstance, attackType: attackInstance.replace(/_\d+$/, "") } : {}),
    },
    stream: 0,
    multiStream: false,
    calls: Uint16Array.from(calls),
    notes: [],
  };
}

/**
 * 3 training traces; 8 validation traces loaded in a scrambled order (UVD-0001..0008, each unique); 4 attack traces
 * in two sessions. lidds-N must move UVD-0001..N whatever the load order.
 */
function tree(): Trace[] {
  const train = [1, 2, 3].map((i) => trace(`Training_Data_Master/UTD-000${i}.txt`, "training", [1, 2, 3, i]));
  const order = [5, 2, 8, 1, 7, 3, 6, 4];
  const validation = order.map((i) => trace(`Validation_Data_Master/UVD-000${i}.txt`, "validation", [4, 5, 6, 10 + i]));
  const attack = ["Hydra_FTP_1", "Hydra_FTP_1", "Adduser_2", "Adduser_2"].map((s, i) =>
    trace(`Attack_Data_Master/${s}/UAD-${i}.txt`, "attack", [9, 9, 9, i], s),
  );
  return [...train, ...validation, ...attack];
}

const base = (names: readonly string[]) => names.map(fileNameOf).sort();

describe("LID-DS split variants of ADFA-LD", () => {
  it("knows how many validation traces each protocol moves", () => {
    expect(validationMovedToTraining("strict")).toBe(0);
    expect(validationMovedToTraining("lidds-500")).toBe(500);
    expect(validationMovedToTraining("lidds-2000")).toBe(2000);
    expect(fileNameOf("a.tar.gz:ADFA-LD/Validation_Data_Master/UVD-0001.txt")).toBe("UVD-0001.txt");
    expect(fileNameOf("x.tar:UVD-0002.txt")).toBe("UVD-0002.txt");
  });

  it("trains on the first N validation traces by file name and tests none of them", () => {
    const data = adfaExperiment(tree(), 1, 0.25, { trainFromValidation: 3 });
    expect(data.movedToTraining!.map((u) => fileNameOf(u.name))).toEqual([
      "UVD-0001.txt",
      "UVD-0002.txt",
      "UVD-0003.txt",
    ]);
    expect(data.train.map((c) => c[3])).toEqual([1, 2, 3, 11, 12, 13]);
    const testNormals = data.test.filter((u) => !u.attack).map((u) => u.name);
    expect(base(testNormals)).toEqual(["UVD-0004.txt", "UVD-0005.txt", "UVD-0006.txt", "UVD-0007.txt", "UVD-0008.txt"]);
    expect(data.test.filter((u) => u.attack)).toHaveLength(4);
    for (const c of data.calibration) expect(testNormals).toContain(c.name);
    expect(trainingFromValidation(data.movedToTraining!)).toEqual({
      count: 3,
      order: "file-name",
      first: "UVD-0001.txt",
      last: "UVD-0003.txt",
    });
  });

  it("keeps the strict protocol unchanged without the option", () => {
    const data = adfaExperiment(tree(), 1, 0.25);
    expect(data.movedToTraining).toBeUndefined();
    expect(data.train).toHaveLength(3);
    expect(data.test.filter((u) => !u.attack)).toHaveLength(8);
  });

  it("composes with dedupe: a test trace identical to a moved one is removed too", () => {
    const traces = tree();
    // UVD-0007 (tested under lidds-3) is a copy of UVD-0002 (moved into training).
    traces.find((t) => t.source.path.endsWith("UVD-0007.txt"))!.calls = Uint16Array.from([4, 5, 6, 12]);
    const strictDedupe = adfaExperiment(traces, 1, 0.25, { dedupe: true });
    expect(strictDedupe.removedCopies).toEqual([]);
    const both = adfaExperiment(traces, 1, 0.25, { dedupe: true, trainFromValidation: 3 });
    expect(base(both.removedCopies!.map((u) => u.name))).toEqual(["UVD-0007.txt"]);
    expect(both.test.some((u) => u.name.endsWith("UVD-0007.txt"))).toBe(false);
  });

  it("carries each attack trace's session for grouped folds", () => {
    const data = adfaExperiment(tree(), 1, 0.25);
    expect(data.test.filter((u) => u.attack).map((u) => u.attackInstance)).toEqual([
      "Hydra_FTP_1",
      "Hydra_FTP_1",
      "Adduser_2",
      "Adduser_2",
    ]);
  });

  it("refuses to move so many that fewer than two validation traces remain", () => {
    expect(() => adfaExperiment(tree(), 1, 0.25, { trainFromValidation: 7 })).toThrow(
      /moves 7 validation traces into training, but only 8 were found/,
    );
    expect(() => takeFirstByFileName([], 0)).toThrow(/must be > 0/);
  });
});
