import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { HomeostatError, ParseError } from "../errors.js";
import {
  assignLidds2019Splits,
  LIDDS_2019_TRAINING_SIZE,
  LIDDS_2019_VALIDATION_SIZE,
  lidds2019MetaFromRunsCsv,
  parseLidds2019RunsCsv,
  parseLidds2021RecordingJson,
  parseLiddsRecordingJson,
} from "./liddsMetadata.js";
import { buildLidds2019Scenario, liddsSampleMissingReason, loadRealLiddsRecording } from "./testing/liddsFixtures.js";

const missing = liddsSampleMissingReason();
if (missing !== undefined) console.log(missing);

function parseError(fn: () => unknown): ParseError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ParseError);
    return err as ParseError;
  }
  throw new Error("expected a ParseError");
}

interface RealJson {
  exploit: boolean;
  image: string;
  exploit_name: string;
  recording_time: number;
  time: { warmup_end: { absolute: number }; exploit: { absolute: number }[] };
}

describe.skipIf(missing !== undefined)("LID-DS 2021 recording json", () => {
  const real = missing === undefined ? loadRealLiddsRecording() : undefined!;
  const json = missing === undefined ? (JSON.parse(real.json.toString("utf8")) as RealJson) : undefined!;

  it("reads the real file's exploit flag, attack time, warm-up end, recording time and image", () => {
    const meta = parseLidds2021RecordingJson(real.json, real.jsonPath);
    expect(meta.dataset).toBe("2021");
    expect(meta.exploit).toBe(json.exploit);
    expect(meta.attackTime).toBe(json.time.exploit[0]!.absolute);
    expect(meta.attackTimes).toEqual(json.time.exploit.map((e) => e.absolute));
    expect(meta.warmupEnd).toBe(json.time.warmup_end.absolute);
    expect(meta.recordingTime).toBe(json.recording_time);
    expect(meta.image).toBe(json.image);
    expect(meta.exploitName).toBe(json.exploit_name);
    expect(meta.raw).toEqual(json);
    expect(parseLiddsRecordingJson(real.json.toString("utf8"), "x")).toEqual(meta);
  });

  it("has no attack time for a recording without exploit, and accepts recording_time 'auto-detected'", () => {
    const normal = { ...json, exploit: false, time: { ...json.time, exploit: [] } };
    const meta = parseLidds2021RecordingJson(JSON.stringify(normal), "n.json");
    expect(meta.exploit).toBe(false);
    expect(meta.attackTime).toBeUndefined();
    const auto = parseLidds2021RecordingJson(JSON.stringify({ ...json, recording_time: "auto-detected" }), "a.json");
    expect(auto.recordingTime).toBeUndefined();
    expect(auto.attackTime).toBe(json.time.exploit[0]!.absolute);
  });

  it("reads metadata written with single quotes, as LID-DS's loader tolerates", () => {
    const quoted = real.json.toString("utf8").replaceAll('"', "'");
    expect(parseLidds2021RecordingJson(quoted, "q.json").attackTime).toBe(json.time.exploit[0]!.absolute);
  });

  it("rejects broken or foreign json with E_PARSE naming the file", () => {
    const text = real.json.toString("utf8");
    const cases = [
      text.slice(0, text.length / 2),
      JSON.stringify({ ...json, exploit: "yes" }),
      JSON.stringify({ ...json, exploit: undefined }),
      JSON.stringify({ ...json, time: { exploit: [{ absolute: "soon" }] } }),
      "[]",
      "",
    ];
    for (const c of cases) {
      const err = parseError(() => parseLidds2021RecordingJson(c, "scenario/test/x.zip:x.json"));
      expect(err.code).toBe("E_PARSE");
      expect(err.location.file).toBe("scenario/test/x.zip:x.json");
    }
    expect(parseError(() => parseLidds2021RecordingJson(JSON.stringify({ ...json, exploit: 1 }), "f")).message).toMatch(
      /exploit/,
    );
  });

  it("throws only E_PARSE on arbitrary input", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json()), (s) => {
        try {
          parseLidds2021RecordingJson(s, "f.json");
        } catch (err) {
          expect(err).toBeInstanceOf(HomeostatError);
          expect((err as HomeostatError).code).toBe("E_PARSE");
        }
      }),
    );
  });
});

