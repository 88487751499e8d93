// Input enumeration: turns the paths a user gives (files, folders, .gz, .tar, .tar.gz/.tgz, .zip, and archives
// nested in those) into a flat sequence of entries, each a byte stream, without unpacking anything to disk.
//
// Safety limits keep memory and time bounded on hostile input: a cap on each entry's decompressed size, on the
// decompression ratio (zip bombs), on the number of entries, and on nested archives held in memory. Truncated or
// corrupt archives raise E_ARCHIVE naming the archive and the member.
//
// Dataset conventions handled here because they are about files, not formats:
// - documentation and checksum files (README, SHA256SUMS, index.tsv, ...) in a folder are not traces;
// - an archive lying beside its own extracted content (ADFA-LD ships ADFA-LD.tar.gz next to the three folders) is
//   read once: the archive is skipped when its first member's top folder exists beside it;
// - a small `<stem>.json` next to `<stem>.<ext>` (LID-DS recordings) is attached to the entry as sidecar metadata.

import {
  closeSync,
  createReadStream,
  type Dirent,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  statSync,
} from "node:fs";
import { basename, dirname, join, relative, sep } from "node:path";
import { Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import type tarStream from "tar-stream";
import type yauzl from "yauzl";
import { HomeostatError } from "../errors.js";

export interface InputLimits {
  /** Largest decompressed size of one entry (default 8 GiB). */
  maxEntryBytes: number;
  /** Largest decompressed/compressed ratio once past `ratioCheckBytes` (default 1000: zip-bomb defence). */
  maxRatio: number;
  /** Decompressed bytes after which the ratio is enforced (default 64 MiB). */
  ratioCheckBytes: number;
  /** Most entries read from all inputs (default 10 million). */
  maxEntries: number;
  /** Largest nested archive (a zip inside a tar, say) buffered in memory (default 512 MiB). */
  maxNestedBytes: number;
}

export const DEFAULT_LIMITS: InputLimits = {
  maxEntryBytes: 8 * 1024 ** 3,
  maxRatio: 1000,
  ratioCheckBytes: 64 * 1024 ** 2,
  maxEntries: 10_000_000,
  maxNestedBytes: 512 * 1024 ** 2,
};

export interface InputEntry {
  /** Display path: `file`, or `archive.zip:member/path` (nested: `a.tar:b.zip:c.sc`). */
  path: string;
  /** Path components from the root the user named (folders, archive members), for dataset layout rules. */
  parts: string[];
  /** Size in bytes when known beforehand. */
  size?: number;
  /** Sidecar JSON text (`<stem>.json` beside the entry), when there is one. */
  sidecar?: { path: string; text: string };
  /** A `runs.csv` in the entry's folder (LID-DS 2019 scenarios label their recordings there). */
  runsCsv?: { path: string; text: string };
  /** Whether the user named this file directly (then it is read whatever its name). */
  explicit: boolean;
  /** The entry's bytes. Must be consumed (or abandoned) before the next entry is requested. */
  open(): AsyncIterable<Uint8Array>;
}

export interface SkippedInput {
  path: string;
  reason: string;
}

export interface InputOptions {
  limits?: Partial<InputLimits>;
  /** Called for each path deliberately not read, with the reason. */
  onSkip?: (skipped: SkippedInput) => void;
}

const DOC_NAMES = new Set([
  "readme",
  "readme.md",
  "readme.txt",
  "license",
  "licence",
  "license.txt",
  "copying",
  "sha256sums",
  "sha1sums",
  "md5sums",
  "index.tsv",
  "runs.csv",
]);
const NON_TRACE_EXT = /\.(md|json|pcap|pcapng|res|csv|tsv|sha256|md5|sig|asc|pdf|html|png|jpg)$/i;
const SIDECAR_MAX = 1024 * 1024;

type ArchiveKind = "zip" | "tar" | "tgz" | "gz";

export function archiveKind(name: string): ArchiveKind | undefined {
  const n = name.toLowerCase();
  if (n.endsWith(".zip")) return "zip";
  if (n.endsWith(".tar.gz") || n.endsWith(".tgz")) return "tgz";
  if (n.endsWith(".tar")) return "tar";
  if (n.endsWith(".gz")) return "gz";
  return undefined;
}

/** Whether a file found in a folder walk is documentation or metadata rather than a trace. */
export function isNonTraceName(name: string): boolean {
  const b = name.toLowerCase();
  return b.startsWith(".") || DOC_NAMES.has(b) || NON_TRACE_EXT.test(b);
}

/** Enumerates the entries of the given paths, in a stable order (folders sorted by name). */
export async function* listInputs(paths: readonly string[], options: InputOptions = {}): AsyncGenerator<InputEntry> {
  const limits: InputLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const state = { entries: 0 };
  for (const p of paths) {
    let st: ReturnType<typeof statSync>;
    try {
      st = statSync(p);
    } catch (err) {
      throw ioError(p, err, "cannot read input");
    }
    if (st.isDirectory()) {
      yield* walkDir(p, [], limits, state, options);
    } else {
      const file = { regular: st.isFile(), size: st.size };
      yield* fileEntries(p, [basename(p)], true, file, limits, state, options);
    }
  }
}

async function* walkDir(
  dir: string,
  parts: string[],
  limits: InputLimits,
  state: { entries: number },
  options: InputOptions,
): AsyncGenerator<InputEntry> {
  let dirents: Dirent[];
  try {
    dirents = readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    throw ioError(dir, err, "cannot read folder");
  }
  dirents.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const names = new Set(dirents.map((d) => d.name));
  const runsCsv = names.has("runs.csv") ? readSmallText(join(dir, "runs.csv"), 64 * SIDECAR_MAX) : undefined;
  for (const d of dirents) {
    const full = join(dir, d.name);
    if (d.isDirectory()) {
      yield* walkDir(full, [...parts, d.name], limits, state, options);
      continue;
    }
    if (!d.isFile() && !d.isSymbolicLink()) continue;
    if (isNonTraceName(d.name)) {
      if (!d.name.startsWith(".")) options.onSkip?.({ path: full, reason: "documentation or metadata, not a trace" });
      continue;
    }
    const kind = archiveKind(d.name);
    if (kind !== undefined && kind !== "gz") {
      const top = await firstTopLevelName(full, kind).catch(() => undefined);
      if (top !== undefined && top !== d.name && names.has(top)) {
        options.onSkip?.({ path: full, reason: `its content is already extracted beside it (${top}${sep})` });
        continue;
      }
    }
    // A regular file needs no stat (its size matters only to the decompression-ratio check of an archive): with
    // thousands of small traces in a folder, stat calls cost as much as the reading.
    const file = d.isFile() && kind === undefined ? { regular: true } : fileKind(full);
    const sidecar = readSidecarFile(dir, d.name, names);
    for await (const e of fileEntries(full, [...parts, d.name], false, file, limits, state, options)) {
      if (sidecar !== undefined && e.sidecar === undefined && kind === undefined) e.sidecar = sidecar;
      if (runsCsv !== undefined && kind === undefined) e.runsCsv = runsCsv;
      yield e;
    }
  }
}

function stemOf(name: string): string {
  const i = name.lastIndexOf(".");
  return i > 0 ? name.slice(0, i) : name;
}

function readSidecarFile(dir: string, name: string, names: Set<string>): InputEntry["sidecar"] {
  const json = `${stemOf(name)}.json`;
  if (json === name || !names.has(json)) return undefined;
  return readSmallText(join(dir, json), SIDECAR_MAX);
}

function readSmallText(path: string, max: number): { path: string; text: string } | undefined {
  try {
    if (statSync(path).size > max) return undefined;
    return { path, text: readFileSync(path, "utf8") };
  } catch {
    return undefined;
  }
}

/** What is known of a file before it is read: whether it is a regular file, and its size when it was stat'ed. */
interface FileKind {
  regular: boolean;
  size?: number;
}

/** Stats a path (following a symbolic link). */
function fileKind(path: string): FileKind {
  try {
    const st = statSync(path);
    return { regular: st.isFile(), size: st.size };
  } catch (err) {
    throw ioError(path, err, "cannot read input");
  }
}

async function* fileEntries(
  file: string,
  parts: string[],
  explicit: boolean,
  kindOfFile: FileKind,
  limits: InputLimits,
  state: { entries: number },
  options: InputOptions,
): AsyncGenerator<InputEntry> {
  const kind = archiveKind(file);
  const size = kindOfFile.size;
  if (kind === "zip") {
    yield* zipEntries(await openZipFile(file), file, parts, limits, state, options);
    return;
  }
  if (kind === "tar" || kind === "tgz") {
    yield* tarEntries(() => createReadStream(file), kind === "tgz", file, size, parts, limits, state, options);
    return;
  }
  countEntry(state, limits, file);
  if (kind === "gz") {
    const inner = file.slice(0, -3);
    yield {
      path: file,
      parts: [...parts.slice(0, -1), basename(inner)],
      explicit,
      open: () => gunzipBounded(createReadStream(file), file, size, limits),
    };
    return;
  }
  const entry: InputEntry = {
    path: file,
    parts,
    explicit,
    open: () => (kindOfFile.regular ? readRegularFile(file) : streamChunks(createReadStream(file, STREAM), file)),
  };
  if (size !== undefined) entry.size = size;
  yield entry;
}

/** Bytes a regular file is read in at once before the rest is streamed. */
const WHOLE_READ_BYTES = 1024 * 1024;
const STREAM = { highWaterMark: WHOLE_READ_BYTES };
let scratch: Buffer | undefined;

/**
 * A regular file's bytes: read whole, synchronously, through one reused buffer when it is small (ADFA-LD is
 * thousands of tiny files, where stream set-up would cost more than the reading), streamed past WHOLE_READ_BYTES.
 */
async function* readRegularFile(file: string): AsyncGenerator<Uint8Array> {
  let fd: number;
  try {
    fd = openSync(file, "r");
  } catch (err) {
    throw ioError(file, err, "cannot read input");
  }
  let streaming = false;
  try {
    const buf = (scratch ??= Buffer.allocUnsafe(WHOLE_READ_BYTES));
    let n = 0;
    for (;;) {
      const r = readSync(fd, buf, n, buf.length - n, null);
      if (r === 0 || (n += r) === buf.length) break;
    }
    // A copy: the scratch buffer is reused by the next file while the parser may still hold this chunk.
    yield Buffer.from(buf.subarray(0, n));
    if (n < buf.length) return;
    const rest = createReadStream("", { ...STREAM, fd, start: n, autoClose: true });
    streaming = true;
    yield* streamChunks(rest, file);
  } catch (err) {
    throw err instanceof HomeostatError ? err : ioError(file, err, "cannot read input");
  } finally {
    if (!streaming) closeSync(fd);
  }
}

async function* streamChunks(stream: Readable, file: string): AsyncGenerator<Uint8Array> {
  try {
    for await (const chunk of stream) yield chunk as Buffer;
  } catch (err) {
    throw ioError(file, err, "cannot read input");
  }
}

function countEntry(state: { entries: number }, limits: InputLimits, path: string): void {
  state.entries++;
  if (state.entries > limits.maxEntries) {
    throw new HomeostatError("E_LIMIT", `more than ${limits.maxEntries} input entries`, { file: path });
  }
}

/** Passes chunks through, failing once more than `max` bytes or a bomb-like ratio has come out. */
async function* bounded(
  source: AsyncIterable<Uint8Array>,
  path: string,
  compressedSize: number | undefined,
  limits: InputLimits,
  wrap: (err: unknown) => HomeostatError,
): AsyncGenerator<Uint8Array> {
  let total = 0;
  try {
    for await (const chunk of source) {
      total += chunk.length;
      if (total > limits.maxEntryBytes) {
        throw new HomeostatError("E_LIMIT", `decompresses to more than ${limits.maxEntryBytes} bytes`, { file: path });
      }
      if (compressedSize !== undefined && total > limits.ratioCheckBytes && total > compressedSize * limits.maxRatio) {
        throw new HomeostatError(
          "E_LIMIT",
          `decompresses more than ${limits.maxRatio} times its compressed size: refusing a likely decompression bomb`,
          { file: path },
        );
      }
      yield chunk;
    }
  } catch (err) {
    if (err instanceof HomeostatError) throw err;
    throw wrap(err);
  }
}

function gunzipBounded(
  raw: Readable,
  path: string,
  compressedSize: number | undefined,
  limits: InputLimits,
): AsyncIterable<Uint8Array> {
  const gunzip = createGunzip();
  raw.on("error", (err) => gunzip.destroy(err));
  raw.pipe(gunzip);
  return bounded(gunzip, path, compressedSize, limits, (err) => archiveError(path, err, "corrupt or truncated gzip"));
}

async function* tarEntries(
  openRaw: () => Readable,
  gzipped: boolean,
  archivePath: string,
  compressedSize: number | undefined,
  parts: string[],
  limits: InputLimits,
  state: { entries: number },
  options: InputOptions,
): AsyncGenerator<InputEntry> {
  const extract = (await tarLibrary()).extract();
  const raw = openRaw();
  let source: Readable;
  if (gzipped) {
    source = Readable.from(gunzipBounded(raw, archivePath, compressedSize, limits));
  } else {
    source = raw;
  }
  source.on("error", (err) => extract.destroy(err));
  source.pipe(extract);
  const sidecars = new Map<string, { path: string; text: string }>();
  try {
    for await (const tarMember of extract) {
      const member = tarMember as unknown as Readable & { header: tarStream.Header };
      const name = member.header.name.replace(/^\.\//, "");
      const memberParts = name.split("/").filter((s) => s.length > 0);
      const base = memberParts[memberParts.length - 1] ?? "";
      const display = `${archivePath}:${name}`;
      if (member.header.type !== "file" || memberParts.length === 0) {
        member.resume();
        continue;
      }
      if (base.toLowerCase().endsWith(".json") && (member.header.size ?? 0) <= SIDECAR_MAX) {
        const text = await collectText(member, display);
        sidecars.set(join(dirname(name), stemOf(base)), { path: display, text });
        continue;
      }
      if (isNonTraceName(base)) {
        options.onSkip?.({ path: display, reason: "documentation or metadata, not a trace" });
        member.resume();
        continue;
      }
      const kind = archiveKind(base);
      if (kind === "zip" || kind === "tar" || kind === "tgz") {
        const buf = await collectBytes(member, display, limits.maxNestedBytes);
        yield* nestedEntries(buf, kind, display, [...parts, ...memberParts], limits, state, options);
        continue;
      }
      countEntry(state, limits, display);
      const sidecar = sidecars.get(join(dirname(name), stemOf(base)));
      let consumed = false;
      const entry: InputEntry = {
        path: display,
        parts: [...parts, ...memberParts],
        size: member.header.size,
        explicit: false,
        open: () => {
          consumed = true;
          if (kind === "gz") return gunzipBounded(member, display, member.header.size, limits);
          return bounded(member, display, undefined, limits, (err) => archiveError(display, err, "corrupt tar member"));
        },
      };
      if (sidecar !== undefined) entry.sidecar = sidecar;
      yield entry;
      if (!consumed) member.resume();
      // tar-stream needs the member drained before it parses the next header.
      await drained(member);
    }
  } catch (err) {
    if (err instanceof HomeostatError) throw err;
    throw archiveError(archivePath, err, gzipped ? "corrupt or truncated .tar.gz" : "corrupt or truncated .tar");
  } finally {
    raw.destroy();
  }
}

/** The entries of an archive held in memory (an archive inside another one). */
async function* nestedEntries(
  buf: Buffer,
  kind: "zip" | "tar" | "tgz",
  display: string,
  parts: string[],
  limits: InputLimits,
  state: { entries: number },
  options: InputOptions,
): AsyncGenerator<InputEntry> {
  if (kind === "zip") {
    yield* zipEntries(await openZipBuffer(buf, display), display, parts, limits, state, options);
  } else {
    yield* tarEntries(() => Readable.from([buf]), kind === "tgz", display, buf.length, parts, limits, state, options);
  }
}

function drained(stream: Readable): Promise<void> {
  if (stream.readableEnded || stream.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    stream.once("end", resolve);
    stream.once("close", resolve);
    stream.once("error", () => resolve());
    stream.resume();
  });
}

async function collectBytes(stream: AsyncIterable<Uint8Array>, path: string, max: number): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const c of stream) {
    total += c.length;
    if (total > max) throw new HomeostatError("E_LIMIT", `nested archive larger than ${max} bytes`, { file: path });
    chunks.push(c);
  }
  return Buffer.concat(chunks);
}

