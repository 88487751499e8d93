import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HomeostatError } from "../errors.js";
import { loadTraces } from "../ingest/loadTraces.js";
import { readScenariosLayout } from "../ingest/scenariosLayout.js";
import {
  buildScenariosTree,
  type GeneratedProgram,
  scenariosTreeUnavailable,
  type ScenariosTree,
} from "../ingest/testing/scenariosTree.js";
import type { Trace } from "../ingest/traceCollector.js";
import { Vocabulary } from "../syscalls/vocabulary.js";
import { runExperiment } from "./experiment.js";
import { scenarioExperiment, untimedAttacks } from "./scenariosProtocol.js";

const unavailable = scenariosTreeUnavailable();
if (unavailable !== undefined) console.log(`skipping the scenarios protocol tests: ${unavailable}`);

const count = (p: GeneratedProgram, split: string): number => p.recordings.filter((r) => r.split === split).length;

describe.skipIf(unavailable !== undefined)("the scenarios protocol on a recorded tree", () => {
  let root: string;
  let tree: ScenariosTree;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), "homeostat-scenarios-protocol-"));
    tree = buildScenariosTree(root, { seed: 2 });
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  const load = async (dir: string): Promise<Trace[]> =>
    (await loadTraces([dir], new Vocabulary(), { times: true })).traces;

  it("runs LID-DS's protocol on each program alone: training, validation threshold, timed test recordings", async () => {
    const layout = readScenariosLayout(root);
    expect(layout.programs.map((p) => p.name)).toEqual(["shell", "python"]);
    for (const program of layout.programs) {
      const generated = tree.programs.find((p) => p.name === program.name)!;
      const traces = await load(program.dir);
      const data = scenarioExperiment(program, traces);
      // Only this program's recordings: one calibration unit per validation recording, one test unit per test one.
      expect(data.train.length).toBe(traces.filter((t) => t.source.split === "training").length);
      expect(data.calibration.map((u) => u.name).sort()).toEqual(
        generated.recordings.filter((r) => r.split === "validation").map((r) => r.stracePath),
      );
      expect(data.test.length).toBe(count(generated, "test/normal") + count(generated, "test/normal_and_attack"));
      for (const u of data.test) {
        const rec = generated.recordings.find((r) => r.stracePath === u.name)!;
        expect(u.attack).toBe(rec.attack);
        expect(u.attackTime).toBe(rec.attackTime);
        // Typed by the exploit its sidecar names, not by the program.
        if (u.attack) expect(u.attackType).toBe("spawn-id");
        expect(u.traces.every((t) => t.times !== undefined && t.times.length === t.calls.length)).toBe(true);
      }
      expect(untimedAttacks(data)).toBe(0);

      const [stide] = runExperiment(data, { models: ["stide:k=6"], threshold: { method: "max" }, seed: 1 });
      const c = stide!.callLevel!;
      expect([c.recordings, c.attackRecordings]).toEqual([
        data.test.length,
        count(generated, "test/normal_and_attack"),
      ]);
      // Calls before each exploit mark count as normal: the attack recordings hold some.
      expect(c.trueNegativeCalls + c.falseAlarmCalls).toBeGreaterThan(0);
      expect(stide!.auc).toBeGreaterThanOrEqual(0);
    }
  });

  it("refuses a program with an unlabelled recording, no attack, or no training, naming where", async () => {
    const program = readScenariosLayout(root).programs[0]!;
    const traces = await load(program.dir);
    const relabelled = traces.map((t) => ({ ...t, source: { ...t.source, label: "normal" as const } }));
    const noAttack = (() => {
      try {
        scenarioExperiment(program, relabelled);
      } catch (err) {
        return err;
      }
    })();
    expect(noAttack).toBeInstanceOf(HomeostatError);
    expect((noAttack as HomeostatError).code).toBe("E_FORMAT");
    expect((noAttack as HomeostatError).location.file).toBe(program.dir);
    expect((noAttack as HomeostatError).message).toContain("no attack recording");

    const { split: _split, ...unsplit } = traces[0]!.source;
    const unlabelled = [{ ...traces[0]!, source: unsplit }, ...traces.slice(1)];
    expect(() => scenarioExperiment(program, unlabelled)).toThrow(/without its <rec>.json sidecar/);

    const untrained = traces.filter((t) => t.source.split !== "training");
    expect(() => scenarioExperiment(program, untrained)).toThrow(/program "shell": not a LID-DS scenario/);
  });
});
