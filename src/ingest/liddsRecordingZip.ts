// Reads one LID-DS 2021 recording zip (`<rec>.zip` holding <rec>.sc, <rec>.json, <rec>.pcap, <rec>.res, as
// LID-DS's exporter writes them, deflated): the json gives the labels (liddsMetadata.ts, liddsLayout.ts), the .sc
// is streamed through the 2021 parser into the sink, bracketed by beginSource/endSource. The zip is read with
// yauzl (random access, so the json is read first wherever it sits in the archive); memory stays bounded: the
// json is read whole under a size cap, the .sc is streamed.

import type { Readable } from "node:stream";
import yauzl from "yauzl";
import type { ParseError } from "../errors.js";
import { HomeostatError, isHomeostatError } from "../errors.js";
import type { Vocabulary } from "../syscalls/vocabulary.js";
import type { EventSink, SourceInfo } from "./event.js";
import { liddsPathParts, liddsRecordingName, liddsSourceInfo, pickLiddsRecordingEntries } from "./liddsLayout.js";
import { checkMetadataSize, type LiddsRecordingMeta, parseLidds2021RecordingJson } from "./liddsMetadata.js";
import { createLidds2021Parser } from "./liddsParser.js";

/** Default cap on a recording json (real ones are a few KiB). */
export const DEFAULT_MAX_JSON_BYTES = 16 * 1024 * 1024;
/** A recording zip has 4 entries; more than this is not one. */
const MAX_ENTRIES = 10_000;

export interface ReadLiddsRecordingZipOptions {
  vocab: Vocabulary;
  sink: EventSink;
  /** Path components locating the zip in its scenario (default: liddsPathParts(zipPath)). */
  pathParts?: readonly string[];
  lenient?: boolean;
  keepArgs?: boolean;
  maxLineBytes?: number;
  onSkip?: (err: ParseError) => void;
  /** See sysdigCalls.ts; false counts enter events only, as LID-DS's loader does. */
  countOrphanExits?: boolean;
  maxJsonBytes?: number;
}

export interface LiddsRecordingRead {
  source: SourceInfo;
  meta?: LiddsRecordingMeta;
  /** Every entry name in the zip. */
  entries: string[];
}

/**
 * Parses the recording in `zipPath` into `options.sink`. Throws HomeostatError: E_NOT_FOUND (no such file, no
 * .sc inside), E_ARCHIVE (corrupt zip), E_PARSE (bad json or .sc line), E_LIMIT, E_IO. On an error, endSource
 * is not called.
 */
export async function readLiddsRecordingZip(
  zipPath: string,
  options: ReadLiddsRecordingZipOptions,
): Promise<LiddsRecordingRead> {
  const zip = await openZip(zipPath);
  try {
    const entries = await entriesByName(zip, zipPath);
    const names = [...entries.keys()];
    const pathParts = options.pathParts ?? liddsPathParts(zipPath);
    const picked = pickLiddsRecordingEntries(names, zipPath, liddsRecordingName(pathParts));
    if (picked.sc === undefined) {
      throw new HomeostatError("E_NOT_FOUND", "no .sc trace in this recording zip", { file: zipPath });
    }
    const meta =
      picked.json !== undefined
        ? await readMeta(zip, entries.get(picked.json)!, `${zipPath}:${picked.json}`, options)
        : undefined;
    const scPath = `${zipPath}:${picked.sc}`;
    const source: SourceInfo = {
      ...liddsSourceInfo([...pathParts, picked.sc], meta),
      path: scPath,
      format: "lidds2021",
    };
    options.sink.beginSource(source);
    await parseTrace(zip, entries.get(picked.sc)!, scPath, options);
    options.sink.endSource();
    const read: LiddsRecordingRead = { source, entries: names };
    if (meta !== undefined) read.meta = meta;
    return read;
  } finally {
    zip.close();
  }
}

