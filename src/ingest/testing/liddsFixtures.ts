// Test helper: builds small LID-DS scenarios in the real layouts from the one real LID-DS 2021 recording in
// ../shared/datasets/lid-ds (never hand-typed data). 2021: slices of the real .sc, zipped (deflated, as LID-DS's
// exporter does) with a .json in the real schema (the real file, with the exploit fields cleared for normal
// recordings) and the real .res, into training/, validation/, test/normal/, test/normal_and_attack/. 2019: the
// same real events rewritten in the 2019 line layout (the 2021 data has no cpu column: cpu is written as 0; the
// time of day is the UTC time of the real nanosecond timestamp) with a runs.csv in LID-DS 2019's column order.
// Node has no zip writer, so a minimal one (stored or deflated entries, no zip64) is here; it is test code.

import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { crc32, deflateRawSync } from "node:zlib";
import type { Vocabulary } from "../../syscalls/vocabulary.js";
import type { EventSink, SourceInfo, StreamNote } from "../event.js";

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
export const LIDDS_DATASET_DIR = path.resolve(REPO_ROOT, "../shared/datasets/lid-ds");
export const LIDDS_SAMPLE_DIR = path.join(LIDDS_DATASET_DIR, "sample-2021-bruteforce");
export const LIDDS_SAMPLE_NAME = "aggressive_nightingale_1018";

/** The real recording, or undefined (with the reason) when the dataset is absent. */
export interface RealLiddsRecording {
  name: string;
  dir: string;
  scPath: string;
  zipPath: string;
  jsonPath: string;
  sc: Buffer;
  json: Buffer;
  res: Buffer;
  /** The .sc's lines without their newline. */
  lines: string[];
}

export function liddsSampleMissingReason(): string | undefined {
  for (const ext of [".sc", ".json", ".zip", ".res"]) {
    const p = path.join(LIDDS_SAMPLE_DIR, LIDDS_SAMPLE_NAME + ext);
    if (!existsSync(p)) return `LID-DS sample not found (${p}): skipping tests that need it`;
  }
  return undefined;
}

let cached: RealLiddsRecording | undefined;

export function loadRealLiddsRecording(): RealLiddsRecording {
  if (cached !== undefined) return cached;
  const base = path.join(LIDDS_SAMPLE_DIR, LIDDS_SAMPLE_NAME);
  const sc = readFileSync(`${base}.sc`);
  const text = sc.toString("utf8");
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  cached = {
    name: LIDDS_SAMPLE_NAME,
    dir: LIDDS_SAMPLE_DIR,
    scPath: `${base}.sc`,
    zipPath: `${base}.zip`,
    jsonPath: `${base}.json`,
    sc,
    json: readFileSync(`${base}.json`),
    res: readFileSync(`${base}.res`),
    lines,
  };
  return cached;
}

// ---------------------------------------------------------------------------------------------------------------
// A sink that keeps everything, for comparisons.

export interface CollectedCall {
  stream: number;
  syscall: string;
  time: number;
  ret: number;
  args: string | undefined;
}

