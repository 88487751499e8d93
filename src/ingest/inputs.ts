// Input enumeration: turns the paths a user gives (files, folders, .gz, .tar, .tar.gz/.tgz, .zip, and archives
// nested in those) into a flat sequence of entries, each a byte stream, without unpacking anything to disk.
//
// Safety limits (inputLimits.ts) keep memory and time bounded on hostile input: a cap on each entry's decompressed
// size, on the decompression ratio (zip bombs), on the number of entries, on nested archives held in memory, and on
// all bytes read. Devices, FIFOs and sockets are refused before they are opened, named or met in a folder, directly
// or through a symbolic link. Symbolic links to folders are followed, except one leading back to a folder on the
// current path (a loop), which is skipped with a note.
//
// Dataset conventions handled here because they are about files, not formats:
// - documentation and checksum files (README, SHA256SUMS, index.tsv, ...) in a folder are not traces;
// - an archive lying beside its own extracted content (ADFA-LD ships ADFA-LD.tar.gz next to the three folders) is
//   read once: the archive is skipped when its first member's top folder exists beside it;
// - a small `<stem>.json` next to `<stem>.<ext>` (LID-DS recordings) is attached to the entry as sidecar metadata.

import { type Dirent, readdirSync, readFileSync, type Stats, statSync } from "node:fs";
import { basename, join, relative, sep } from "node:path";
import { type InputContext, type InputEntry, type InputOptions, SIDECAR_MAX } from "./inputEntry.js";
import {
  DEFAULT_LIMITS,
  InputBudget,
  type InputLimits,
  ioError,
  specialFileError,
  specialKind,
} from "./inputLimits.js";
import { type ArchiveKind, archiveKind, isArchiveName, isNonTraceName, stemOf } from "./inputNames.js";
import { readRegularFile, readWholeRegularFile, regularFileStream, type WholeFile } from "./regularFile.js";

export type { InputEntry, InputOptions, SkippedInput } from "./inputEntry.js";
export { DEFAULT_LIMITS, DEFAULT_MAX_INPUT_BYTES, type InputLimits } from "./inputLimits.js";
export { archiveKind, isNonTraceName } from "./inputNames.js";

/** Enumerates the entries of the given paths, in a stable order (folders sorted by name). */
export async function* listInputs(paths: readonly string[], options: InputOptions = {}): AsyncGenerator<InputEntry> {
  const limits: InputLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const ctx: InputContext = { limits, budget: new InputBudget(limits), options };
  for (const p of paths) {
    const st = statPath(p);
    if (st.isDirectory()) yield* walkDir(p, [], ctx, new Set([folderKey(st)]));
    else if (st.isFile()) yield* fileEntries(p, [basename(p)], true, st.size, ctx);
    else throw specialFileError(p, specialKind(st));
  }
}

/** Stats a path, following symbolic links. */
function statPath(path: string): Stats {
  try {
    return statSync(path);
  } catch (err) {
    throw ioError(path, err, "cannot read input");
  }
}

/** A folder's identity, the same through every path and link that leads to it. */
function folderKey(st: Stats): string {
  return `${st.dev}:${st.ino}`;
}

function readFolder(dir: string): Dirent[] {
  let dirents: Dirent[];
  try {
    dirents = readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    throw ioError(dir, err, "cannot read folder");
  }
  return dirents.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** What a folder walk does with one name: walk it, read it, skip it, or refuse it. */
type Found =
  | { kind: "folder"; st: Stats }
  | { kind: "file"; size?: number }
  | { kind: "special"; what: string }
  | { kind: "dangling" };

/** A regular file of unknown size: one shared answer rather than one object per trace in a folder of thousands. */
const FILE: Found = Object.freeze({ kind: "file" });

/**
 * Classifies a folder entry, following a symbolic link. A regular file needs no stat (its size matters only to the
 * decompression-ratio check of an archive): with thousands of small traces in a folder, stat calls cost as much as
 * the reading.
 */
function classify(d: Dirent, full: string, kind: ArchiveKind | undefined): Found {
  if (d.isFile()) return kind === undefined ? FILE : { kind: "file", size: sizeOf(full) };
  if (d.isDirectory()) return { kind: "folder", st: statPath(full) };
  if (!d.isSymbolicLink()) return { kind: "special", what: specialKind(d) };
  let st: Stats;
  try {
    st = statSync(full);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT" || (err as NodeJS.ErrnoException).code === "ELOOP") {
      return { kind: "dangling" };
    }
    throw ioError(full, err, "cannot read input");
  }
  if (st.isDirectory()) return { kind: "folder", st };
  if (st.isFile()) return { kind: "file", size: st.size };
  return { kind: "special", what: specialKind(st) };
}

function sizeOf(path: string): number {
  return statPath(path).size;
}

