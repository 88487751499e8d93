import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  buildLidds2021Scenario,
  liddsSampleMissingReason,
  loadRealLiddsRecording,
} from "../../ingest/testing/liddsFixtures.js";
import { ADFA_DIR, BIN, skipWithout } from "../../testing/paths.js";
import { parseAttackArg, parseThreshold, splitModelList } from "../actions/eval.js";

function run(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("eval argument parsing", () => {
  it("splits model lists where a spec's options also use commas", () => {
    expect(splitModelList("stide:k=6,ngram:n=5,hmm:states=40")).toEqual(["stide:k=6", "ngram:n=5", "hmm:states=40"]);
    expect(splitModelList("tstide:k=6,threshold=0.0001,ngram")).toEqual(["tstide:k=6,threshold=0.0001", "ngram"]);
    expect(() => splitModelList(" , ")).toThrow(/no model/);
  });
  it("reads threshold rules and typed attack paths", () => {
    expect(parseThreshold("max")).toEqual({ method: "max" });
    expect(parseThreshold("far:0.05")).toEqual({ method: "far", far: 0.05 });
    expect(() => parseThreshold("far:2")).toThrow(/threshold/);
    expect(parseAttackArg("Hydra=/x/y")).toEqual({ type: "Hydra", path: "/x/y" });
    expect(parseAttackArg("/x/a=b")).toEqual({ type: "attack", path: "/x/a=b" });
  });
});

// Small UNM-style corpus written by the test: normal programs cycle through one loop; attacks add foreign calls.
describe("homeostat eval, generic protocol (generated traces)", () => {
  const dir = mkdtempSync(join(tmpdir(), "homeostat-eval-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const write = (sub: string, n: number, attack: boolean) => {
    mkdirSync(join(dir, sub), { recursive: true });
    for (let i = 0; i < n; i++) {
      const calls: number[] = [];
      for (let j = 0; j < 60; j++) calls.push([3, 4, 5, 6][(j + (i % 3)) % 4]!);
      if (attack) calls.splice(20 + (i % 7), 0, 11, 59, 2);
      writeFileSync(join(dir, sub, `t${i}.txt`), `${calls.join(" ")}\n`);
    }
  };
  write("train", 10, false);
  write("normal", 20, false);
  write("attackA", 5, true);
  write("attackB", 4, true);

  it("prints a table, writes JSON and a report, exit 0", () => {
    const json = join(dir, "r.json");
    const report = join(dir, "r.html");
    const r = run([
      "eval",
      "--train",
      join(dir, "train"),
      "--normal",
      join(dir, "normal"),
      "--attack",
      `A=${join(dir, "attackA")}`,
      `B=${join(dir, "attackB")}`,
      "-m",
      "stide:k=3,ngram:n=3",
      "--json",
      json,
      "--report",
      report,
    ]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/stide:k=3/);
    const out = JSON.parse(readFileSync(json, "utf8"));
    expect(out.schema).toBe("homeostat-eval/1");
    expect(out.models.map((m: { name: string }) => m.name)).toEqual(["stide:k=3", "ngram:n=3", "ensemble(minmax)"]);
    // Foreign calls in every attack trace: perfectly separable.
    expect(out.models[0].auc).toBe(1);
    expect(out.models[0].per_attack.map((a: { type: string; traces: number }) => [a.type, a.traces])).toEqual([
      ["A", 5],
      ["B", 4],
    ]);
    expect(readFileSync(report, "utf8")).toMatch(/^<!doctype html>/);
  });

  it("--json - puts nothing but JSON on stdout", () => {
    const r = run([
      "eval",
      "--train",
      join(dir, "train"),
      "--normal",
      join(dir, "normal"),
      "--attack",
      join(dir, "attackA"),
      "-m",
      "stide",
      "--json",
      "-",
    ]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).models).toHaveLength(1);
  });

  it("is deterministic for a seed: the same figures twice, a different hold-out with another seed", () => {
    const args = (seed: string) => [
      "eval",
      "--train",
      join(dir, "train"),
      "--normal",
      join(dir, "normal"),
      "--attack",
      join(dir, "attackA"),
      "-m",
      "stide:k=3,hmm:states=3,iterations=3",
      "--seed",
      seed,
      "--json",
      "-",
    ];
    const figures = (seed: string) =>
      (
        JSON.parse(run(args(seed)).stdout).models as {
          auc: number;
          threshold: number;
          confusion: unknown;
          roc: unknown;
        }[]
      ).map((m) => [m.auc, m.threshold, m.confusion, m.roc]);
    const a = figures("3");
    expect(figures("3")).toEqual(a);
    const tn = (seed: string) => JSON.parse(run(args(seed)).stdout).protocol.seed as number;
    expect(tn("4")).toBe(4);
  });

  it("usage errors exit 2 with one line", () => {
    for (const args of [
      ["eval"],
      ["eval", "--dataset", "nope", "--data", dir],
      ["eval", "--train", dir, "--normal", dir],
      ["eval", "--train", dir, "--normal", dir, "--attack", dir, "-m", "bogus"],
      ["eval", "--train", dir, "--normal", dir, "--attack", dir, "--threshold", "far:7"],
    ]) {
      const r = run(args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
    }
  });
});

describe.skipIf(skipWithout(ADFA_DIR))("homeostat eval --dataset adfa-ld", () => {
  it("reproduces stide's published AUC (0.827) and runs the KS k-fold protocol", { timeout: 120_000 }, () => {
    const r = run([
      "eval",
      "--dataset",
      "adfa-ld",
      "--data",
      ADFA_DIR,
      "-m",
      "stide:k=6",
      "--ensemble",
      "none",
      "--json",
      "-",
    ]);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.models[0].auc).toBeGreaterThan(0.82);
    expect(out.models[0].auc).toBeLessThan(0.835);
    expect(out.dataset.splits.map((s: { traces: number }) => s.traces)).toEqual([833, 4372, 746]);
    const k = JSON.parse(
      run(["eval", "--dataset", "adfa-ld", "--data", ADFA_DIR, "--kfold", "5", "--json", "-"]).stdout,
    );
    expect(k.kfold.rows).toHaveLength(5);
    expect(k.kfold.total.n).toBe(5951);
    expect(k.models[0].auc).toBeGreaterThan(0.7);
  });
});

const liddsMissing = liddsSampleMissingReason();
if (liddsMissing !== undefined) console.log(`skipping the LID-DS eval test: ${liddsMissing}`);

describe.skipIf(liddsMissing !== undefined)(
  "homeostat eval --dataset lid-ds (a scenario cut from the real recording)",
  () => {
    const root = mkdtempSync(join(tmpdir(), "homeostat-lidds-eval-"));
    afterAll(() => rmSync(root, { recursive: true, force: true }));

    it(
      "trains on training/, sets the threshold on validation/, reports call-level figures per recording",
      { timeout: 60_000 },
      () => {
        const scenario = buildLidds2021Scenario(root, loadRealLiddsRecording());
        const r = run([
          "eval",
          "--dataset",
          "lid-ds",
          "--data",
          scenario.scenarioDir,
          "-m",
          "stide:k=6",
          "--ensemble",
          "none",
          "--json",
          "-",
        ]);
        expect(r.stderr).toBe("");
        expect(r.code).toBe(0);
        const out = JSON.parse(r.stdout);
        expect(out.protocol.name).toBe("lid-ds");
        expect(out.protocol.threshold.method).toBe("max");
        const m = out.models[0];
        // test/normal and test/normal_and_attack: one recording each, each one unit whatever its thread count.
        expect(m.confusion.tp + m.confusion.fn).toBe(1);
        expect(m.confusion.fp + m.confusion.tn).toBe(1);
        expect(m.callLevel.recordings).toBe(2);
        expect(m.callLevel.attackRecordings).toBe(1);
        const calls = scenario.recordings
          .filter((x) => x.folder.startsWith("test"))
          .reduce((a, x) => a + x.lines.length, 0);
        // Every event line of a 2021 .sc is one call (enter and exit are merged per call).
        expect(m.callLevel.calls).toBeGreaterThan(0);
        expect(m.callLevel.calls).toBeLessThanOrEqual(calls);
      },
    );
  },
);
