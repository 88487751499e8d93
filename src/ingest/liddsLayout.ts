// Labels from the LID-DS directory layouts (github.com/LID-DS/LID-DS, dataloader/): I/O-free, synchronous.
// 2021: <scenario>/training/<rec>.zip, <scenario>/validation/<rec>.zip, <scenario>/test/normal/<rec>.zip,
//       <scenario>/test/normal_and_attack/<rec>.zip; each zip holds <rec>.sc, <rec>.json, <rec>.pcap, <rec>.res.
// 2019: <scenario>/runs.csv and <scenario>/<rec>.txt; the split comes from runs.csv order (liddsMetadata.ts).
// Other formats in the 2021 folders (homeostat's scenarios: <program>/training/<rec>.strace + <rec>.json, the json in
// the 2021 shape) are labelled the same way.
// Labels follow LID-DS: a recording is "attack" when its json says exploit (2021) / runs.csv says
// is_executing_exploit (2019), otherwise "normal"; without metadata, the 2021 folder decides (normal_and_attack
// = attack). Within an attack recording, calls before attackTime are still normal behaviour: that per-call
// distinction is the evaluator's, from SourceInfo.attackTime.

import { HomeostatError } from "../errors.js";
import type { Label, SourceInfo } from "./event.js";
import type { LiddsRecordingMeta, LiddsSplit } from "./liddsMetadata.js";

const SPLITS: readonly string[] = ["training", "validation", "test"];
const RECORDING_EXTENSIONS = [".zip", ".sc", ".json", ".pcap", ".res", ".txt"];

/**
 * Splits a display path (`dir/file`, or `archive.zip:member/path` for an archive member) into components, the
 * member's components after the archive's.
 */
export function liddsPathParts(displayPath: string): string[] {
  const m = /\.(?:zip|tar|tgz|tar\.gz):/i.exec(displayPath);
  const outer = m === null ? displayPath : displayPath.slice(0, m.index + m[0].length - 1);
  const inner = m === null ? "" : displayPath.slice(m.index + m[0].length);
  const parts = outer.split(/[\\/]/);
  if (inner.length > 0) parts.push(...inner.split("/"));
  return parts.filter((p) => p.length > 0 && p !== ".");
}

/** The recording's name: the zip's base name, else the file's without its LID-DS extension. */
export function liddsRecordingName(pathParts: readonly string[]): string | undefined {
  for (let k = pathParts.length - 1; k >= 0; k--) {
    const p = pathParts[k]!;
    if (p.toLowerCase().endsWith(".zip")) return p.slice(0, -4);
  }
  const last = pathParts[pathParts.length - 1];
  if (last === undefined) return undefined;
  for (const ext of RECORDING_EXTENSIONS) if (last.endsWith(ext)) return last.slice(0, -ext.length);
  // Another format's file in a LID-DS-style tree (`<rec>.strace` beside `<rec>.json`): the name without its extension.
  const dot = last.lastIndexOf(".");
  return dot > 0 ? last.slice(0, dot) : last;
}

/**
 * Whether a path (see liddsPathParts) lies in a LID-DS-style tree: a training, validation or test folder above the
 * file. Any format's recordings laid out so, with a `<stem>.json` beside each, get LID-DS labels (reader.ts).
 */
export function inLiddsTree(pathParts: readonly string[]): boolean {
  for (let k = pathParts.length - 2; k >= 0; k--) if (SPLITS.includes(pathParts[k]!)) return true;
  return false;
}

/**
 * SourceInfo labels of a recording from its path (see liddsPathParts) and, when read, its metadata. Returns only
 * what it can tell: split, label, attackType (the scenario folder, for attack recordings), attackInstance (the
 * recording name), attackTime (attack recordings with a known exploit time), and meta (scenario, image, ...).
 */
