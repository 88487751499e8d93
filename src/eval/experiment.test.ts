import { describe, expect, it } from "vitest";
import { type EvalUnit, type ExperimentData, histogram, runExperiment } from "./experiment.js";
import { adfaExperiment, holdOutCalibration, unitsOfTraces } from "./protocol.js";
import type { Trace } from "../ingest/traceCollector.js";

const u16 = (xs: number[]) => Uint16Array.from(xs);
const unit = (name: string, calls: number[], attack = false, attackType?: string): EvalUnit => ({
  name,
  traces: [{ calls: u16(calls) }],
  attack,
  ...(attackType !== undefined ? { attackType } : {}),
});

// stide k=2 trained on 0 1 0 1 0 knows the pairs (0,1) and (1,0) only. A trace's rate is unknown pairs / pairs.
const train = [u16([0, 1, 0, 1, 0])];

describe("runExperiment (stide k=2 worked by hand)", () => {
  // Calibration normals: rates 0, 0, 1/3 (0 1 0 2: pairs 01 10 02 -> one unknown).
  const c1 = unit("c1", [0, 1, 0, 1]);
  const c2 = unit("c2", [1, 0, 1]);
  const c3 = unit("c3", [0, 1, 0, 2]);
  // Test normals: rates 0 and 1/2 (0 1 1: pairs 01 11). Attacks: 2 2 2 (rate 1), 0 1 2 2 (2/3), 0 1 0 1 (0).
  const n1 = unit("n1", [0, 1, 0]);
  const n2 = unit("n2", [0, 1, 1]);
  const a1 = unit("a1", [2, 2, 2], true, "X");
  const a2 = unit("a2", [0, 1, 2, 2], true, "Y");
  const a3 = unit("a3", [0, 1, 0, 1], true, "Y");
  const data: ExperimentData = { train, calibration: [c1, c2, c3], test: [c1, c2, c3, n1, n2, a1, a2, a3] };
  const [r] = runExperiment(data, { models: ["stide:k=2"], threshold: { method: "max" }, seed: 1 });

  it("scores, AUC over all normal test units, and the calibrated threshold", () => {
    expect(r!.score).toBe("rate");
    // max of calibration rates 0, 0, 1/3.
    expect(r!.threshold).toBeCloseTo(1 / 3, 12);
    // Normals 0,0,1/3,0,1/2 vs attacks 1, 2/3, 0: P(attack > normal) + ties/2 over 15 pairs.
    // a=1 beats 5; a=2/3 beats 5; a=0 beats 0 and ties 3 -> 1.5. (5 + 5 + 1.5) / 15.
    expect(r!.auc).toBeCloseTo(11.5 / 15, 12);
  });

  it("confusion at the threshold leaves out the calibration units", () => {
    // Held-out normals n1 (0) and n2 (1/2 > 1/3: a false alarm); attacks a1, a2 above, a3 not.
    expect(r!.confusion).toEqual({ tp: 2, fn: 1, fp: 1, tn: 1 });
    expect(r!.per_attack.map((p) => [p.type, p.traces, p.detected])).toEqual([
      ["X", 1, 1],
      ["Y", 2, 1],
    ]);
  });

  it("delay: the first call whose running rate exceeds the threshold", () => {
    // a1 = 2 2 2: first pair (2,2) at call 1 is unknown, running rate 1 > 1/3 -> delay 1.
    // a2 = 0 1 2 2: call 1 rate 0; call 2 (1,2) unknown -> 1/2 > 1/3 -> delay 2. a3 never alarms.
    expect(r!.delay.count).toBe(2);
    expect(r!.delay.min).toBe(1);
    expect(r!.delay.max).toBe(2);
  });

  it("operating points and cost are filled in", () => {
    expect(r!.dr_at_far).toHaveLength(3);
    expect(r!.far_at_dr90.tpr).toBeGreaterThanOrEqual(0.9);
    expect(r!.cost.profileBytes).toBeGreaterThan(0);
    expect(r!.roc[0]).toEqual(expect.objectContaining({ fpr: 0, tpr: 0 }));
    expect(r!.roc.at(-1)).toEqual(expect.objectContaining({ fpr: 1, tpr: 1 }));
  });

  it("an ensemble row combines the models, normalised on calibration data only", () => {
    const rs = runExperiment(data, {
      models: ["stide:k=2", "stide:k=3"],
      threshold: { method: "max" },
      seed: 1,
      ensemble: "rank",
    });
    expect(rs.map((x) => x.name)).toEqual(["stide:k=2", "stide:k=3", "ensemble(rank)"]);
    expect(rs[2]!.auc).toBeGreaterThan(0.5);
  });

  it("refuses attack units among calibration units, and missing data", () => {
    expect(() =>
      runExperiment({ ...data, calibration: [a1] }, { models: ["stide"], threshold: { method: "max" }, seed: 1 }),
    ).toThrow(/normal/);
    expect(() =>
      runExperiment({ ...data, test: [n1, n2] }, { models: ["stide"], threshold: { method: "max" }, seed: 1 }),
    ).toThrow(/attack/);
  });
});