describe.skipIf(missing !== undefined)("LID-DS 2019 runs.csv", () => {
  const root = mkdtempSync(path.join(tmpdir(), "homeostat-lidds2019-"));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("reads the rows a LID-DS 2019 runner writes", () => {
    const real = loadRealLiddsRecording();
    const scenario = buildLidds2019Scenario(root, real);
    const file = path.join(scenario.scenarioDir, "runs.csv");
    const runs = parseLidds2019RunsCsv(readFileSync(file), file);
    expect(runs.map((r) => r.name)).toEqual(scenario.runs.map((r) => r.name));
    expect(runs.map((r) => r.exploit)).toEqual(scenario.runs.map((r) => r.exploit));
    expect(runs.map((r) => r.exploitStartTime ?? -1)).toEqual(scenario.runs.map((r) => r.exploitStartTime));
    expect(runs.every((r) => r.image === (JSON.parse(real.json.toString()) as RealJson).image)).toBe(true);
    expect(runs.map((r) => r.line)).toEqual(scenario.runs.map((_, k) => k + 2));
    const attackRun = scenario.runs.find((r) => r.exploit)!;
    const meta = lidds2019MetaFromRunsCsv(scenario.runsCsv, file, attackRun.name)!;
    expect(meta.dataset).toBe("2019");
    expect(meta.exploit).toBe(true);
    expect(meta.attackTime).toBe(attackRun.exploitStartTime);
    expect(meta.split).toBe("test");
    expect(lidds2019MetaFromRunsCsv(scenario.runsCsv, file, "no_such_run")).toBeUndefined();
  });

  it("splits like LID-DS's loader: first normal runs training, next validation, the rest and exploits test", () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { minLength: 0, maxLength: 400 }), (exploits) => {
        const header =
          "image_name, scenario_name, is_executing_exploit, warmup_time, recording_time, exploit_start_time";
        const rows = exploits.map((e, k) => `img, run_${k}, ${e ? "True" : "False"}, 10, 30, ${e ? 12 : -1}`);
        const metas = assignLidds2019Splits(parseLidds2019RunsCsv([header, ...rows].join("\r\n"), "runs.csv"));
        let normals = 0;
        metas.forEach((m, k) => {
          expect(m.name).toBe(`run_${k}`);
          if (exploits[k]) {
            expect(m.split).toBe("test");
            expect(m.attackTime).toBe(12);
          } else {
            const expected =
              normals < LIDDS_2019_TRAINING_SIZE
                ? "training"
                : normals < LIDDS_2019_TRAINING_SIZE + LIDDS_2019_VALIDATION_SIZE
                  ? "validation"
                  : "test";
            expect(m.split).toBe(expected);
            expect(m.attackTime).toBeUndefined();
            normals++;
          }
        });
      }),
      { numRuns: 30 },
    );
  });

  it("rejects malformed files with E_PARSE at the right line and column", () => {
    const header = "image_name, scenario_name, is_executing_exploit, warmup_time, recording_time, exploit_start_time";
    const e1 = parseError(() => parseLidds2019RunsCsv("a,b,c\n", "runs.csv"));
    expect(e1.location).toMatchObject({ file: "runs.csv", line: 1 });
    const e2 = parseError(() => parseLidds2019RunsCsv(`${header}\nimg, r1, maybe, 10, 30, -1\n`, "runs.csv"));
    expect(e2.location).toMatchObject({ file: "runs.csv", line: 2, column: 10 });
    const e3 = parseError(() => parseLidds2019RunsCsv(`${header}\nimg, r1, True, 10, 30\n`, "runs.csv"));
    expect(e3.location.line).toBe(2);
    const e4 = parseError(() => parseLidds2019RunsCsv(`${header}\n\nimg, r1, True, ten, 30, 5\n`, "runs.csv"));
    expect(e4.location).toMatchObject({ line: 3, column: 16 });
  });
});
