import { describe, expect, it } from "vitest";
import { HomeostatError } from "../errors.js";
import {
  inLiddsTree,
  liddsPathParts,
  liddsRecordingName,
  liddsSourceInfo,
  pickLiddsRecordingEntries,
} from "./liddsLayout.js";
import {
  assignLidds2019Splits,
  type LiddsRecordingMeta,
  parseLidds2019RunsCsv,
  parseLidds2021RecordingJson,
} from "./liddsMetadata.js";
import { liddsSampleMissingReason, loadRealLiddsRecording } from "./testing/liddsFixtures.js";

const missing = liddsSampleMissingReason();
if (missing !== undefined) console.log(missing);

describe("liddsPathParts", () => {
  it("splits folders, the archive and its member path", () => {
    expect(liddsPathParts("data/CVE-2017-7529/test/normal_and_attack/a_b_1.zip:a_b_1.sc")).toEqual([
      "data",
      "CVE-2017-7529",
      "test",
      "normal_and_attack",
      "a_b_1.zip",
      "a_b_1.sc",
    ]);
    expect(liddsPathParts("C:\\lid\\S\\training\\r.zip:r.sc")).toEqual(["C:", "lid", "S", "training", "r.zip", "r.sc"]);
    expect(liddsPathParts("/x/./S/runs.csv")).toEqual(["x", "S", "runs.csv"]);
    expect(liddsRecordingName(["S", "training", "r_1.zip", "r_1.sc"])).toBe("r_1");
    expect(liddsRecordingName(["S", "r_2.txt"])).toBe("r_2");
    expect(liddsRecordingName(["nginx", "training", "r_3.strace"])).toBe("r_3");
  });

  it("tells a LID-DS-style tree by a split folder above the file", () => {
    expect(inLiddsTree(["nginx", "test", "normal_and_attack", "r.strace"])).toBe(true);
    expect(inLiddsTree(["validation", "r.strace"])).toBe(true);
    expect(inLiddsTree(["Training_Data_Master", "r.txt"])).toBe(false);
    expect(inLiddsTree(["training"])).toBe(false); // a file named like a split is not a folder
  });
});

describe("liddsSourceInfo without metadata (folder layout only)", () => {
  const rec = (folder: string[]): string[] => ["LID-DS-2021", "CVE-2017-7529", ...folder, "r_7.zip", "r_7.sc"];

  it("labels the 2021 folders", () => {
    expect(liddsSourceInfo(rec(["training"]))).toMatchObject({ split: "training", label: "normal" });
    expect(liddsSourceInfo(rec(["validation"]))).toMatchObject({ split: "validation", label: "normal" });
    expect(liddsSourceInfo(rec(["test", "normal"]))).toMatchObject({ split: "test", label: "normal" });
    const attack = liddsSourceInfo(rec(["test", "normal_and_attack"]));
    expect(attack).toMatchObject({
      split: "test",
      label: "attack",
      attackType: "CVE-2017-7529",
      attackInstance: "r_7",
    });
    expect(attack.attackTime).toBeUndefined();
    expect(attack.meta).toMatchObject({ dataset: "LID-DS 2021", scenario: "CVE-2017-7529" });
    // A normal recording names its scenario in meta, not as an attack type.
    const normal = liddsSourceInfo(rec(["training"]));
    expect(normal.attackType).toBeUndefined();
    expect(normal.meta).toMatchObject({ scenario: "CVE-2017-7529" });
  });

  it("leaves out what it cannot tell", () => {
    const info = liddsSourceInfo(["somewhere", "r_7.sc"]);
    expect(info.split).toBeUndefined();
    expect(info.label).toBeUndefined();
    expect(info.attackInstance).toBe("r_7");
  });
});