/** `ancestors`: the folders on the path from the root to `dir`, `dir` included, by folderKey. */
async function* walkDir(
  dir: string,
  parts: string[],
  ctx: InputContext,
  ancestors: Set<string>,
): AsyncGenerator<InputEntry> {
  const { options } = ctx;
  const dirents = readFolder(dir);
  const names = new Set(dirents.map((d) => d.name));
  const runsCsv = names.has("runs.csv") ? readSmallText(join(dir, "runs.csv"), 64 * SIDECAR_MAX) : undefined;
  const anyJson = dirents.some((d) => d.name.endsWith(".json"));
  const prefix = childPrefix(dir);
  for (const d of dirents) {
    const full = prefix + d.name;
    const kind = archiveKind(d.name);
    const found = classify(d, full, kind);
    if (found.kind === "folder") {
      const key = folderKey(found.st);
      if (ancestors.has(key)) {
        options.onSkip?.({ path: full, reason: "a link back to a folder it is in: not followed (a loop)" });
        continue;
      }
      ancestors.add(key);
      yield* walkDir(full, [...parts, d.name], ctx, ancestors);
      ancestors.delete(key);
      continue;
    }
    if (isNonTraceName(d.name)) {
      if (!d.name.startsWith(".")) options.onSkip?.({ path: full, reason: "documentation or metadata, not a trace" });
      continue;
    }
    if (found.kind === "dangling") {
      options.onSkip?.({ path: full, reason: "a symbolic link to nothing (or to itself)" });
      continue;
    }
    if (found.kind === "special") throw specialFileError(full, found.what);
    if (kind !== undefined && kind !== "gz") {
      const top = await (await archives()).firstTopLevelName(full, kind).catch(() => undefined);
      if (top !== undefined && top !== d.name && names.has(top)) {
        options.onSkip?.({ path: full, reason: `its content is already extracted beside it (${top}${sep})` });
        continue;
      }
    }
    if (kind !== undefined) {
      yield* fileEntries(full, [...parts, d.name], false, found.size, ctx);
      continue;
    }
    // A plain file is one entry, made here rather than through a generator of its own (thousands per folder).
    const e = plainFileEntry(full, false, [...parts, d.name], false, found.size, ctx);
    const sidecar = anyJson ? readSidecarFile(dir, d.name, names) : undefined;
    if (sidecar !== undefined) e.sidecar = sidecar;
    if (runsCsv !== undefined) e.runsCsv = runsCsv;
    yield e;
  }
}

function readSidecarFile(dir: string, name: string, names: Set<string>): InputEntry["sidecar"] {
  const json = `${stemOf(name)}.json`;
  if (json === name || !names.has(json)) return undefined;
  return readSmallText(join(dir, json), SIDECAR_MAX);
}

function readSmallText(path: string, max: number): { path: string; text: string } | undefined {
  try {
    const st = statSync(path);
    if (!st.isFile() || st.size > max) return undefined;
    return { path, text: readFileSync(path, "utf8") };
  } catch {
    return undefined;
  }
}

/** The entries of a regular file: itself, its gunzipped content, or an archive's members. */
async function* fileEntries(
  file: string,
  parts: string[],
  explicit: boolean,
  size: number | undefined,
  ctx: InputContext,
): AsyncGenerator<InputEntry> {
  if (isArchiveName(file)) {
    yield* (await archives()).archiveFileEntries(file, size, parts, ctx);
    return;
  }
  yield plainFileEntry(file, archiveKind(file) === "gz", parts, explicit, size, ctx);
}

/** The entry of a file that is not an archive of entries: itself, or its gunzipped content. */
function plainFileEntry(
  file: string,
  gzipped: boolean,
  parts: string[],
  explicit: boolean,
  size: number | undefined,
  ctx: InputContext,
): InputEntry {
  ctx.budget.countEntry(file);
  if (gzipped) {
    return {
      path: file,
      parts: [...parts.slice(0, -1), basename(file.slice(0, -3))],
      explicit,
      open: () => ctx.budget.counted(gunzipped(file, size, ctx.limits), file),
    };
  }
  const entry = new RegularFileEntry(file, parts, explicit, ctx.budget);
  if (size !== undefined) entry.size = size;
  return entry;
}

/** The archive readers, loaded when the first archive or compressed file is met: most inputs are plain files. */
async function archives(): Promise<typeof import("./inputArchives.js")> {
  return import("./inputArchives.js");
}

/** A gzip-compressed file's content, bounded like any archive member's. */
async function* gunzipped(file: string, size: number | undefined, limits: InputLimits): AsyncGenerator<Uint8Array> {
  const { gunzipBounded } = await archives();
  yield* gunzipBounded(regularFileStream(file), file, size, limits);
}

/** A regular file's entry: methods rather than closures per entry, for folders of thousands of traces. */
class RegularFileEntry implements InputEntry {
  size?: number;
  sidecar?: InputEntry["sidecar"];
  runsCsv?: InputEntry["runsCsv"];

  constructor(
    public path: string,
    public parts: string[],
    public explicit: boolean,
    private readonly budget: InputBudget,
  ) {}

  open(): AsyncIterable<Uint8Array> {
    return readRegularFile(this.path, this.budget);
  }

  readWhole(): WholeFile | undefined {
    return readWholeRegularFile(this.path, this.budget);
  }
}

/**
 * What the paths of a folder's entries start with: `join(dir, name)` is this prefix and the name for every name
 * a folder holds (a single segment, never "." or ".."), so the normalisation is done once per folder, not per file.
 */
function childPrefix(dir: string): string {
  return join(dir, "x").slice(0, -1);
}

/** A path relative to a root, with forward slashes, for display. */
export function displayRelative(root: string, path: string): string {
  return relative(root, path).split(sep).join("/");
}