/** The zip's entries by name, refusing more than a recording could have. */
async function entriesByName(zip: yauzl.ZipFile, zipPath: string): Promise<Map<string, yauzl.Entry>> {
  const entries = new Map<string, yauzl.Entry>();
  for await (const entry of zip.eachEntry()) {
    if (entries.size >= MAX_ENTRIES) {
      throw new HomeostatError("E_LIMIT", `more than ${MAX_ENTRIES} entries: not a LID-DS recording`, {
        file: zipPath,
      });
    }
    entries.set(entry.fileName, entry);
  }
  return entries;
}

/** The recording's labels, from its json entry read whole under the size cap. */
async function readMeta(
  zip: yauzl.ZipFile,
  entry: yauzl.Entry,
  file: string,
  options: ReadLiddsRecordingZipOptions,
): Promise<LiddsRecordingMeta> {
  const max = options.maxJsonBytes ?? DEFAULT_MAX_JSON_BYTES;
  checkMetadataSize(entry.uncompressedSize, max, file);
  const bytes = await readWhole(zip, entry, file, max);
  return parseLidds2021RecordingJson(bytes, file);
}

/** Streams the .sc entry through the 2021 parser into the sink. */
async function parseTrace(
  zip: yauzl.ZipFile,
  entry: yauzl.Entry,
  scPath: string,
  options: ReadLiddsRecordingZipOptions,
): Promise<void> {
  const parserOptions = {
    file: scPath,
    vocab: options.vocab,
    sink: options.sink,
    ...(options.lenient !== undefined && { lenient: options.lenient }),
    ...(options.keepArgs !== undefined && { keepArgs: options.keepArgs }),
    ...(options.maxLineBytes !== undefined && { maxLineBytes: options.maxLineBytes }),
    ...(options.onSkip !== undefined && { onSkip: options.onSkip }),
  };
  const calls = options.countOrphanExits === undefined ? {} : { countOrphanExits: options.countOrphanExits };
  const parser = createLidds2021Parser(parserOptions, calls);
  const stream = await openEntry(zip, entry, scPath);
  try {
    for await (const chunk of stream) parser.write(chunk as Buffer);
  } catch (err) {
    stream.destroy();
    throw wrapStreamError(err, scPath);
  }
  parser.end();
}

async function openZip(zipPath: string): Promise<yauzl.ZipFile> {
  try {
    return await yauzl.openPromise(zipPath, { lazyEntries: true, autoClose: false });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new HomeostatError("E_NOT_FOUND", "no such file", { file: zipPath }, { cause: err });
    if (code !== undefined) {
      throw new HomeostatError("E_IO", `cannot read: ${(err as Error).message}`, { file: zipPath }, { cause: err });
    }
    throw new HomeostatError(
      "E_ARCHIVE",
      `not a readable zip: ${(err as Error).message}`,
      { file: zipPath },
      {
        cause: err,
      },
    );
  }
}

async function openEntry(zip: yauzl.ZipFile, entry: yauzl.Entry, file: string): Promise<Readable> {
  try {
    return await zip.openReadStreamPromise(entry);
  } catch (err) {
    throw new HomeostatError("E_ARCHIVE", `cannot open zip entry: ${(err as Error).message}`, { file }, { cause: err });
  }
}

async function readWhole(zip: yauzl.ZipFile, entry: yauzl.Entry, file: string, max: number): Promise<Uint8Array> {
  const stream = await openEntry(zip, entry, file);
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of stream) {
      total += (chunk as Buffer).length;
      if (total > max) throw new HomeostatError("E_LIMIT", `metadata file larger than ${max} bytes`, { file });
      chunks.push(chunk as Buffer);
    }
  } catch (err) {
    stream.destroy();
    throw wrapStreamError(err, file);
  }
  return Buffer.concat(chunks);
}

function wrapStreamError(err: unknown, file: string): HomeostatError {
  if (isHomeostatError(err)) return err;
  return new HomeostatError("E_ARCHIVE", `corrupt zip entry: ${(err as Error).message}`, { file }, { cause: err });
}
