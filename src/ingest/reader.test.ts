import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LIDDS_DIR, skipWithout } from "../testing/paths.js";
import { Vocabulary } from "../syscalls/vocabulary.js";
import { loadTraces } from "./loadTraces.js";
import { buildLidds2019Scenario, buildLidds2021Scenario, loadRealLiddsRecording } from "./testing/liddsFixtures.js";

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
