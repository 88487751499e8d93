// The stored form of a trained KS bigram classifier (ksBigram.ts), format version 1: magic "KSBG", version, the
// options, the id -> symbol lookup, the raw segment histograms (sparse) and an FNV-1a checksum; the byte layout is
// in docs/ks-bigram.md. Models, CDFs and the cell order are rebuilt on load, so they never disagree with the
// options. Saved models must keep loading: change the layout only with a new version, and keep reading version 1.

import { HomeostatError } from "../errors.js";
import { fnv1a } from "./hash.js";
import { Segments } from "./ksBigramCounts.js";
import { CELL_ORDER_CODES, type KsBigramOptions } from "./ksBigramOptions.js";
import { PayloadReader, PayloadWriter } from "./payload.js";

const MAGIC = 0x4742534b; // "KSBG" little-endian
const FORMAT_VERSION = 1;
/** Fixed header (60 bytes), checksum (4) and the smallest two segments (12 bytes each, with one cell). */
const MIN_BYTES = 68;

/** Everything a stored classifier holds. */
export interface KsBigramRecord {
  readonly lookup: Uint8Array | Uint16Array;
  readonly symbols: number;
  readonly fallback: number;
  readonly options: KsBigramOptions;
  /** Training traces per label: [normal, attack]. */
  readonly traces: readonly [number, number];
  readonly segments: Segments;
}

/** The header of a stored classifier: the record without its segments, options not yet validated. */
export type KsBigramHeader = Omit<KsBigramRecord, "segments" | "options"> & {
  readonly options: Partial<Record<keyof KsBigramOptions, number | string | boolean>>;
};

export function encodeKsBigram(rec: KsBigramRecord): Uint8Array {
  const o = rec.options;
  const wide = rec.lookup instanceof Uint16Array;
  const w = new PayloadWriter().u32(MAGIC).u16(FORMAT_VERSION);
  w.u8(wide ? 2 : 1)
    .u8(CELL_ORDER_CODES.indexOf(o.order))
    .u8(o.shuffle ? 1 : 0)
    .u8(0);
  w.u16(rec.symbols).u16(rec.fallback).u16(0);
  w.u32(o.models).u32(o.k).u32(o.seed).f64(o.scale).f64(o.clip);
  w.u32(rec.traces[0]).u32(rec.traces[1]);
  w.u32(rec.lookup.length);
  if (rec.lookup instanceof Uint16Array) w.u16s(rec.lookup);
  else w.raw(rec.lookup);
  const { segments } = rec;
  for (let s = 0; s < 2 * segments.models; s++) {
    const row = segments.row(s);
    let n = 0;
    for (let c = 0; c < row.length; c++) if (row[c] !== 0) n++;
    w.f64(segments.bigrams[s]!).u32(n);
    for (let c = 0; c < row.length; c++) if (row[c] !== 0) w.u32(c).f64(row[c]!);
  }
  w.u32(fnv1a(w.written()));
  return w.finish();
}

/**
 * Checks that `bytes` are a stored classifier of this version with an intact checksum, and returns a reader of
 * the body after magic and version. Throws E_FORMAT, E_VERSION or E_CHECKSUM.
 */
export function openKsBigram(bytes: Uint8Array): PayloadReader {
  if (bytes.length < MIN_BYTES) throw new HomeostatError("E_FORMAT", "not a ksbigram model: too short");
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (v.getUint32(0, true) !== MAGIC) throw new HomeostatError("E_FORMAT", "not a ksbigram model: bad magic");
  const version = v.getUint16(4, true);
  if (version !== FORMAT_VERSION) {
    throw new HomeostatError(
      "E_VERSION",
      `ksbigram model format version ${version} is not supported (this build reads ${FORMAT_VERSION})`,
    );
  }
  const end = bytes.length - 4;
  if (fnv1a(bytes, 0, end) !== v.getUint32(end, true)) {
    throw new HomeostatError("E_CHECKSUM", "ksbigram model checksum does not match");
  }
  const r = new PayloadReader(bytes.subarray(0, end), "ksbigram");
  r.u32();
  r.u16();
  return r;
}

/** Reads the header after magic and version. Throws E_PARSE. */
export function readKsBigramHeader(r: PayloadReader): KsBigramHeader {
  const width = r.u8();
  const order = CELL_ORDER_CODES[r.u8()];
  const shuffle = r.u8() === 1;
  r.u8();
  const symbols = r.u16();
  const fallback = r.u16();
  r.u16();
  const models = r.u32();
  const k = r.u32();
  const seed = r.u32();
  const scale = r.f64();
  const clip = r.f64();
  const traces = [r.u32(), r.u32()] as const;
  if (order === undefined || (width !== 1 && width !== 2)) throw r.fail("unknown order or lookup width");
  const lookupLength = r.u32();
  if (lookupLength > 65_536) throw r.fail("lookup too long");
  const lookup = width === 2 ? r.u16s(lookupLength) : r.raw(lookupLength);
  const options = { models, k, seed, scale, clip, shuffle, order };
  return { lookup, symbols, fallback, options, traces };
}

/** Reads the segments of a classifier with `models` per label over `cells` cells, to the end. Throws E_PARSE. */
export function readKsBigramSegments(r: PayloadReader, models: number, cells: number): Segments {
  const segments = new Segments(models, cells);
  const { raw, bigrams } = segments;
  for (let s = 0; s < 2 * models; s++) {
    bigrams[s] = r.f64();
    const n = r.u32();
    let sum = 0;
    for (let j = 0; j < n; j++) {
      const c = r.u32();
      const x = r.f64();
      if (c >= cells || !(x > 0)) throw r.fail("cell out of range");
      raw[s * cells + c] = x;
      sum += x;
    }
    if (sum !== bigrams[s] || sum === 0) throw r.fail("segment total does not match its cells");
  }
  r.end();
  return segments;
}
