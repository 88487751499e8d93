// LID-DS recording metadata. 2021: each recording zip holds `<name>.json`, written by LID-DS's collector:
//   { container: [{ip, name, role}], exploit: bool, exploit_name, image, recording_time: int | "auto-detected",
//     time: { container_ready: {absolute, relative, source}, warmup_end: {...},
//             exploit: [{absolute, name, relative, source}, ...] } }
// Absolute times are epoch seconds. The attack time is time.exploit[0].absolute: LID-DS found the `relative`
// exploit times wrong after conversion (LID-DS issues #222, #234) and the absolute ones up to ~1 s late (#281).
// 2019: one scenario-level `runs.csv`, written by LID-DS 2019's runner with the header
//   image_name, scenario_name, is_executing_exploit, warmup_time, recording_time, exploit_start_time
// one row per recording (scenario_name is the recording name, `<name>.txt`), exploit_start_time in seconds after
// the recording began, -1 without exploit. LID-DS's loader splits 2019 by order: the first 200 normal runs are
// training, the next 50 validation, the remaining normal runs and every exploit run test.

import { z } from "zod";
import { excerptOf, HomeostatError, ParseError } from "../errors.js";

export type LiddsSplit = "training" | "validation" | "test";

/** What homeostat uses from one recording's metadata, in both dataset versions. */
export interface LiddsRecordingMeta {
  dataset: "2021" | "2019";
  /** Recording name (2019: runs.csv's scenario_name); 2021 json files do not name their recording. */
  name?: string;
  exploit: boolean;
  /**
   * When the attack began. 2021: epoch seconds (time.exploit[0].absolute). 2019: seconds after the recording
   * began (exploit_start_time), the clock lidds2019Parser gives its calls.
   */
  attackTime?: number;
  /** 2021: every exploit step's absolute time, in order (multi-step scenarios have several). */
  attackTimes?: number[];
  /** 2021: epoch seconds at the end of warm-up. 2019: warm-up length in seconds (before recording began). */
  warmupEnd?: number;
  /** Recording length in seconds, when a number. */
  recordingTime?: number;
  image?: string;
  exploitName?: string;
  /** 2019 only: the split LID-DS's loader gives this run (set by assignLidds2019Splits). */
  split?: LiddsSplit;
  /** The parsed json object (2021) or the runs.csv row (2019), as read. */
  raw: unknown;
}

const timePoint = z.looseObject({
  absolute: z.number().nullable().optional(),
  relative: z.unknown().optional(),
  source: z.string().optional(),
});

const exploitPoint = z.looseObject({
  absolute: z.number(),
  name: z.string().optional(),
  relative: z.unknown().optional(),
  source: z.string().optional(),
});

/** The 2021 recording json (fields homeostat reads are checked; others kept as they are). */
export const lidds2021RecordingSchema = z.looseObject({
  exploit: z.boolean(),
  exploit_name: z.string().optional(),
  image: z.string().optional(),
  recording_time: z.union([z.number(), z.string()]).optional(),
  container: z
    .array(z.looseObject({ ip: z.string().optional(), name: z.string().optional(), role: z.string().optional() }))
    .optional(),
  time: z
    .looseObject({
      container_ready: timePoint.optional(),
      warmup_end: timePoint.optional(),
      exploit: z.array(exploitPoint).optional(),
    })
    .optional(),
});

export type Lidds2021RecordingJson = z.infer<typeof lidds2021RecordingSchema>;

