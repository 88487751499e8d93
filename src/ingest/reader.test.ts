import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LIDDS_DIR, skipWithout } from "../testing/paths.js";
import { Vocabulary } from "../syscalls/vocabulary.js";
import { loadTraces } from "./loadTraces.js";
import { HomeostatError } from "../errors.js";
import { buildLidds2019Scenario, buildLidds2021Scenario, loadRealLiddsRecording } from "./testing/liddsFixtures.js";
import { buildScenariosTree, scenariosTreeUnavailable, type ScenariosTree } from "./testing/scenariosTree.js";

describe.skipIf(skipWithout(LIDDS_DIR))("reading LID-DS scenarios through the whole pipeline", () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(path.join(tmpdir(), "homeostat-reader-"));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("labels 2021 recordings from their folder and .json, one trace per thread", async () => {
    const real = loadRealLiddsRecording();
    const scenario = buildLidds2021Scenario(path.join(root, "2021"), real);
    const { traces, report } = await loadTraces([scenario.scenarioDir], new Vocabulary());
    expect(report.formats).toEqual({ lidds2021: scenario.recordings.length });
    for (const rec of scenario.recordings) {
      const mine = traces.filter((t) => t.source.path.includes(`${rec.name}.zip:`));
      expect(mine.length).toBeGreaterThan(0);
      const tids = new Set(rec.lines.map((l) => l.split(" ")[4]));
      expect(mine.length).toBeLessThanOrEqual(tids.size);
      for (const t of mine) {
        expect(t.source.label).toBe(rec.exploit ? "attack" : "normal");
        expect(t.source.split).toBe(rec.folder.split("/")[0]);
        if (rec.exploit) expect(t.source.attackTime).toBeCloseTo(1631078877.513988, 5);
        else expect(t.source.attackTime).toBeUndefined();
      }
    }
  });

  it("labels 2019 recordings from the scenario's runs.csv", async () => {
    const real = loadRealLiddsRecording();
    const scenario = buildLidds2019Scenario(path.join(root, "2019"), real);
    const { traces, report } = await loadTraces([scenario.scenarioDir], new Vocabulary());
    expect(report.formats).toEqual({ lidds2019: scenario.runs.length });
    for (const run of scenario.runs) {
      const mine = traces.filter((t) => t.source.path === run.txtPath);
      expect(mine.length).toBeGreaterThan(0);
      for (const t of mine) {
        expect(t.source.label).toBe(run.exploit ? "attack" : "normal");
        if (run.exploit) expect(t.source.attackTime).toBe(run.exploitStartTime);
      }
    }
  });
});

const noScenarios = scenariosTreeUnavailable();
if (noScenarios !== undefined) console.log(`skipping the strace + sidecar reader tests: ${noScenarios}`);

describe.skipIf(noScenarios !== undefined)("strace recordings with LID-DS sidecars (a recorded scenarios tree)", () => {
  let root: string;
  let tree: ScenariosTree;
  beforeAll(() => {
    root = mkdtempSync(path.join(tmpdir(), "homeostat-reader-scenarios-"));
    tree = buildScenariosTree(path.join(root, "scenarios"), { seed: 5, programs: ["shell"] });
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("labels each recording from its folder and sidecar: split, label, scenario, instance, attack time", async () => {
    const program = tree.programs[0]!;
    // Read from the program's own folder: the scenario still comes from the folder above the split.
    const { traces, report } = await loadTraces([program.dir], new Vocabulary(), { times: true });
    expect(report.formats).toEqual({ strace: program.recordings.length });
    for (const rec of program.recordings) {
      const mine = traces.filter((t) => t.source.path === rec.stracePath);
      expect(mine.length, rec.name).toBeGreaterThan(0);
      for (const t of mine) {
        expect(t.source.split).toBe(rec.split.split("/")[0]);
        expect(t.source.label).toBe(rec.attack ? "attack" : "normal");
        expect(t.source.attackInstance).toBe(rec.name);
        expect(t.source.attackType).toBe(rec.attack ? "shell" : undefined);
        expect(t.source.attackTime).toBe(rec.attackTime);
        expect(t.source.meta).toMatchObject({ scenario: "shell", image: "testing/bash-coreutils" });
      }
      if (rec.attackTime === undefined) continue;
      // The mark was taken inside the recording: calls on both sides of it, on strace's epoch clock.
      const times = mine.flatMap((t) => [...t.times!]);
      expect(Math.min(...times)).toBeLessThan(rec.attackTime);
      expect(Math.max(...times)).toBeGreaterThan(rec.attackTime);
    }
  });

  it("keeps other layouts' labels, and refuses a sidecar that is not a recording json", async () => {
    const rec = tree.programs[0]!.recordings.find((r) => r.attack)!;
    const adfa = path.join(root, "adfa", "Training_Data_Master");
    mkdirSync(adfa, { recursive: true });
    copyFileSync(rec.stracePath, path.join(adfa, "a.strace"));
    copyFileSync(rec.jsonPath, path.join(adfa, "a.json"));
    const { traces } = await loadTraces([path.join(root, "adfa")], new Vocabulary());
    expect(traces.every((t) => t.source.split === "training" && t.source.label === "normal")).toBe(true);
    expect(traces.every((t) => t.source.attackTime === undefined)).toBe(true);

    const bad = path.join(root, "bad", "p", "training");
    mkdirSync(bad, { recursive: true });
    copyFileSync(rec.stracePath, path.join(bad, "b.strace"));
    writeFileSync(path.join(bad, "b.json"), '{"not": "a recording"}');
    const err = await loadTraces([path.join(root, "bad")], new Vocabulary()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HomeostatError);
    expect((err as HomeostatError).code).toBe("E_PARSE");
    expect((err as HomeostatError).location.file).toBe(path.join(bad, "b.json"));
  });
});