describe("call-level figures from timestamped recordings", () => {
  it("merges threads by time and counts false-alarm calls and detection", () => {
    const rec = (name: string, attack: boolean, threads: [number[], number[]][], attackTime?: number): EvalUnit => ({
      name,
      attack,
      traces: threads.map(([calls, times]) => ({ calls: u16(calls), times: Float64Array.from(times) })),
      ...(attack ? { attackType: "T" } : {}),
      ...(attackTime !== undefined ? { attackTime } : {}),
    });
    const calib = rec("v", false, [
      [
        [0, 1, 0, 1],
        [1, 2, 3, 4],
      ],
    ]);
    const normal = rec("n", false, [
      [
        [0, 1, 0],
        [1, 2, 3],
      ],
    ]);
    // Two threads; the attack begins at t = 10; thread 2 makes unknown pairs from t = 11.
    const attack = rec(
      "a",
      true,
      [
        [
          [0, 1, 0],
          [1, 2, 3],
        ],
        [
          [0, 2, 2],
          [9, 11, 12],
        ],
      ],
      10,
    );
    const [r] = runExperiment(
      { train, calibration: [calib], test: [calib, normal, attack] },
      { models: ["stide:k=2"], threshold: { method: "max" }, seed: 1 },
    );
    const cl = r!.callLevel!;
    expect(cl.recordings).toBe(2); // the calibration recording is left out
    expect(cl.attackRecordings).toBe(1);
    expect(cl.detectedAttacks).toBe(1);
    expect(cl.falseAlarmCalls).toBe(0);
    // Merged order: t=1,2,3 (thread 1), 9, 11, 12 (thread 2); the attack starts at index 4 (t = 11), alarmed.
    expect(cl.delayCalls.min).toBe(0);
    expect(cl.delaySeconds.min).toBe(1);
  });
});

describe("histogram", () => {
  it("bins both classes over shared edges", () => {
    const h = histogram([0, 0.5, 1], [1, 1], 2);
    expect(h.edges).toEqual([0, 0.5, 1]);
    expect(h.normal).toEqual([1, 2]);
    expect(h.attack).toEqual([0, 2]);
  });
});

describe("protocols", () => {
  const trace = (path: string, split: string, label: "normal" | "attack", calls: number[], type?: string): Trace => ({
    source: { path, format: "adfa", split, label, ...(type !== undefined ? { attackType: type } : {}) },
    stream: 0,
    multiStream: false,
    calls: u16(calls),
    notes: [],
  });

  it("ADFA-LD: training only trains; validation and attack traces are test units", () => {
    const traces = [
      trace("t1", "training", "normal", [0, 1]),
      ...Array.from({ length: 10 }, (_, i) => trace(`v${i}`, "validation", "normal", [0, 1, i])),
      trace("a1", "attack", "attack", [2, 2], "Hydra_FTP"),
    ];
    const d = adfaExperiment(traces, 7, 0.2);
    expect(d.train).toHaveLength(1);
    expect(d.test).toHaveLength(11);
    expect(d.calibration).toHaveLength(2);
    expect(d.calibration.every((u) => !u.attack && d.test.includes(u))).toBe(true);
    expect(d.test.find((u) => u.attack)?.attackType).toBe("Hydra_FTP");
    // Deterministic in the seed, and the seed matters.
    expect(adfaExperiment(traces, 7, 0.2).calibration.map((u) => u.name)).toEqual(d.calibration.map((u) => u.name));
    const others = [1, 2, 3, 4, 5].map((s) =>
      adfaExperiment(traces, s, 0.2)
        .calibration.map((u) => u.name)
        .join(),
    );
    expect(new Set(others).size).toBeGreaterThan(1);
  });

  it("a source with several streams is one unit", () => {
    const t = (stream: number): Trace => ({
      source: { path: "rec", format: "strace", label: "attack", attackType: "T" },
      stream,
      multiStream: true,
      calls: u16([stream]),
      notes: [],
    });
    const units = unitsOfTraces([t(1), t(2)], "from-source");
    expect(units).toHaveLength(1);
    expect(units[0]!.traces).toHaveLength(2);
    expect(units[0]!.attack).toBe(true);
  });

  it("hold-out refuses a share outside (0, 1)", () => {
    expect(() => holdOutCalibration([unit("a", [1]), unit("b", [1])], 1, 1)).toThrow(/share/);
  });
});