async function collectText(stream: AsyncIterable<Uint8Array>, path: string): Promise<string> {
  return (await collectBytes(stream, path, SIDECAR_MAX)).toString("utf8");
}

// ---- zip (yauzl: random access through the central directory, entry sizes validated while inflating) ----

// The archive libraries are loaded when an archive is met, not by every command that reads plain files.
async function tarLibrary(): Promise<typeof tarStream> {
  return (await import("tar-stream")).default;
}

async function zipLibrary(): Promise<typeof yauzl> {
  return (await import("yauzl")).default;
}

async function openZipFile(path: string): Promise<yauzl.ZipFile> {
  const zipLib = await zipLibrary();
  return new Promise((resolve, reject) => {
    zipLib.open(path, { lazyEntries: true, autoClose: false, strictFileNames: false }, (err, zip) => {
      if (err || !zip) reject(archiveError(path, err, "corrupt or truncated zip"));
      else resolve(zip);
    });
  });
}

async function openZipBuffer(buf: Buffer, path: string): Promise<yauzl.ZipFile> {
  const zipLib = await zipLibrary();
  return new Promise((resolve, reject) => {
    zipLib.fromBuffer(buf, { lazyEntries: true, strictFileNames: false }, (err, zip) => {
      if (err || !zip) reject(archiveError(path, err, "corrupt or truncated zip"));
      else resolve(zip);
    });
  });
}

