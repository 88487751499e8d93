import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { HomeostatError } from "../errors.js";
import { Vocabulary } from "../syscalls/vocabulary.js";
import { liddsPathParts } from "./liddsLayout.js";
import { createLidds2021Parser } from "./liddsParser.js";
import { readLiddsRecordingZip } from "./liddsRecordingZip.js";
import {
  buildLidds2021Scenario,
  CollectSink,
  liddsSampleMissingReason,
  loadRealLiddsRecording,
  writeZip,
} from "./testing/liddsFixtures.js";

const missing = liddsSampleMissingReason();
if (missing !== undefined) console.log(missing);

async function expectError(p: Promise<unknown>, code: string): Promise<HomeostatError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(HomeostatError);
    expect((err as HomeostatError).code).toBe(code);
    return err as HomeostatError;
  }
  throw new Error(`expected ${code}`);
}

describe.skipIf(missing !== undefined)("readLiddsRecordingZip on a scenario built from the real recording", () => {
  const root = mkdtempSync(path.join(tmpdir(), "homeostat-lidds2021-"));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const real = missing === undefined ? loadRealLiddsRecording() : undefined!;
  const scenario = missing === undefined ? buildLidds2021Scenario(root, real) : undefined!;

  it("labels every recording from its folder and json, and parses its .sc", async () => {
    const json = JSON.parse(real.json.toString()) as { time: { exploit: { absolute: number }[] } };
    for (const rec of scenario.recordings) {
      const vocab = new Vocabulary();
      const sink = new CollectSink(vocab);
      const parts = liddsPathParts(path.relative(root, rec.zipPath));
      const read = await readLiddsRecordingZip(rec.zipPath, { vocab, sink, pathParts: parts });
      const split = rec.folder.split("/")[0];
      expect(read.source.split).toBe(split);
      expect(read.source.label).toBe(rec.folder === "test/normal_and_attack" ? "attack" : "normal");
      expect(read.source.attackInstance).toBe(rec.name);
      expect(read.source.format).toBe("lidds2021");
      if (rec.exploit) {
        expect(read.source.attackType).toBe("Bruteforce_CWE-307");
        expect(read.source.attackTime).toBe(json.time.exploit[0]!.absolute);
      } else {
        expect(read.source.attackType).toBeUndefined();
        expect(read.source.attackTime).toBeUndefined();
      }
      expect(sink.sources).toEqual([read.source]);
      expect(sink.ended).toBe(1);
      // The same calls as parsing the slice directly.
      const v2 = new Vocabulary();
      const direct = new CollectSink(v2);
      const p = createLidds2021Parser({ file: "x", vocab: v2, sink: direct });
      p.write(Buffer.from(`${rec.lines.join("\n")}\n`));
      p.end();
      expect(sink.calls).toEqual(direct.calls);
      expect(sink.calls.length).toBeGreaterThan(0);
    }
    expect(new Set(scenario.recordings.map((r) => r.folder)).size).toBe(4);
  });

  it("falls back to the folder label when the zip has no json", async () => {
    const rec = scenario.recordings.find((r) => r.exploit)!;
    const zip = path.join(root, "nojson", "test", "normal_and_attack", `${rec.name}.zip`);
    writeZip(zip, [{ name: `${rec.name}.sc`, data: Buffer.from(`${rec.lines.join("\n")}\n`) }]);
    const vocab = new Vocabulary();
    const read = await readLiddsRecordingZip(zip, { vocab, sink: new CollectSink(vocab) });
    expect(read.meta).toBeUndefined();
    expect(read.source.label).toBe("attack");
    expect(read.source.attackType).toBe("nojson");
    expect(read.source.attackTime).toBeUndefined();
  });

  it("raises typed errors for missing, corrupt, incomplete and oversized input", async () => {
    const vocab = new Vocabulary();
    const sink = new CollectSink(vocab);
    const rec = scenario.recordings[0]!;
    await expectError(readLiddsRecordingZip(path.join(root, "absent.zip"), { vocab, sink }), "E_NOT_FOUND");

    const bytes = readFileSync(rec.zipPath);
    const truncated = path.join(root, "truncated.zip");
    writeFileSync(truncated, bytes.subarray(0, Math.floor(bytes.length / 2)));
    await expectError(readLiddsRecordingZip(truncated, { vocab, sink }), "E_ARCHIVE");

    const noSc = path.join(root, "nosc", "training", "r.zip");
    writeZip(noSc, [{ name: "r.json", data: real.json }]);
    await expectError(readLiddsRecordingZip(noSc, { vocab, sink }), "E_NOT_FOUND");

    const big = await expectError(readLiddsRecordingZip(rec.zipPath, { vocab, sink, maxJsonBytes: 100 }), "E_LIMIT");
    expect(big.location.file).toBe(`${rec.zipPath}:${rec.name}.json`);

    const badJson = path.join(root, "badjson", "training", "r.zip");
    writeZip(badJson, [
      { name: "r.json", data: Buffer.from('{"exploit": "no"}') },
      { name: "r.sc", data: Buffer.from(`${rec.lines.slice(0, 10).join("\n")}\n`) },
    ]);
    const pe = await expectError(readLiddsRecordingZip(badJson, { vocab, sink }), "E_PARSE");
    expect(pe.location.file).toBe(`${badJson}:r.json`);

    const badSc = path.join(root, "badsc", "training", "r.zip");
    writeZip(badSc, [{ name: "r.sc", data: Buffer.from(`${rec.lines[0]}\nnot a sysdig line\n`) }]);
    const se = await expectError(readLiddsRecordingZip(badSc, { vocab, sink }), "E_PARSE");
    expect(se.location).toMatchObject({ file: `${badSc}:r.sc`, line: 2 });
    const lenient = await readLiddsRecordingZip(badSc, { vocab, sink, lenient: true });
    expect(lenient.source.path).toBe(`${badSc}:r.sc`);
  });

  it("counts enter events only when asked", async () => {
    const rec = scenario.recordings[0]!;
    const vocab = new Vocabulary();
    const sink = new CollectSink(vocab);
    await readLiddsRecordingZip(rec.zipPath, { vocab, sink, countOrphanExits: false });
    expect(sink.calls.length).toBe(rec.lines.filter((l) => l.split(" ")[6] === ">").length);
  });
});