export class CollectSink implements EventSink {
  readonly calls: CollectedCall[] = [];
  readonly notes: { stream: number; note: StreamNote }[] = [];
  readonly sources: SourceInfo[] = [];
  ended = 0;
  constructor(private readonly vocab: Vocabulary) {}
  beginSource(source: SourceInfo): void {
    this.sources.push(source);
  }
  call(stream: number, syscall: number, time: number, ret: number, args: string | undefined): void {
    this.calls.push({ stream, syscall: this.vocab.token(syscall), time, ret, args });
  }
  note(stream: number, note: StreamNote): void {
    this.notes.push({ stream, note });
  }
  endSource(): void {
    this.ended++;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Zip writing (PKWARE APPNOTE 4.3.7 local header, 4.3.12 central directory, 4.3.16 end of central directory).

export interface ZipInput {
  name: string;
  data: Uint8Array;
  /** Deflate the entry (method 8); stored (method 0) otherwise. Default true. */
  deflate?: boolean;
}

export function zipBytes(entries: readonly ZipInput[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  // 2021-09-14 14:16:00 in DOS format, like the real archive's entries.
  const dosTime = (14 << 11) | (16 << 5);
  const dosDate = ((2021 - 1980) << 9) | (9 << 5) | 14;
  for (const e of entries) {
    const name = Buffer.from(e.name, "utf8");
    const method = e.deflate === false ? 0 : 8;
    const body = method === 8 ? deflateRawSync(e.data) : Buffer.from(e.data);
    const crc = crc32(e.data);
    if (body.length >= 0xffffffff || e.data.length >= 0xffffffff || offset >= 0xffffffff) {
      throw new Error("zipBytes: entries over 4 GiB need zip64, which this test writer lacks");
    }
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(method, 8);
    local.writeUInt16LE(dosTime, 10);
    local.writeUInt16LE(dosDate, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(e.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(0x0314, 4); // made by: Unix, 2.0
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt16LE(dosTime, 12);
    central.writeUInt16LE(dosDate, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(e.data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE((0o100644 << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, body);
    centrals.push(central, name);
    offset += local.length + name.length + body.length;
  }
  const cd = Buffer.concat(centrals);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(entries.length, 8);
  eocd.writeUInt16LE(entries.length, 10);
  eocd.writeUInt32LE(cd.length, 12);
  eocd.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, eocd]);
}

export function writeZip(file: string, entries: readonly ZipInput[]): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, zipBytes(entries));
}

// ---------------------------------------------------------------------------------------------------------------
// LID-DS 2021 scenario.

export type Lidds2021Folder = "training" | "validation" | "test/normal" | "test/normal_and_attack";

export interface FixtureRecording2021 {
  folder: Lidds2021Folder;
  name: string;
  /** The .sc lines (no newlines), a contiguous slice of the real recording. */
  lines: string[];
  /** Index of the first line in the real recording. */
  from: number;
  /** The json object written into the zip. */
  json: Record<string, unknown>;
  exploit: boolean;
  zipPath: string;
}

export interface FixtureScenario2021 {
  scenarioDir: string;
  recordings: FixtureRecording2021[];
}

export interface Slice2021 {
  folder: Lidds2021Folder;
  from: number;
  to: number;
  /** The real exploit metadata is kept only for a recording with exploit. */
  exploit: boolean;
  /** Also write the .json (default true). */
  withJson?: boolean;
  deflate?: boolean;
}

/**
 * The default slices: two training, one validation, one test/normal recording from before the real attack, and
 * one test/normal_and_attack recording around the real exploit time.
 */
export function defaultSlices2021(real: RealLiddsRecording): Slice2021[] {
  const attack = realAttackNs(real);
  const firstAttackLine = real.lines.findIndex((l) => BigInt(l.slice(0, l.indexOf(" "))) >= attack);
  if (firstAttackLine < 5000) throw new Error("the real recording's attack starts earlier than this helper expects");
  return [
    { folder: "training", from: 0, to: 1500, exploit: false },
    { folder: "training", from: 1500, to: 3000, exploit: false, deflate: false },
    { folder: "validation", from: 3000, to: 4000, exploit: false },
    { folder: "test/normal", from: 4000, to: 5000, exploit: false },
    {
      folder: "test/normal_and_attack",
      from: firstAttackLine - 1500,
      to: firstAttackLine + 1500,
      exploit: true,
    },
  ];
}

/** The real exploit time as integer nanoseconds (the json holds microseconds). */
export function realAttackNs(real: RealLiddsRecording): bigint {
  const json = JSON.parse(real.json.toString("utf8")) as { time: { exploit: { absolute: number }[] } };
  const abs = json.time.exploit[0]!.absolute;
  return BigInt(Math.round(abs * 1e6)) * 1000n;
}

/** Writes `<root>/<scenario>/<folder>/<name>.zip` for each slice. */
export function buildLidds2021Scenario(
  root: string,
  real: RealLiddsRecording,
  scenario = "Bruteforce_CWE-307",
  slices: readonly Slice2021[] = defaultSlices2021(real),
): FixtureScenario2021 {
  const scenarioDir = path.join(root, scenario);
  const realJson = JSON.parse(real.json.toString("utf8")) as Record<string, unknown>;
  const recordings = slices.map((s, k) => {
    const name = `${real.name}_${k}`;
    const lines = real.lines.slice(s.from, s.to);
    const json = s.exploit ? structuredClone(realJson) : normalJson(realJson);
    const zipPath = path.join(scenarioDir, ...s.folder.split("/"), `${name}.zip`);
    const entries: ZipInput[] = [];
    if (s.withJson !== false) {
      entries.push({
        name: `${name}.json`,
        data: Buffer.from(JSON.stringify(json, null, 4)),
        deflate: s.deflate !== false,
      });
    }
    entries.push({ name: `${name}.res`, data: real.res, deflate: s.deflate !== false });
    entries.push({
      name: `${name}.sc`,
      data: Buffer.from(`${lines.join("\n")}\n`),
      deflate: s.deflate !== false,
    });
    writeZip(zipPath, entries);
    return { folder: s.folder, name, lines, from: s.from, json, exploit: s.exploit, zipPath };
  });
  return { scenarioDir, recordings };
}

/** The real json as a normal recording's: no exploit, no exploit times, no attacker container. */
function normalJson(real: Record<string, unknown>): Record<string, unknown> {
  const json = structuredClone(real);
  json.exploit = false;
  const time = json.time as Record<string, unknown>;
  time.exploit = [];
  json.container = (json.container as { role: string }[]).filter((c) => c.role !== "attacker");
  return json;
}

// ---------------------------------------------------------------------------------------------------------------
// LID-DS 2019.

/**
 * Rewrites 2021 lines in the 2019 layout `<n> <HH:MM:SS.nnnnnnnnn> <cpu> <uid> <comm> <tid> <dir> <syscall> [args]`.
 * `shiftNs` moves every timestamp (to cross midnight, say).
 */
export function toLidds2019Lines(lines2021: readonly string[], firstEventNumber = 1, shiftNs = 0n): string[] {
  return lines2021.map((line, k) => {
    const f = line.split(" ");
    const [ts, uid, , comm, tid, syscall, dir] = f;
    const args = f.slice(7).join(" ");
    const ns = BigInt(ts!) + shiftNs;
    const secOfDay = Number((ns / 1_000_000_000n) % 86_400n);
    const frac = (ns % 1_000_000_000n).toString().padStart(9, "0");
    const hh = String(Math.floor(secOfDay / 3600)).padStart(2, "0");
    const mm = String(Math.floor((secOfDay % 3600) / 60)).padStart(2, "0");
    const ss = String(secOfDay % 60).padStart(2, "0");
    return `${firstEventNumber + k} ${hh}:${mm}:${ss}.${frac} 0 ${uid} ${comm} ${tid} ${dir} ${syscall} ${args}`;
  });
}

export interface FixtureRun2019 {
  name: string;
  exploit: boolean;
  /** The 2021 lines this run was made from. */
  lines2021: string[];
  lines: string[];
  /** runs.csv's exploit_start_time (whole seconds after the first event), -1 without exploit. */
  exploitStartTime: number;
  txtPath: string;
}

export interface FixtureScenario2019 {
  scenarioDir: string;
  runsCsv: string;
  runs: FixtureRun2019[];
}

/** Writes `<root>/<scenario>/runs.csv` and one `<name>.txt` per 2021 slice (same slices as the 2021 builder). */
export function buildLidds2019Scenario(
  root: string,
  real: RealLiddsRecording,
  scenario = "Bruteforce_CWE-307",
  slices: readonly Slice2021[] = defaultSlices2021(real),
): FixtureScenario2019 {
  const scenarioDir = path.join(root, scenario);
  mkdirSync(scenarioDir, { recursive: true });
  const attack = realAttackNs(real);
  const runs = slices.map((s, k) => {
    const name = `${real.name}_${k}`;
    const lines2021 = real.lines.slice(s.from, s.to);
    const lines = toLidds2019Lines(lines2021, 1 + s.from);
    const first = BigInt(lines2021[0]!.slice(0, lines2021[0]!.indexOf(" ")));
    const exploitStartTime = s.exploit ? Number((attack - first) / 1_000_000_000n) : -1;
    const txtPath = path.join(scenarioDir, `${name}.txt`);
    writeFileSync(txtPath, `${lines.join("\n")}\n`);
    return { name, exploit: s.exploit, lines2021, lines, exploitStartTime, txtPath };
  });
  const header = "image_name, scenario_name, is_executing_exploit, warmup_time, recording_time, exploit_start_time";
  const realJson = JSON.parse(real.json.toString("utf8")) as {
    image: string;
    recording_time: number;
    time: { container_ready: { absolute: number }; warmup_end: { absolute: number } };
  };
  const warmup = Math.round(realJson.time.warmup_end.absolute - realJson.time.container_ready.absolute);
  const rows = runs.map(
    (r) =>
      `${realJson.image}, ${r.name}, ${r.exploit ? "True" : "False"}, ${warmup}, ${realJson.recording_time}, ${r.exploitStartTime}`,
  );
  const runsCsv = `${[header, ...rows].join("\n")}\n`;
  writeFileSync(path.join(scenarioDir, "runs.csv"), runsCsv);
  return { scenarioDir, runsCsv, runs };
}