/** Parses a 2021 recording `.json` (text or bytes). Throws ParseError (E_PARSE) naming `file`. */
export function parseLidds2021RecordingJson(input: string | Uint8Array, file: string): LiddsRecordingMeta {
  const text =
    typeof input === "string" ? input : Buffer.from(input.buffer, input.byteOffset, input.length).toString("utf8");
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    // LID-DS's loader retries with ' -> " (some metadata was written as a Python dict literal); so do we.
    try {
      value = JSON.parse(text.replaceAll("'", '"'));
    } catch {
      throw new ParseError(`not valid JSON: ${(err as Error).message}`, {
        file,
        excerpt: excerptOf(text, 60),
      });
    }
  }
  const parsed = lidds2021RecordingSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue === undefined || issue.path.length === 0 ? "" : ` at ${issue.path.join(".")}`;
    throw new ParseError(`not a LID-DS 2021 recording json${where}: ${issue?.message ?? "invalid"}`, {
      file,
    });
  }
  const json = parsed.data;
  const attackTimes = (json.time?.exploit ?? []).map((e) => e.absolute);
  const meta: LiddsRecordingMeta = { dataset: "2021", exploit: json.exploit, raw: value };
  if (json.exploit && attackTimes.length > 0) {
    meta.attackTime = attackTimes[0];
    meta.attackTimes = attackTimes;
  }
  const warmup = json.time?.warmup_end?.absolute;
  if (typeof warmup === "number") meta.warmupEnd = warmup;
  if (typeof json.recording_time === "number") meta.recordingTime = json.recording_time;
  if (json.image !== undefined) meta.image = json.image;
  if (json.exploit_name !== undefined) meta.exploitName = json.exploit_name;
  return meta;
}

/** One runs.csv row. */
export interface Lidds2019Run {
  image: string;
  /** The recording name: its trace is `<name>.txt` beside runs.csv. */
  name: string;
  exploit: boolean;
  warmupTime: number;
  recordingTime: number;
  /** Seconds after the recording began; undefined without exploit (-1 in the file). */
  exploitStartTime?: number;
  /** 1-based line in runs.csv. */
  line: number;
}

const RUNS_COLUMNS = [
  "image_name",
  "scenario_name",
  "is_executing_exploit",
  "warmup_time",
  "recording_time",
  "exploit_start_time",
] as const;

/** Parses a 2019 `runs.csv` (columns located by header name). Throws ParseError (E_PARSE) naming `file`. */
export function parseLidds2019RunsCsv(input: string | Uint8Array, file: string): Lidds2019Run[] {
  const text =
    typeof input === "string" ? input : Buffer.from(input.buffer, input.byteOffset, input.length).toString("utf8");
  const lines = text.split("\n");
  const headerLine = stripCr(lines[0] ?? "");
  const header = headerLine.split(",").map((h) => h.trim().toLowerCase());
  const col = RUNS_COLUMNS.map((name) => header.indexOf(name));
  const missing = RUNS_COLUMNS.filter((_, k) => col[k]! < 0);
  if (missing.length > 0) {
    throw new ParseError(`not a LID-DS 2019 runs.csv: header lacks ${missing.join(", ")}`, {
      file,
      line: 1,
      column: 1,
      excerpt: excerptOf(headerLine),
    });
  }
  const runs: Lidds2019Run[] = [];
  for (let n = 1; n < lines.length; n++) {
    const raw = stripCr(lines[n]!);
    if (raw.trim().length === 0) continue;
    const cells = raw.split(",").map((c) => c.trim());
    const bad = (k: number, what: string): ParseError =>
      new ParseError(`runs.csv: ${what}`, {
        file,
        line: n + 1,
        column: columnOf(raw, col[k]!),
        excerpt: excerptOf(raw),
      });
    if (cells.length < header.length) throw bad(0, `expected ${header.length} columns, found ${cells.length}`);
    const cell = (k: number): string => cells[col[k]!]!;
    const exploit = parseBool(cell(2));
    if (exploit === undefined) throw bad(2, `is_executing_exploit is not a boolean: ${JSON.stringify(cell(2))}`);
    const warmupTime = parseNumber(cell(3));
    if (warmupTime === undefined) throw bad(3, `warmup_time is not a number: ${JSON.stringify(cell(3))}`);
    const recordingTime = parseNumber(cell(4));
    if (recordingTime === undefined) throw bad(4, `recording_time is not a number: ${JSON.stringify(cell(4))}`);
    const exploitStart = parseNumber(cell(5));
    if (exploitStart === undefined) throw bad(5, `exploit_start_time is not a number: ${JSON.stringify(cell(5))}`);
    if (cell(1).length === 0) throw bad(1, "scenario_name is empty");
    const run: Lidds2019Run = {
      image: cell(0),
      name: cell(1),
      exploit,
      warmupTime,
      recordingTime,
      line: n + 1,
    };
    if (exploit && exploitStart >= 0) run.exploitStartTime = exploitStart;
    runs.push(run);
  }
  return runs;
}

