// The record format of the alert spool (alertSpool.ts): a text file, one record per line, so that an operator can
// read it with `less` and a crash can only ever tear the last line. The file begins with a header line naming the
// format and the spool's generation (a new generation each time the file is rewritten by a compaction):
//
//   homeostat-spool 1 <generation>\n
//   <payload bytes, decimal> <crc32 of the payload, 8 lowercase hex> <payload>\n
//   ...
//
// The payload is one alert as Falco's JSON, which never holds a raw newline. The length and checksum make a torn
// or damaged record detectable: the parser skips a damaged record (counted) up to the next newline, and stops at a
// torn last one (an append cut short by a crash), reporting where the valid data ends so that the spool can cut the
// tail off before appending again.

import { crc32 } from "node:zlib";

export const SPOOL_MAGIC = "homeostat-spool";
export const SPOOL_VERSION = 1;
/** Payload bytes one record may hold (the length field has at most 8 digits). */
export const MAX_PAYLOAD_BYTES = 16 * 1024 * 1024;

const NL = 0x0a;
const SP = 0x20;

/** One record as found in the file: where it starts and ends (byte offsets in the file), and its payload. */
export interface SpoolEntry {
  offset: number;
  end: number;
  payload: string;
}

export interface ParsedRecords {
  records: SpoolEntry[];
  /** The offset where valid data ends: after the last whole record (or a skipped damaged one). */
  validEnd: number;
  /** Damaged records skipped. */
  damaged: number;
  /** The data ended in the middle of a record (an append cut short). */
  torn: boolean;
}

/** The bytes of one record. */
export function encodeSpoolRecord(payload: string): Buffer {
  const body = Buffer.from(payload, "utf8");
  if (body.length > MAX_PAYLOAD_BYTES || body.includes(NL)) {
    throw new RangeError(`a spool payload must be at most ${MAX_PAYLOAD_BYTES} bytes without a newline`);
  }
  const head = `${body.length} ${crc32(body).toString(16).padStart(8, "0")} `;
  const out = Buffer.allocUnsafe(head.length + body.length + 1);
  out.write(head, 0, "latin1");
  body.copy(out, head.length);
  out[out.length - 1] = NL;
  return out;
}

/**
 * The text of one record, for appending in batches (one conversion to bytes per batch), and its length in bytes.
 * The same bytes as encodeSpoolRecord; the payload must hold no newline (JSON never does).
 */
export function spoolRecordText(payload: string): { text: string; bytes: number } {
  const length = Buffer.byteLength(payload, "utf8");
  const head = `${length} ${crc32(payload).toString(16).padStart(8, "0")} `;
  return { text: `${head}${payload}\n`, bytes: head.length + length + 1 };
}

/**
 * Frames the payloads of `data[start, end)`, one per line (newline-separated; empty lines are ignored), as records
 * into one new buffer, in order. `admit(length, bytes)` is asked about each (its payload's length and its record's
 * size) and leaves it out by returning false. The bytes are copied: `data` may be reused once this returns.
 */
export function frameSpoolLines(
  data: Buffer,
  start: number,
  end: number,
  admit: (length: number, bytes: number) => boolean,
): { bytes: Buffer; count: number } {
  const heads: string[] = [];
  const from: number[] = [];
  const to: number[] = [];
  let size = 0;
  for (let p = start; p < end;) {
    let nl = data.indexOf(NL, p);
    if (nl < 0 || nl > end) nl = end;
    const length = nl - p;
    if (length > 0) {
      const head = `${length} ${crc32(data.subarray(p, nl)).toString(16).padStart(8, "0")} `;
      const bytes = head.length + length + 1;
      if (admit(length, bytes)) {
        heads.push(head);
        from.push(p);
        to.push(nl);
        size += bytes;
      }
    }
    p = nl + 1;
  }
  if (heads.length === 0) return { bytes: Buffer.alloc(0), count: 0 };
  const out = Buffer.allocUnsafe(size);
  let o = 0;
  for (let i = 0; i < heads.length; i++) {
    o += out.write(heads[i]!, o, "latin1");
    o += data.copy(out, o, from[i]!, to[i]!);
    out[o++] = NL;
  }
  return { bytes: out, count: heads.length };
}

/** The header line of generation `generation`. */
export function encodeSpoolHeader(generation: number): Buffer {
  return Buffer.from(`${SPOOL_MAGIC} ${SPOOL_VERSION} ${generation}\n`, "latin1");
}

/** The generation and length of a header at the start of `data`, or undefined when there is no valid one. */
export function parseSpoolHeader(data: Uint8Array): { generation: number; length: number } | undefined {
  const nl = indexOf(data, NL, 0, Math.min(data.length, 64));
  if (nl < 0) return undefined;
  const m = /^homeostat-spool 1 (\d{1,10})$/.exec(Buffer.from(data.subarray(0, nl)).toString("latin1"));
  if (m === null) return undefined;
  return { generation: Number(m[1]), length: nl + 1 };
}

/** The records of `data` (bytes from file offset `base`), skipping damaged ones; never throws. */
export function parseSpoolRecords(data: Uint8Array, base = 0): ParsedRecords {
  const records: SpoolEntry[] = [];
  let damaged = 0;
  let p = 0;
  while (p < data.length) {
    // A record is exactly one line: without a newline the data ends inside it (torn), whatever it holds.
    const nl = indexOf(data, NL, p, data.length);
    if (nl < 0) return { records, validEnd: base + p, damaged, torn: true };
    const payload = lineRecord(data, p, nl);
    if (payload === undefined) damaged++;
    else records.push({ offset: base + p, end: base + nl + 1, payload });
    p = nl + 1;
  }
  return { records, validEnd: base + p, damaged, torn: false };
}

/** The payload of the record on the line [p, nl), or undefined when the line is not a valid record. */
function lineRecord(data: Uint8Array, p: number, nl: number): string | undefined {
  const sp1 = indexOf(data, SP, p, Math.min(nl, p + 9));
  if (sp1 <= p || !allDigits(data, p, sp1)) return undefined;
  const length = Number(Buffer.from(data.subarray(p, sp1)).toString("latin1"));
  const bodyStart = sp1 + 10;
  if (bodyStart + length !== nl || data[sp1 + 9] !== SP) return undefined;
  const crcText = Buffer.from(data.subarray(sp1 + 1, sp1 + 9)).toString("latin1");
  if (!/^[0-9a-f]{8}$/.test(crcText)) return undefined;
  const body = data.subarray(bodyStart, nl);
  if (crc32(body) !== Number.parseInt(crcText, 16)) return undefined;
  return Buffer.from(body).toString("utf8");
}

function allDigits(data: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = data[i]!;
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

function indexOf(data: Uint8Array, byte: number, from: number, to: number): number {
  for (let i = from; i < to; i++) if (data[i] === byte) return i;
  return -1;
}
