// Reading traces end to end: inputs (files, folders, archives) -> format detection -> parser -> sink, with each
// source labelled by its dataset layout. This is the pipeline every command shares (inspect, convert, train,
// score, eval), so that a format or a layout added here works everywhere.

import { resolve } from "node:path";
import { HomeostatError, type ParseError } from "../errors.js";
import type { Vocabulary } from "../syscalls/vocabulary.js";
import { adfaSourceInfo } from "./adfaLayout.js";
import type { EventSink, SourceInfo } from "./event.js";
import type { BinaryParserOptions } from "./binaryTrace.js";
import { type FormatName, FORMAT_NAMES, type ParserOptions, type TraceFormat, type TraceParser } from "./format.js";
import { loadedFor, loadFor, loadFormat, sniffLoaded } from "./formatLoader.js";
import { type InputEntry, type InputLimits, listInputs, type SkippedInput } from "./inputs.js";
import { inLiddsTree, liddsPathParts, liddsSourceInfo } from "./liddsLayout.js";
import type { LiddsRecordingMeta } from "./liddsMetadata.js";
import { pidFromStraceFileName } from "./straceFileName.js";

/** Bytes looked at to recognise a format. */
const SNIFF_BYTES = 64 * 1024;

export interface ReadOptions {
  vocab: Vocabulary;
  sink: EventSink;
  /** Force a format instead of detecting it per entry. */
  format?: FormatName;
  lenient?: boolean;
  keepArgs?: boolean;
  maxLineBytes?: number;
  limits?: Partial<InputLimits>;
  /** A path deliberately not read (documentation, an archive already extracted beside it). */
  onSkipInput?: (skipped: SkippedInput) => void;
  /** A malformed line skipped in lenient mode. */
  onSkipLine?: (err: ParseError) => void;
  /** After each entry: progress for a progress bar. */
  onProgress?: (progress: ReadProgress) => void;
}

export interface ReadProgress {
  entries: number;
  bytes: number;
  path: string;
}

export interface ReadReport {
  entries: number;
  bytes: number;
  skippedLines: number;
  skippedInputs: SkippedInput[];
  /** Entries read per format. */
  formats: Partial<Record<FormatName, number>>;
}

export function isFormatName(s: string): s is FormatName {
  return (FORMAT_NAMES as readonly string[]).includes(s);
}

/** What reading every entry of one readTraces call shares. */
interface ReadContext {
  options: ReadOptions;
  report: ReadReport;
  forced: TraceFormat | undefined;
  /** The options of every parser but the entry's own (its file name, strace's default stream), made once. */
  parsers: Omit<ParserOptions, "file">;
}

/** Reads every trace in `paths` into `options.sink`. */
export async function readTraces(paths: readonly string[], options: ReadOptions): Promise<ReadReport> {
  const report: ReadReport = { entries: 0, bytes: 0, skippedLines: 0, skippedInputs: [], formats: {} };
  const ctx: ReadContext = {
    options,
    report,
    // A forced format's parser is loaded at once; the others as the inputs need them.
    forced: options.format === undefined ? undefined : await loadFormat(options.format),
    parsers: {
      vocab: options.vocab,
      sink: options.sink,
      lenient: options.lenient ?? false,
      keepArgs: options.keepArgs ?? false,
      ...(options.maxLineBytes !== undefined ? { maxLineBytes: options.maxLineBytes } : {}),
      onSkip: (err: ParseError) => {
        report.skippedLines++;
        options.onSkipLine?.(err);
      },
    },
  };
  const inputs = listInputs(paths, {
    limits: options.limits ?? {},
    onSkip: (s) => {
      report.skippedInputs.push(s);
      options.onSkipInput?.(s);
    },
  });
  for await (const entry of inputs) {
    const bytes = await readEntry(entry, ctx);
    report.entries++;
    report.bytes += bytes;
    options.onProgress?.({ entries: report.entries, bytes: report.bytes, path: entry.path });
  }
  return report;
}

/** Reads one entry into the sink: whole when it is a small file, else streamed. Returns the bytes read. */
async function readEntry(entry: InputEntry, ctx: ReadContext): Promise<number> {
  const whole = entry.readWhole?.();
  if (whole !== undefined) {
    try {
      return await parseEntry(entry, { head: whole.bytes, rest: undefined }, ctx);
    } finally {
      whole.release();
    }
  }
  const iterator = entry.open()[Symbol.asyncIterator]();
  return parseEntry(entry, await readHead(iterator), ctx);
}

/** An entry's first bytes (at least SNIFF_BYTES unless it is shorter) and, unless they are all of it, the rest. */
interface EntryBytes {
  head: Uint8Array;
  rest: AsyncIterator<Uint8Array> | undefined;
}

async function readHead(iterator: AsyncIterator<Uint8Array>): Promise<EntryBytes> {
  // Collect the head for sniffing without copying more than needed.
  const headChunks: Uint8Array[] = [];
  let headLen = 0;
  while (headLen < SNIFF_BYTES) {
    const r = await iterator.next();
    if (r.done) return { head: concat(headChunks), rest: undefined };
    headChunks.push(r.value);
    headLen += r.value.length;
  }
  return { head: concat(headChunks), rest: iterator };
}

function concat(chunks: Uint8Array[]): Uint8Array {
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}

