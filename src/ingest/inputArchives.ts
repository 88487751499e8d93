// Reading archives as streams of entries without unpacking anything to disk: tar and tar.gz streamed member by
// member (tar-stream), zip through its central directory (yauzl, entry sizes validated while inflating), and
// archives inside archives (a zip in a tar, a gzip-compressed zip in a tar) buffered in memory up to a limit.
// Truncated or corrupt archives raise E_ARCHIVE naming the archive and the member.

import { createReadStream } from "node:fs";
import { dirname, join } from "node:path";
import { Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import type tarStream from "tar-stream";
import type yauzl from "yauzl";
import { HomeostatError } from "../errors.js";
import { type InputContext, type InputEntry, SIDECAR_MAX } from "./inputEntry.js";
import { archiveError, bounded, type InputLimits, ioError } from "./inputLimits.js";
import { type ArchiveKind, archiveKind, isArchiveName, isNonTraceName, stemOf } from "./inputNames.js";
import { regularFileStream } from "./regularFile.js";

// The archive libraries are loaded when an archive is met, not by every command that reads plain files.
async function tarLibrary(): Promise<typeof tarStream> {
  return (await import("tar-stream")).default;
}

async function zipLibrary(): Promise<typeof yauzl> {
  return (await import("yauzl")).default;
}

export function gunzipBounded(
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

export async function collectBytes(stream: AsyncIterable<Uint8Array>, path: string, max: number): Promise<Buffer> {
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

/** The entries of an archive file on disk (zip, tar, tar.gz, or any of them gzip-compressed again). */
export async function* archiveFileEntries(
  file: string,
  size: number | undefined,
  parts: string[],
  ctx: InputContext,
): AsyncGenerator<InputEntry> {
  const kind = archiveKind(file);
  if (kind === "zip") yield* zipEntries(await openZipFile(file), file, parts, ctx);
  else if (kind === "tar" || kind === "tgz") {
    yield* tarEntries(() => regularFileStream(file), kind === "tgz", file, size, parts, ctx);
  } else {
    // A gzip-compressed zip cannot be read through its central directory without inflating it first.
    let buf: Buffer;
    try {
      buf = await collectBytes(regularFileStream(file), file, ctx.limits.maxNestedBytes);
    } catch (err) {
      throw ioError(file, err, "cannot read input");
    }
    yield* nestedEntries(buf, file, file, parts, ctx);
  }
}

/** The entries of an archive held in memory (an archive inside another one), by the kind its `name` says. */
async function* nestedEntries(
  buf: Buffer,
  name: string,
  display: string,
  parts: string[],
  ctx: InputContext,
): AsyncGenerator<InputEntry> {
  const kind = archiveKind(name);
  if (kind === "zip") {
    yield* zipEntries(await openZipBuffer(buf, display), display, parts, ctx);
  } else if (kind === "tar" || kind === "tgz") {
    yield* tarEntries(() => Readable.from([buf]), kind === "tgz", display, buf.length, parts, ctx);
  } else if (kind === "gz") {
    const inflated = gunzipBounded(Readable.from([buf]), display, buf.length, ctx.limits);
    const inner = await collectBytes(inflated, display, ctx.limits.maxNestedBytes);
    yield* nestedEntries(inner, name.slice(0, -3), display, parts, ctx);
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

// ---- tar (tar-stream: members in archive order, each streamed) ----

async function* tarEntries(
  openRaw: () => Readable,
  gzipped: boolean,
  archivePath: string,
  compressedSize: number | undefined,
  parts: string[],
  ctx: InputContext,
): AsyncGenerator<InputEntry> {
  const extract = (await tarLibrary()).extract();
  const raw = openRaw();
  const source = gzipped ? Readable.from(gunzipBounded(raw, archivePath, compressedSize, ctx.limits)) : raw;
  source.on("error", (err) => extract.destroy(err));
  source.pipe(extract);
  const sidecars = new Map<string, Sidecar>();
  try {
    for await (const tarMember of extract) {
      yield* tarMemberEntries(tarMember as unknown as TarMember, archivePath, parts, sidecars, ctx);
    }
  } catch (err) {
    if (err instanceof HomeostatError) throw err;
    throw archiveError(archivePath, err, gzipped ? "corrupt or truncated .tar.gz" : "corrupt or truncated .tar");
  } finally {
    raw.destroy();
  }
}

type TarMember = Readable & { header: tarStream.Header };

/** A JSON file beside a trace (LID-DS labels), keyed in the archive by the trace's folder and stem. */
type Sidecar = NonNullable<InputEntry["sidecar"]>;

/**
 * What one tar member gives: nothing (not a file; documentation; a sidecar, kept in `sidecars` for the traces
 * after it), a nested archive's entries, or one trace entry.
 */
async function* tarMemberEntries(
  member: TarMember,
  archivePath: string,
  parts: string[],
  sidecars: Map<string, Sidecar>,
  ctx: InputContext,
): AsyncGenerator<InputEntry> {
  const name = member.header.name.replace(/^\.\//, "");
  const memberParts = name.split("/").filter((s) => s.length > 0);
  const base = memberParts[memberParts.length - 1] ?? "";
  const display = `${archivePath}:${name}`;
  if (member.header.type !== "file" || memberParts.length === 0) {
    member.resume();
  } else if (base.toLowerCase().endsWith(".json") && (member.header.size ?? 0) <= SIDECAR_MAX) {
    const text = await collectText(member, display);
    sidecars.set(join(dirname(name), stemOf(base)), { path: display, text });
  } else if (isNonTraceName(base)) {
    ctx.options.onSkip?.({ path: display, reason: "documentation or metadata, not a trace" });
    member.resume();
  } else if (isArchiveName(base)) {
    const buf = await collectBytes(member, display, ctx.limits.maxNestedBytes);
    yield* nestedEntries(buf, base, display, [...parts, ...memberParts], ctx);
  } else {
    ctx.budget.countEntry(display);
    let consumed = false;
    const entry = tarTraceEntry(member, display, base, [...parts, ...memberParts], ctx, () => (consumed = true));
    const sidecar = sidecars.get(join(dirname(name), stemOf(base)));
    if (sidecar !== undefined) entry.sidecar = sidecar;
    yield entry;
    if (!consumed) member.resume();
    // tar-stream needs the member drained before it parses the next header.
    await drained(member);
  }
}

/** The entry of a trace member, read (and gunzipped if it is .gz) when opened, bounded and counted. */
function tarTraceEntry(
  member: TarMember,
  display: string,
  base: string,
  parts: string[],
  ctx: InputContext,
  onOpen: () => void,
): InputEntry {
  const { limits, budget } = ctx;
  return {
    path: display,
    parts,
    size: member.header.size,
    explicit: false,
    open: () => {
      onOpen();
      const bytes =
        archiveKind(base) === "gz"
          ? gunzipBounded(member, display, member.header.size, limits)
          : bounded(member, display, undefined, limits, (err) => archiveError(display, err, "corrupt tar member"));
      return budget.counted(bytes, display);
    },
  };
}

// ---- zip (yauzl: random access through the central directory, entry sizes validated while inflating) ----

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

/** E_LIMIT when a zip member declares a size or ratio over the limits (checked again while inflating). */
function checkDeclaredSize(e: yauzl.Entry, display: string, limits: InputLimits): void {
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
}

async function* zipEntries(
  zip: yauzl.ZipFile,
  archivePath: string,
  parts: string[],
  ctx: InputContext,
): AsyncGenerator<InputEntry> {
  const { limits, budget, options } = ctx;
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
      checkDeclaredSize(e, display, limits);
      if (isArchiveName(base)) {
        const buf = await collectBytes(await zipEntryStream(zip, e, display), display, limits.maxNestedBytes);
        yield* nestedEntries(buf, base, display, [...parts, ...memberParts], ctx);
        continue;
      }
      budget.countEntry(display);
      const json = byStem.get(stemOf(name));
      const entry: InputEntry = {
        path: display,
        parts: [...parts, ...memberParts],
        size: e.uncompressedSize,
        explicit: false,
        open: () => budget.counted(zipMemberChunks(zip, e, display, limits), display),
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
  const gz = archiveKind(display) === "gz";
  const src = gz ? gunzipBounded(stream, display, entry.uncompressedSize, limits) : stream;
  yield* bounded(src, display, entry.compressedSize, limits, (err) => archiveError(display, err, "corrupt zip member"));
}

/** The first top-level name in an archive, reading as little as possible. */
export async function firstTopLevelName(path: string, kind: ArchiveKind): Promise<string | undefined> {
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
