import { describe, expect, it } from "vitest";
import type { CallLevelMetrics } from "./callLevel.js";
import type { ModelResult } from "./evalResult.js";
import { aucWithout, programStat, summarizeScenarios } from "./scenariosSummary.js";

const NAN_DELAY = { count: 0, mean: Number.NaN, median: Number.NaN, min: Number.NaN, max: Number.NaN };

interface Figures {
  auc: number;
  far90: number;
  /** Detection at 1%, 5%, 10% false alarms. */
  dr: [number, number, number];
  recall: number;
  far: number;
  fp: number;
  delay: number;
  /** Call level: detection rate, false-alarm calls, CFA, F1 (CFA), median delay in seconds. */
  call?: [number, number, number, number, number];
}

/** A result with the figures the summary reads; everything else neutral. */
function result(name: string, f: Figures): ModelResult {
  const callLevel =
    f.call === undefined
      ? undefined
      : ({
          detectionRate: f.call[0],
          falseAlarmCalls: f.call[1],
          cfa: f.call[2],
          f1Cfa: f.call[3],
          delaySeconds: { ...NAN_DELAY, count: 1, median: f.call[4] },
        } as unknown as CallLevelMetrics);
  return {
    name,
    kind: name === "ensemble(rank)" ? "ensemble" : name.split(":")[0]!,
    options: {},
    score: "rate",
    auc: f.auc,
    dr_at_far: [0.01, 0.05, 0.1].map((target, i) => ({ target, threshold: 0, fpr: target, tpr: f.dr[i]! })),
    far_at_dr90: { target: 0.9, threshold: 0, fpr: f.far90, tpr: 0.9 },
    roc: [],
    threshold: 0,
    confusion: { tp: 0, fn: 0, fp: f.fp, tn: 0 },
    rates: { recall: f.recall, falseAlarmRate: f.far } as ModelResult["rates"],
    per_attack: [],
    distribution: { edges: [], normal: [], attack: [] },
    delay: { ...NAN_DELAY, count: 1, median: f.delay },
    ...(callLevel !== undefined ? { callLevel } : {}),
    cost: { trainSeconds: 0, scoreSeconds: 0, callsPerSecond: 0, profileBytes: 0, memoryBytes: 0 },
  };
}

describe("programStat", () => {
  it("averages the defined values and names the extremes (the first program on a tie)", () => {
    const s = programStat([
      { program: "a", value: 0.5 },
      { program: "b", value: Number.NaN },
      { program: "c", value: 0.25 },
      { program: "d", value: 0.25 },
      { program: "e", value: 0.5 },
    ]);
    expect(s).toEqual({ mean: 0.375, min: 0.25, minProgram: "c", max: 0.5, maxProgram: "a", programs: 4 });
    expect(programStat([{ program: "a", value: Number.NaN }])).toMatchObject({ programs: 0, minProgram: "" });
    expect(programStat([]).mean).toBeNaN();
  });
});