async function parseEntry(entry: InputEntry, { head, rest }: EntryBytes, ctx: ReadContext): Promise<number> {
  const { options, report, forced } = ctx;
  if (head.length === 0) {
    if (options.lenient) {
      report.skippedInputs.push({ path: entry.path, reason: "empty file" });
      return 0;
    }
    throw new HomeostatError("E_FORMAT", "empty file: no system calls to read", { file: entry.path });
  }
  const sniffed = head.length > SNIFF_BYTES ? head.subarray(0, SNIFF_BYTES) : head;
  // Parsers are loaded on first need (formatLoader.ts): those of the formats this head may be in.
  if (forced === undefined && !loadedFor(sniffed)) await loadFor(sniffed);
  const format = forced ?? sniffLoaded(sniffed, entry.path);
  if (format === undefined) {
    if (options.lenient && !entry.explicit) {
      report.skippedInputs.push({ path: entry.path, reason: "not a recognised trace format" });
      await rest?.return?.();
      return head.length;
    }
    throw new HomeostatError(
      "E_FORMAT",
      `not a recognised trace format (expected one of ${FORMAT_NAMES.join(", ")}; force one with --format)`,
      { file: entry.path },
    );
  }
  report.formats[format.name] = (report.formats[format.name] ?? 0) + 1;
  const source: SourceInfo = { path: entry.path, format: format.name, ...(await layoutInfo(entry, format.name)) };
  // homeostat's own files carry their sources (with labels) inside: the parser brackets them itself.
  const own = format.name === "homeostat";
  const parser = createParser(entry, format, ctx);
  if (!own) options.sink.beginSource(source);
  let bytes = head.length;
  parser.write(head);
  for (;;) {
    const r = rest === undefined ? undefined : await rest.next();
    if (r === undefined || r.done === true) break;
    bytes += r.value.length;
    parser.write(r.value);
  }
  parser.end();
  if (!own) options.sink.endSource();
  return bytes;
}

function createParser(entry: InputEntry, format: TraceFormat, ctx: ReadContext): TraceParser {
  const base = entry.parts[entry.parts.length - 1] ?? entry.path;
  const defaultStream = format.name === "strace" ? pidFromStraceFileName(base) : undefined;
  const parserOptions: ParserOptions =
    defaultStream === undefined
      ? { ...ctx.parsers, file: entry.path }
      : { ...ctx.parsers, file: entry.path, defaultStream };
  return format.createParser(format.name === "homeostat" ? bracketing(parserOptions) : parserOptions);
}

/** A binary trace parser's options that have it bracket the sources its file carries. */
function bracketing(options: ParserOptions): BinaryParserOptions {
  return { ...options, bracketSources: true };
}

// A scenario's runs.csv labels all its recordings: parse it once per file, not once per recording.
let runsCache: { path: string; byName: Map<string, LiddsRecordingMeta> } | undefined;

async function lidds2019Meta(entry: InputEntry): Promise<LiddsRecordingMeta | undefined> {
  const csv = entry.runsCsv;
  if (csv === undefined) return undefined;
  if (runsCache === undefined || runsCache.path !== csv.path) {
    const { assignLidds2019Splits, parseLidds2019RunsCsv } = await import("./liddsMetadata.js");
    const metas = assignLidds2019Splits(parseLidds2019RunsCsv(csv.text, csv.path));
    const byName = new Map<string, LiddsRecordingMeta>();
    for (const m of metas) if (m.name !== undefined) byName.set(m.name, m);
    runsCache = { path: csv.path, byName };
  }
  const base = entry.parts[entry.parts.length - 1] ?? "";
  return runsCache.byName.get(base.replace(/\.[^.]*$/, ""));
}

/**
 * Labels from the dataset layout the entry sits in. LID-DS metadata (and its schema library) is loaded only when a
 * LID-DS entry is met: start-up is part of every command's cost.
 *
 * Any other format's file with a `<stem>.json` sidecar inside a LID-DS-style training/validation/test tree (the
 * recordings of `homeostat scenarios`: `<program>/test/normal_and_attack/<rec>.strace` + `<rec>.json`) is labelled
 * as a LID-DS 2021 recording: the sidecar must then be a 2021 recording json (E_PARSE naming it otherwise), and the
 * scenario is the folder above the split, found in the resolved path, so that `--data <program>` still names it.
 */
async function layoutInfo(entry: InputEntry, format: FormatName): Promise<Partial<SourceInfo>> {
  const sidecar = entry.sidecar;
  if (format === "lidds2021") {
    if (sidecar === undefined) return liddsSourceInfo(entry.parts, undefined) ?? {};
    const { parseLidds2021RecordingJson } = await import("./liddsMetadata.js");
    return liddsSourceInfo(entry.parts, parseLidds2021RecordingJson(sidecar.text, sidecar.path)) ?? {};
  }
  if (format === "lidds2019") return liddsSourceInfo(entry.parts, await lidds2019Meta(entry)) ?? {};
  if (sidecar !== undefined && inLiddsTree(entry.parts)) {
    const { parseLidds2021RecordingJson } = await import("./liddsMetadata.js");
    const parts = liddsPathParts(resolve(entry.path));
    return liddsSourceInfo(parts, parseLidds2021RecordingJson(sidecar.text, sidecar.path));
  }
  return adfaSourceInfo(entry.parts) ?? {};
}