function zipEntryList(zip: yauzl.ZipFile, path: string): Promise<yauzl.Entry[]> {
  return new Promise((resolve, reject) => {
    const list: yauzl.Entry[] = [];
    zip.on("entry", (e: yauzl.Entry) => {
      list.push(e);
      zip.readEntry();
    });
    zip.on("end", () => resolve(list));
    zip.on("error", (err) => reject(archiveError(path, err, "corrupt zip")));
    zip.readEntry();
  });
}

function zipEntryStream(zip: yauzl.ZipFile, entry: yauzl.Entry, path: string): Promise<Readable> {
  return new Promise((resolve, reject) => {
    zip.openReadStream(entry, (err, stream) => {
      if (err || !stream) reject(archiveError(path, err, "corrupt zip member"));
      else resolve(stream);
    });
  });
}

async function* zipEntries(
  zip: yauzl.ZipFile,
  archivePath: string,
  parts: string[],
  limits: InputLimits,
  state: { entries: number },
  options: InputOptions,
): AsyncGenerator<InputEntry> {
  try {
    const list = (await zipEntryList(zip, archivePath)).filter((e) => !e.fileName.endsWith("/"));
    list.sort((a, b) => (a.fileName < b.fileName ? -1 : a.fileName > b.fileName ? 1 : 0));
    const byStem = new Map<string, yauzl.Entry>();
    for (const e of list) if (e.fileName.toLowerCase().endsWith(".json")) byStem.set(stemOf(e.fileName), e);
    for (const e of list) {
      const name = e.fileName;
      const memberParts = name.split("/").filter((s) => s.length > 0);
      const base = memberParts[memberParts.length - 1] ?? "";
      const display = `${archivePath}:${name}`;
      if (isNonTraceName(base)) {
        if (!base.toLowerCase().endsWith(".json")) {
          options.onSkip?.({ path: display, reason: "documentation or metadata, not a trace" });
        }
        continue;
      }
      if (e.uncompressedSize > limits.maxEntryBytes) {
        throw new HomeostatError("E_LIMIT", `member declares ${e.uncompressedSize} bytes, over the limit`, {
          file: display,
        });
      }
      if (e.uncompressedSize > limits.ratioCheckBytes && e.uncompressedSize > e.compressedSize * limits.maxRatio) {
        throw new HomeostatError(
          "E_LIMIT",
          `member expands ${Math.round(e.uncompressedSize / Math.max(1, e.compressedSize))} times: refusing a likely decompression bomb`,
          { file: display },
        );
      }
      const kind = archiveKind(base);
      if (kind === "zip" || kind === "tar" || kind === "tgz") {
        const buf = await collectBytes(await zipEntryStream(zip, e, display), display, limits.maxNestedBytes);
        yield* nestedEntries(buf, kind, display, [...parts, ...memberParts], limits, state, options);
        continue;
      }
      countEntry(state, limits, display);
      const json = byStem.get(stemOf(name));
      const entry: InputEntry = {
        path: display,
        parts: [...parts, ...memberParts],
        size: e.uncompressedSize,
        explicit: false,
        open: () => zipMemberChunks(zip, e, display, limits),
      };
      if (json !== undefined && json !== e && json.uncompressedSize <= SIDECAR_MAX) {
        const jsonPath = `${archivePath}:${json.fileName}`;
        entry.sidecar = {
          path: jsonPath,
          text: await collectText(await zipEntryStream(zip, json, jsonPath), jsonPath),
        };
      }
      yield entry;
    }
  } finally {
    zip.close();
  }
}