describe.skipIf(missing !== undefined)("liddsSourceInfo with the real metadata", () => {
  const real = missing === undefined ? loadRealLiddsRecording() : undefined!;
  const attackMeta = (): LiddsRecordingMeta => parseLidds2021RecordingJson(real.json, "r.json");
  const normalMeta = (): LiddsRecordingMeta => {
    const json = JSON.parse(real.json.toString()) as { exploit: boolean; time: { exploit: unknown[] } };
    json.exploit = false;
    json.time.exploit = [];
    return parseLidds2021RecordingJson(JSON.stringify(json), "r.json");
  };

  it("takes the label and attack time from the json", () => {
    const parts = ["Bruteforce_CWE-307", "test", "normal_and_attack", `${real.name}.zip`, `${real.name}.sc`];
    const info = liddsSourceInfo(parts, attackMeta());
    const json = JSON.parse(real.json.toString()) as {
      image: string;
      time: { exploit: { absolute: number }[] };
    };
    expect(info).toMatchObject({
      split: "test",
      label: "attack",
      attackType: "Bruteforce_CWE-307",
      attackInstance: real.name,
      attackTime: json.time.exploit[0]!.absolute,
    });
    expect(info.meta).toMatchObject({ image: json.image, scenario: "Bruteforce_CWE-307" });
  });

  it("lets the json win over the folder, and says so", () => {
    const parts = ["S", "test", "normal_and_attack", "r.zip", "r.sc"];
    const info = liddsSourceInfo(parts, normalMeta());
    expect(info.label).toBe("normal");
    expect(info.attackTime).toBeUndefined();
    expect(info.meta).toMatchObject({ folderLabel: "attack" });
    const training = liddsSourceInfo(["S", "training", "r.zip", "r.sc"], attackMeta());
    expect(training.label).toBe("attack");
    expect(training.split).toBe("training");
  });

  it("labels 2019 recordings from runs.csv", () => {
    const header = "image_name, scenario_name, is_executing_exploit, warmup_time, recording_time, exploit_start_time";
    const metas = assignLidds2019Splits(
      parseLidds2019RunsCsv(`${header}\nimg, r_a, False, 10, 30, -1\nimg, r_b, True, 10, 30, 17\n`, "runs.csv"),
    );
    const a = liddsSourceInfo(["LID-DS-2019", "CVE-2014-0160", "r_a.txt"], metas[0]);
    expect(a).toMatchObject({ split: "training", label: "normal", attackInstance: "r_a" });
    expect(a.meta).toMatchObject({ dataset: "LID-DS 2019", scenario: "CVE-2014-0160" });
    const b = liddsSourceInfo(["LID-DS-2019", "CVE-2014-0160", "r_b.txt"], metas[1]);
    expect(b).toMatchObject({
      split: "test",
      label: "attack",
      attackType: "CVE-2014-0160",
      attackInstance: "r_b",
      attackTime: 17,
    });
  });
});

describe("pickLiddsRecordingEntries", () => {
  it("picks the recording's own .sc and .json", () => {
    const names = ["r_1.json", "r_1.pcap", "r_1.res", "r_1.sc"];
    expect(pickLiddsRecordingEntries(names, "r_1.zip", "r_1")).toEqual({ sc: "r_1.sc", json: "r_1.json" });
    expect(pickLiddsRecordingEntries(names, "renamed.zip", "renamed")).toEqual({
      sc: "r_1.sc",
      json: "r_1.json",
    });
    expect(pickLiddsRecordingEntries(["dir/", "__MACOSX/r.sc", "d/r.sc"], "z.zip")).toEqual({ sc: "d/r.sc" });
    expect(pickLiddsRecordingEntries(["r.pcap"], "z.zip")).toEqual({});
    expect(pickLiddsRecordingEntries(["a.sc", "b.sc", "b.json", "a.json"], "b.zip", "b")).toEqual({
      sc: "b.sc",
      json: "b.json",
    });
  });

  it("refuses to guess between several traces", () => {
    try {
      pickLiddsRecordingEntries(["a.sc", "b.sc"], "z.zip", "z");
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(HomeostatError);
      expect((err as HomeostatError).code).toBe("E_FORMAT");
      expect((err as HomeostatError).location.file).toBe("z.zip");
    }
  });
});