describe("summarizeScenarios", () => {
  // A hand-worked example: three programs, stide everywhere, the ensemble (no call level) everywhere, and one
  // model that ran on two programs only.
  const programs = [
    {
      name: "nginx",
      models: [
        result("stide", {
          auc: 0.9,
          far90: 0.2,
          dr: [0.5, 0.6, 0.7],
          recall: 1,
          far: 0.1,
          fp: 2,
          delay: 4,
          call: [1, 10, 3, 0.5, 0.2],
        }),
        result("ensemble(rank)", {
          auc: 0.95,
          far90: 0.1,
          dr: [0.6, 0.7, 0.8],
          recall: 1,
          far: 0,
          fp: 0,
          delay: Number.NaN,
        }),
        result("hmm", {
          auc: 0.5,
          far90: 1,
          dr: [0, 0, 0.1],
          recall: 0,
          far: 0,
          fp: 0,
          delay: Number.NaN,
          call: [0, 0, 0, 0, Number.NaN],
        }),
      ],
    },
    {
      name: "git",
      models: [
        result("stide", {
          auc: 0.6,
          far90: 0.8,
          dr: [0.1, 0.2, 0.3],
          recall: 0.5,
          far: 0,
          fp: 0,
          delay: Number.NaN,
          call: [0.5, 0, 0, 1, Number.NaN],
        }),
        result("ensemble(rank)", {
          auc: 0.65,
          far90: 0.7,
          dr: [0.2, 0.3, 0.4],
          recall: 0.5,
          far: 0,
          fp: 0,
          delay: Number.NaN,
        }),
      ],
    },
    {
      name: "perl",
      models: [
        result("stide", {
          auc: 0.75,
          far90: 0.5,
          dr: [0.3, 0.4, 0.5],
          recall: 0.75,
          far: 0.2,
          fp: 4,
          delay: 10,
          call: [0.75, 20, 6, 0.25, 0.4],
        }),
        result("ensemble(rank)", {
          auc: 0.8,
          far90: 0.3,
          dr: [0.4, 0.5, 0.6],
          recall: 1,
          far: 0.5,
          fp: 5,
          delay: Number.NaN,
        }),
        result("hmm", {
          auc: 0.7,
          far90: 0.6,
          dr: [0.2, 0.3, 0.4],
          recall: 1,
          far: 0.2,
          fp: 1,
          delay: 6,
          call: [1, 4, 2, 0.5, 0.1],
        }),
      ],
    },
  ];
  const summary = summarizeScenarios(programs);
  const byName = (n: string) => summary.models.find((m) => m.name === n)!;

  it("keeps the models in the order they first appear, over all programs", () => {
    expect(summary.programs).toBe(3);
    expect(summary.models.map((m) => [m.name, m.programs])).toEqual([
      ["stide", 3],
      ["ensemble(rank)", 3],
      ["hmm", 2],
    ]);
  });

  it("macro-averages each figure and names the worst and best program", () => {
    const stide = byName("stide");
    // AUC: (0.9 + 0.6 + 0.75) / 3 = 0.75; lowest git, highest nginx.
    expect(stide.auc.mean).toBeCloseTo(0.75, 12);
    expect([stide.auc.min, stide.auc.minProgram, stide.auc.max, stide.auc.maxProgram]).toEqual([
      0.6,
      "git",
      0.9,
      "nginx",
    ]);
    // FAR at 90% detection: (0.2 + 0.8 + 0.5) / 3 = 0.5, worst (highest) git.
    expect(stide.far_at_dr90.mean).toBeCloseTo(0.5, 12);
    expect([stide.far_at_dr90.max, stide.far_at_dr90.maxProgram]).toEqual([0.8, "git"]);
    // DR at 5% false alarms: (0.6 + 0.2 + 0.4) / 3 = 0.4.
    expect(stide.dr_at_far.map((d) => d.target)).toEqual([0.01, 0.05, 0.1]);
    expect(stide.dr_at_far[1]!.mean).toBeCloseTo(0.4, 12);
    // At the threshold: recall (1 + 0.5 + 0.75) / 3 = 0.75; FAR (0.1 + 0 + 0.2) / 3 = 0.1; alarms (2 + 0 + 4) / 3 = 2.
    expect(stide.detectionRate.mean).toBeCloseTo(0.75, 12);
    expect(stide.falseAlarmRate.mean).toBeCloseTo(0.1, 12);
    expect(stide.falseAlarms).toMatchObject({ mean: 2, max: 4, maxProgram: "perl" });
    // Delay: git detected nothing (NaN), so the mean is over two programs: (4 + 10) / 2 = 7.
    expect(stide.delayCalls).toMatchObject({ mean: 7, programs: 2, min: 4, minProgram: "nginx" });
    // Call level: DR (1 + 0.5 + 0.75) / 3 = 0.75; CFA (3 + 0 + 6) / 3 = 3; delay (0.2 + 0.4) / 2 = 0.3 s.
    expect(stide.callLevel!.detectionRate.mean).toBeCloseTo(0.75, 12);
    expect(stide.callLevel!.cfa).toMatchObject({ mean: 3, max: 6, maxProgram: "perl" });
    expect(stide.callLevel!.delaySeconds.mean).toBeCloseTo(0.3, 12);
    expect(stide.callLevel!.delaySeconds.programs).toBe(2);
  });

  it("summarises a model over the programs that ran it, and the ensemble without call level", () => {
    const hmm = byName("hmm");
    expect(hmm.auc).toMatchObject({ mean: 0.6, min: 0.5, minProgram: "nginx", programs: 2 });
    const ensemble = byName("ensemble(rank)");
    expect(ensemble.kind).toBe("ensemble");
    expect(ensemble.callLevel).toBeUndefined();
    expect(ensemble.auc.mean).toBeCloseTo((0.95 + 0.65 + 0.8) / 3, 12);
    expect(ensemble.delayCalls.programs).toBe(0);
    expect(ensemble.delayCalls.mean).toBeNaN();
  });
});

describe("the AUC without data-only attacks", () => {
  const attack = (type: string, traces: number, auc: number) => ({
    type,
    traces,
    detected: 0,
    detectionRate: 0,
    auc,
  });
  const figures = { auc: 0, far90: 0, dr: [0, 0, 0] as [number, number, number], recall: 0, far: 0, fp: 0, delay: 0 };
  const withAttacks = (per: ReturnType<typeof attack>[]): ModelResult => ({
    ...result("stide", figures),
    per_attack: per,
  });

  it("weighs each remaining attack's AUC by its recordings: the AUC of those attacks against the normals", () => {
    const m = withAttacks([attack("shell", 2, 1), attack("read", 2, 0.25), attack("leak", 1, 0.4)]);
    // Without "read": (2 x 1 + 1 x 0.4) / 3 = 0.8. Nothing left: undefined.
    expect(aucWithout(m, ["read"])).toBeCloseTo(0.8, 12);
    expect(aucWithout(m, [])).toBeCloseTo((2 + 0.5 + 0.4) / 5, 12);
    expect(aucWithout(m, ["shell", "read", "leak"])).toBeNaN();
  });

  it("averages it over the programs that keep an attack, each with its own data-only list", () => {
    const summary = summarizeScenarios([
      { name: "nginx", models: [withAttacks([attack("rce", 2, 1), attack("traversal", 2, 0.3)])] },
      { name: "git", models: [withAttacks([attack("read", 2, 0.5)])], dataOnlyAttacks: ["read"] },
      { name: "perl", models: [withAttacks([attack("traversal", 1, 0.5)])], dataOnlyAttacks: ["other"] },
    ]);
    // nginx lists nothing as data-only: (1 + 0.3) / 2; git keeps none; perl keeps its traversal: 0.5.
    expect(summary.models[0]!.aucWithoutDataOnly).toMatchObject({ programs: 2, min: 0.5, minProgram: "perl" });
    expect(summary.models[0]!.aucWithoutDataOnly.mean).toBeCloseTo((0.65 + 0.5) / 2, 12);
  });
});