/** LID-DS's 2019 split sizes (its DataLoader2019). */
export const LIDDS_2019_TRAINING_SIZE = 200;
export const LIDDS_2019_VALIDATION_SIZE = 50;

/** Metadata of each run, in file order, with the split LID-DS's 2019 loader gives it. */
export function assignLidds2019Splits(runs: readonly Lidds2019Run[]): LiddsRecordingMeta[] {
  let normals = 0;
  return runs.map((run) => {
    let split: LiddsSplit = "test";
    if (!run.exploit) {
      if (normals < LIDDS_2019_TRAINING_SIZE) split = "training";
      else if (normals < LIDDS_2019_TRAINING_SIZE + LIDDS_2019_VALIDATION_SIZE) split = "validation";
      normals++;
    }
    return { ...lidds2019RunMeta(run), split };
  });
}

/** One run's metadata (without split). */
export function lidds2019RunMeta(run: Lidds2019Run): LiddsRecordingMeta {
  const meta: LiddsRecordingMeta = {
    dataset: "2019",
    name: run.name,
    exploit: run.exploit,
    warmupEnd: run.warmupTime,
    recordingTime: run.recordingTime,
    image: run.image,
    raw: run,
  };
  if (run.exploitStartTime !== undefined) meta.attackTime = run.exploitStartTime;
  return meta;
}

/** Python's strtobool, which LID-DS's loader uses on is_executing_exploit. */
function parseBool(s: string): boolean | undefined {
  switch (s.toLowerCase()) {
    case "y":
    case "yes":
    case "t":
    case "true":
    case "on":
    case "1":
      return true;
    case "n":
    case "no":
    case "f":
    case "false":
    case "off":
    case "0":
      return false;
    default:
      return undefined;
  }
}

function parseNumber(s: string): number | undefined {
  if (!/^-?\d+(?:\.\d+)?$/.test(s)) return undefined;
  return Number(s);
}

/** 1-based column where cell `index` of a comma-separated line starts (after its leading spaces). */
function columnOf(raw: string, index: number): number {
  let pos = 0;
  for (let j = 0; j < index; j++) {
    const comma = raw.indexOf(",", pos);
    if (comma < 0) return raw.length + 1;
    pos = comma + 1;
  }
  while (raw[pos] === " ") pos++;
  return pos + 1;
}

function stripCr(s: string): string {
  return s.endsWith("\r") ? s.slice(0, -1) : s;
}

/** Guards the size of a metadata file before it is read whole. */
export function checkMetadataSize(bytes: number, max: number, file: string): void {
  if (bytes > max) {
    throw new HomeostatError("E_LIMIT", `metadata file larger than ${max} bytes`, { file });
  }
}

/** The name the input layer uses: a recording sidecar `.json` is a 2021 recording json. */
export const parseLiddsRecordingJson = parseLidds2021RecordingJson;

/**
 * The 2019 metadata of one recording, from its scenario's runs.csv text (with the LID-DS loader's split), or
 * undefined when runs.csv has no row for it. Throws ParseError (E_PARSE) on a malformed runs.csv.
 */
export function lidds2019MetaFromRunsCsv(
  runsCsv: string | Uint8Array,
  file: string,
  recording: string,
): LiddsRecordingMeta | undefined {
  return assignLidds2019Splits(parseLidds2019RunsCsv(runsCsv, file)).find((m) => m.name === recording);
}