export function liddsSourceInfo(pathParts: readonly string[], meta?: LiddsRecordingMeta): Partial<SourceInfo> {
  const parts = pathParts.filter((p) => p.length > 0);
  const recording = meta?.name ?? liddsRecordingName(parts);
  // The split folder: the last training/validation/test component before the recording's own files.
  const firstFile = parts.findIndex((p) => /\.(?:zip|sc|json|pcap|res|txt)$/i.test(p));
  const dirs = firstFile < 0 ? parts.length : firstFile;
  let splitAt = -1;
  for (let k = dirs - 1; k >= 0; k--) {
    if (SPLITS.includes(parts[k]!)) {
      splitAt = k;
      break;
    }
  }
  let split: LiddsSplit | undefined;
  let folderLabel: Label | undefined;
  let scenario: string | undefined;
  if (splitAt >= 0) {
    split = parts[splitAt] as LiddsSplit;
    if (split === "test") {
      const sub = parts[splitAt + 1];
      if (sub === "normal") folderLabel = "normal";
      else if (sub === "normal_and_attack") folderLabel = "attack";
    } else {
      folderLabel = "normal";
    }
    scenario = splitAt > 0 ? parts[splitAt - 1] : undefined;
  } else {
    split = meta?.split;
    // 2019: <scenario>/<rec>.txt
    if (dirs >= 1 && dirs === parts.length - 1) scenario = parts[dirs - 1];
  }
  const label: Label | undefined = meta !== undefined ? (meta.exploit ? "attack" : "normal") : folderLabel;

  const info: Partial<SourceInfo> = {};
  if (split !== undefined) info.split = split;
  if (label !== undefined) info.label = label;
  if (label === "attack" && scenario !== undefined) info.attackType = scenario;
  if (recording !== undefined) info.attackInstance = recording;
  if (label === "attack" && meta?.attackTime !== undefined) info.attackTime = meta.attackTime;
  const extra: Record<string, unknown> = {};
  const is2019 = meta !== undefined ? meta.dataset === "2019" : (parts[parts.length - 1] ?? "").endsWith(".txt");
  extra.dataset = is2019 ? "LID-DS 2019" : "LID-DS 2021";
  if (scenario !== undefined) extra.scenario = scenario;
  if (folderLabel !== undefined && label !== undefined && folderLabel !== label) extra.folderLabel = folderLabel;
  if (meta !== undefined) {
    if (meta.image !== undefined) extra.image = meta.image;
    if (meta.exploitName !== undefined) extra.exploitName = meta.exploitName;
    if (meta.warmupEnd !== undefined) extra.warmupEnd = meta.warmupEnd;
    if (meta.recordingTime !== undefined) extra.recordingTime = meta.recordingTime;
    if (meta.attackTimes !== undefined && meta.attackTimes.length > 1) extra.attackTimes = meta.attackTimes;
  }
  info.meta = extra;
  return info;
}

/** The entries of one recording zip that homeostat reads. */
export interface LiddsRecordingEntries {
  sc?: string;
  json?: string;
}

/**
 * Picks the `.sc` and `.json` among a recording zip's entry names: `<recording>.sc` / `.json` when the zip's
 * name is given and they exist, else the only ones there are. Several candidates and no name to choose by is an
 * E_FORMAT error naming `zipPath`.
 */
export function pickLiddsRecordingEntries(
  names: readonly string[],
  zipPath: string,
  recording?: string,
): LiddsRecordingEntries {
  const files = names.filter((n) => !n.endsWith("/") && !n.startsWith("__MACOSX/"));
  const pick = (ext: string, stem: string | undefined): string | undefined => {
    const all = files.filter((n) => n.toLowerCase().endsWith(ext));
    if (stem !== undefined) {
      const named = all.filter((n) => baseName(n) === stem + ext);
      if (named.length === 1) return named[0];
    }
    if (all.length <= 1) return all[0];
    throw new HomeostatError("E_FORMAT", `zip holds ${all.length} ${ext} files and none is named after it`, {
      file: zipPath,
    });
  };
  const sc = pick(".sc", recording);
  const scStem = sc === undefined ? recording : baseName(sc).slice(0, -3);
  const json = pick(".json", scStem);
  const out: LiddsRecordingEntries = {};
  if (sc !== undefined) out.sc = sc;
  if (json !== undefined) out.json = json;
  return out;
}

function baseName(p: string): string {
  const slash = p.lastIndexOf("/");
  return slash < 0 ? p : p.slice(slash + 1);
}
