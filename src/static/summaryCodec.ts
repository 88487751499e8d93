// An ObjectSummary as bytes: a fixed header, a directory of the fields' types and lengths, then each field's raw
// bytes in the host's byte order (summaryFields.ts gives the order), each at an 8-byte boundary so that decoding makes
// typed-array views on the file's own buffer instead of parsing it, and encoding hands each field's own memory to
// the writer instead of building a copy of the file. The header carries a magic, the format and summary versions,
// the body's length and its CRC-32: bytes that do not match all of them, or fields that do not make a summary of
// the right shape (summaryCheck.ts), decode to undefined and the object is analysed again.
//
// Header (32 bytes, little-endian): magic "HSUMMARY" | format u32 | summary version u32 | body bytes u32 |
// body crc32 u32 | field count u32 | byte order of the fields u32 (1 little, 2 big). Body: per field, type u32 and
// element count u32 (little-endian); padding to 8; the fields.

import { crc32 } from "node:zlib";
import { SUMMARY_VERSION, type ObjectSummary } from "./objectSummary.js";
import { summaryConsistent, summaryShapeOk } from "./summaryCheck.js";
import { CorruptSummary, type Field, summaryFields, summaryFromFields } from "./summaryFields.js";

/** The byte layout; bump it when the framing or the field list changes. */
export const FORMAT_VERSION = 1;
export const HEADER_BYTES = 32;
const MAGIC = Buffer.from("HSUMMARY", "latin1");
const VERSION_AT = 8;
const SUMMARY_VERSION_AT = 12;
const BODY_BYTES_AT = 16;
const CRC_AT = 20;
const FIELDS_AT = 24;
const ORDER_AT = 28;
const HOST_ORDER = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1 ? 1 : 2;

const TYPES = [Uint8Array, Int32Array, Uint32Array, Float64Array] as const;

function typeCode(f: Field): number {
  const code = TYPES.findIndex((t) => f instanceof t);
  if (code < 0) throw new CorruptSummary("field type");
  return code;
}

const align8 = (n: number): number => (n + 7) & ~7;

const PADDING = new Uint8Array(8);

/**
 * A summary's bytes as consecutive pieces: the header, the directory, then each field's own memory (not a copy)
 * with its padding. Throws CorruptSummary when its tables do not fit together (it would not load).
 */
export function encodeSummaryChunks(summary: ObjectSummary): Uint8Array[] {
  if (!summaryConsistent(summary)) throw new CorruptSummary("the summary's tables do not fit together");
  const fields = summaryFields(summary);
  const directory = Buffer.alloc(align8(fields.length * 8));
  fields.forEach((f, i) => {
    directory.writeUInt32LE(typeCode(f), i * 8);
    directory.writeUInt32LE(f.length, i * 8 + 4);
  });
  const body: Uint8Array[] = [directory];
  for (const f of fields) {
    // No empty pieces: zlib's crc32 of an empty view on an empty buffer is 0, not the running value.
    if (f.byteLength > 0) body.push(new Uint8Array(f.buffer, f.byteOffset, f.byteLength));
    if (f.byteLength % 8 !== 0) body.push(PADDING.subarray(f.byteLength % 8));
  }
  let crc = 0;
  let bodyBytes = 0;
  for (const piece of body) {
    crc = crc32(piece, crc);
    bodyBytes += piece.byteLength;
  }
  const head = Buffer.alloc(HEADER_BYTES);
  MAGIC.copy(head, 0);
  head.writeUInt32LE(FORMAT_VERSION, VERSION_AT);
  head.writeUInt32LE(summary.version, SUMMARY_VERSION_AT);
  head.writeUInt32LE(bodyBytes, BODY_BYTES_AT);
  head.writeUInt32LE(crc, CRC_AT);
  head.writeUInt32LE(fields.length, FIELDS_AT);
  head.writeUInt32LE(HOST_ORDER, ORDER_AT);
  return [head, ...body];
}

/** A summary's bytes in one buffer. */
export function encodeSummary(summary: ObjectSummary): Buffer {
  return Buffer.concat(encodeSummaryChunks(summary));
}

/** The summary in these bytes, or undefined when they are not a whole, undamaged summary of this version. */
export function decodeSummary(bytes: Uint8Array): ObjectSummary | undefined {
  // Views need their element alignment; a buffer that does not start at a multiple of 8 is copied once.
  const buf = bytes.byteOffset % 8 === 0 ? bytes : Uint8Array.from(bytes);
  if (buf.length < HEADER_BYTES) return undefined;
  const head = Buffer.from(buf.buffer, buf.byteOffset, HEADER_BYTES);
  if (!head.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
  if (head.readUInt32LE(VERSION_AT) !== FORMAT_VERSION) return undefined;
  if (head.readUInt32LE(SUMMARY_VERSION_AT) !== SUMMARY_VERSION) return undefined;
  if (head.readUInt32LE(ORDER_AT) !== HOST_ORDER) return undefined;
  if (head.readUInt32LE(BODY_BYTES_AT) !== buf.length - HEADER_BYTES) return undefined;
  if (head.readUInt32LE(CRC_AT) !== crc32(buf.subarray(HEADER_BYTES))) return undefined;
  try {
    const summary = summaryFromFields(readFields(buf, head.readUInt32LE(FIELDS_AT)));
    return summaryShapeOk(summary) ? summary : undefined;
  } catch (err) {
    if (err instanceof CorruptSummary || err instanceof RangeError) return undefined;
    throw err;
  }
}

function readFields(buf: Uint8Array, count: number): Field[] {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let at = HEADER_BYTES + align8(count * 8);
  if (at > buf.length) throw new CorruptSummary("directory");
  const fields: Field[] = [];
  for (let i = 0; i < count; i++) {
    const type = TYPES[view.getUint32(HEADER_BYTES + i * 8, true)];
    const length = view.getUint32(HEADER_BYTES + i * 8 + 4, true);
    if (type === undefined) throw new CorruptSummary("field type");
    const bytes = length * type.BYTES_PER_ELEMENT;
    if (at + bytes > buf.length) throw new CorruptSummary("field length");
    fields.push(new type(buf.buffer as ArrayBuffer, buf.byteOffset + at, length));
    at += align8(bytes);
  }
  if (at !== buf.length) throw new CorruptSummary("trailing bytes");
  return fields;
}
