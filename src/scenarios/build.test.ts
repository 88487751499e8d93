// A small scenarios build of three programs a fresh Debian machine with the CI's packages has (perl, make + gcc,
// and the demo's kvserver, built with cc), checked end to end: the LID-DS layout, sidecars LID-DS's reader takes,
// attack times inside the recorded calls with normal calls before and after, homeostat's reader reading every
// .strace file, the same plan for the same seed, no process left behind, and the refusals.

import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EventSink, SourceInfo } from "../ingest/event.js";
import { parseLidds2021RecordingJson } from "../ingest/liddsMetadata.js";
import { readTraces } from "../ingest/reader.js";
import { parseScenariosManifest } from "../ingest/scenariosManifest.js";
import { commandExists, straceUnavailableReason } from "../ingest/testing/straceCapture.js";
import { Vocabulary } from "../syscalls/vocabulary.js";
import { buildScenarios } from "./build.js";
import type { ScenariosManifest } from "./manifest.js";
import { selectScenarios } from "./registry.js";
import { recordingSpecs, SIZES } from "./sizes.js";
import { SPLITS } from "./types.js";

const PROGRAMS = ["make-gcc", "perl", "kvserver"];
const reason =
  straceUnavailableReason() ??
  (["perl", "make", "cc"].every(commandExists) ? undefined : "perl, make or cc is not installed");
if (reason !== undefined) console.log(`skipping the scenarios build test: ${reason}`);

/** Every source the reader met: its info and call times. */
class SourcesSink implements EventSink {
  readonly sources: { info: SourceInfo; times: number[] }[] = [];
  beginSource(info: SourceInfo): void {
    this.sources.push({ info, times: [] });
  }
  call(_stream: number, _syscall: number, time: number): void {
    this.sources[this.sources.length - 1]!.times.push(time);
  }
  note(): void {}
  endSource(): void {}
}

/** Processes whose command line names `needle` (a build's processes name its output folder). */
function processesNaming(needle: string): number[] {
  const pids: number[] = [];
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(needle)) pids.push(Number(pid));
    } catch {
      // gone already
    }
  }
  return pids;
}

describe.skipIf(reason !== undefined)("homeostat scenarios build (small: make-gcc, perl, kvserver)", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "homeostat-scenarios-test-"));
  const out = path.join(dir, "out");
  let manifest: ScenariosManifest;
  beforeAll(async () => {
    manifest = await buildScenarios({ outDir: out, seed: 3, size: "small", programs: PROGRAMS });
  }, 180_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("writes the manifest the evaluation reads, and leaves no process behind", () => {
    const text = readFileSync(path.join(out, "scenarios.json"), "utf8");
    expect(JSON.parse(text)).toEqual(manifest);
    expect(parseScenariosManifest(text, "scenarios.json").programs.map((p) => p.name)).toEqual(PROGRAMS);
    expect(manifest).toMatchObject({ schema: "homeostat-scenarios/1", seed: 3, size: "small", skipped: [] });
    for (const p of manifest.programs) {
      expect(p.recordings).toEqual({ training: 2, validation: 1, testNormal: 1, testAttack: 1 });
      expect(p.calls).toBeGreaterThan(0);
    }
    expect(processesNaming(out)).toEqual([]);
  });

  it("lays out each program as LID-DS 2021 does, a .json beside every .strace", () => {
    for (const program of PROGRAMS) {
      for (const split of SPLITS) {
        const files = readdirSync(path.join(out, program, split)).sort();
        const stems = files.filter((f) => f.endsWith(".strace")).map((f) => f.slice(0, -7));
        expect(stems.length).toBeGreaterThan(0);
        expect(files).toEqual(stems.flatMap((s) => [`${s}.json`, `${s}.strace`]).sort());
      }
    }
  });

  it("writes sidecars LID-DS's reader takes, with the seeded plan that ran", () => {
    for (const scenario of selectScenarios(PROGRAMS)) {
      for (const spec of recordingSpecs(scenario, 3, SIZES.small)) {
        const file = path.join(out, spec.program, spec.split, `${spec.name}.json`);
        const meta = parseLidds2021RecordingJson(readFileSync(file), file);
        expect(meta.exploit).toBe(spec.attack !== undefined);
        expect(meta.image).toBe(scenario.image());
        expect(meta.recordingTime).toBeGreaterThan(0);
        const raw = meta.raw as { homeostat: { workload: string[]; seed: number } };
        expect(raw.homeostat.seed).toBe(spec.seed);
        expect(raw.homeostat.workload).toEqual(scenario.plan(spec).actions.map((a) => scenario.describe(a)));
        if (spec.attack !== undefined)
          expect(meta).toMatchObject({ exploitName: spec.attack, attackTime: expect.any(Number) });
      }
    }
  });

  it("is read by homeostat's reader; each attack time lies inside its recording, normal calls before and after", async () => {
    const sink = new SourcesSink();
    await readTraces([out], { vocab: new Vocabulary(), sink });
    const traces = sink.sources.filter((s) => s.info.path.endsWith(".strace"));
    expect(traces).toHaveLength(PROGRAMS.length * 5);
    for (const { info, times } of traces) {
      expect(info.format).toBe("strace");
      expect(times.length).toBeGreaterThan(100);
      if (!info.path.includes("normal_and_attack")) continue;
      const file = info.path.replace(/\.strace$/, ".json");
      const attackTime = parseLidds2021RecordingJson(readFileSync(file), file).attackTime!;
      expect(times.filter((t) => t < attackTime).length).toBeGreaterThan(0);
      expect(times.filter((t) => t >= attackTime).length).toBeGreaterThan(0);
      if (info.attackTime !== undefined) expect(info.attackTime).toBe(attackTime);
    }
  });

  it("refuses an output folder that is not empty, an unknown program, an unknown size", async () => {
    await expect(buildScenarios({ outDir: out, size: "small", programs: ["perl"] })).rejects.toMatchObject({
      code: "E_USAGE",
      message: expect.stringMatching(/not empty/),
    });
    const empty = path.join(dir, "empty");
    mkdirSync(empty);
    await expect(buildScenarios({ outDir: empty, programs: ["tar"] })).rejects.toMatchObject({ code: "E_USAGE" });
    await expect(buildScenarios({ outDir: empty, size: "huge" })).rejects.toMatchObject({ code: "E_USAGE" });
    const file = path.join(dir, "a-file");
    writeFileSync(file, "");
    await expect(buildScenarios({ outDir: path.join(file, "x"), programs: ["perl"] })).rejects.toMatchObject({
      code: "E_USAGE",
    });
    expect(readdirSync(empty)).toEqual([]);
  });
});