async function* zipMemberChunks(
  zip: yauzl.ZipFile,
  entry: yauzl.Entry,
  display: string,
  limits: InputLimits,
): AsyncGenerator<Uint8Array> {
  const stream = await zipEntryStream(zip, entry, display);
  const src = kindIsGz(display) ? gunzipBounded(stream, display, entry.uncompressedSize, limits) : stream;
  yield* bounded(src, display, entry.compressedSize, limits, (err) => archiveError(display, err, "corrupt zip member"));
}

function kindIsGz(path: string): boolean {
  return archiveKind(path) === "gz";
}

/** The first top-level name in an archive, reading as little as possible. */
async function firstTopLevelName(path: string, kind: ArchiveKind): Promise<string | undefined> {
  if (kind === "zip") {
    const zip = await openZipFile(path);
    try {
      const first = await new Promise<yauzl.Entry | undefined>((resolve, reject) => {
        zip.once("entry", (e: yauzl.Entry) => resolve(e));
        zip.once("end", () => resolve(undefined));
        zip.once("error", reject);
        zip.readEntry();
      });
      return first?.fileName.split("/").find((s) => s.length > 0 && s !== ".");
    } finally {
      zip.close();
    }
  }
  const extract = (await tarLibrary()).extract();
  const raw = createReadStream(path);
  const src: Readable = kind === "tgz" ? raw.pipe(createGunzip()) : raw;
  src.on("error", (err) => extract.destroy(err));
  src.pipe(extract);
  try {
    for await (const tarMember of extract) {
      const member = tarMember as unknown as Readable & { header: tarStream.Header };
      const name = member.header.name.split("/").find((s) => s.length > 0 && s !== ".");
      member.resume();
      return name;
    }
    return undefined;
  } finally {
    extract.destroy();
    raw.destroy();
  }
}

function archiveError(path: string, err: unknown, what: string): HomeostatError {
  if (err instanceof HomeostatError) return err;
  const detail = err instanceof Error ? err.message : String(err);
  return new HomeostatError("E_ARCHIVE", `${what}: ${detail}`, { file: path }, { cause: err });
}

function ioError(path: string, err: unknown, what: string): HomeostatError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === "ENOENT") return new HomeostatError("E_NOT_FOUND", "no such file or folder", { file: path });
  if (code === "EACCES" || code === "EPERM") {
    return new HomeostatError("E_PERMISSION", `${what}: permission denied`, { file: path });
  }
  const detail = err instanceof Error ? err.message : String(err);
  return new HomeostatError("E_IO", `${what}: ${detail}`, { file: path }, { cause: err });
}

/** A path relative to a root, with forward slashes, for display. */
export function displayRelative(root: string, path: string): string {
  return relative(root, path).split(sep).join("/");
}
