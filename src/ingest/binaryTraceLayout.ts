// The layout of homeostat's binary trace format (docs/binary-trace-format.md): the header and block constants, the
// column encodings, and the small integer codecs (LEB128 varints, zigzag, u32) that the reader and the writer share.

import { HomeostatError } from "../errors.js";
import type { NoteKind } from "./event.js";
import { BINARY_TRACE_MAGIC } from "./formatHints.js";

/** The format version this build writes and reads. */
export const BINARY_TRACE_VERSION = 1;

export { BINARY_TRACE_MAGIC };
export const HEADER_BYTES = 16;
/** type u8 + length u32 before the payload. */
export const BLOCK_HEAD_BYTES = 5;
/** Head + trailing CRC-32. */
export const BLOCK_OVERHEAD_BYTES = 9;
/** Largest payload a block may have: a longer length field is corruption, found before buffering it. */
export const MAX_BLOCK_PAYLOAD = 64 * 1024 * 1024;

export const BlockType = {
  SOURCE: 0x01,
  END_SOURCE: 0x02,
  VOCAB: 0x03,
  EVENTS: 0x04,
  NOTE: 0x05,
  END: 0x06,
} as const;
/** Block types from here up are optional extensions that a reader skips (after checking their CRC). */
export const FIRST_SKIPPABLE_BLOCK = 0x80;

/** Column encodings of f64 columns (times, return values). */
export const F64Mode = { ABSENT: 0, RAW: 1, SCALED: 2 } as const;
/** 10^e for the scaled-integer encoding: a value v is stored as the integer m with m / 10^e === v exactly. */
export const POW10: readonly number[] = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9];
/** |m| bound of the scaled encoding, so that deltas and zigzag codes stay exact doubles. */
export const SCALED_LIMIT = 2 ** 51 - 1;

/** Note kinds by their stored code; append only. */
export const NOTE_KINDS: readonly NoteKind[] = ["exec", "signal", "exit", "killed", "comm", "lost"];

export const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Writes a LEB128 varint of a non-negative safe integer; returns the new position. */
export function writeVarint(buf: Uint8Array, pos: number, v: number): number {
  if (v < 0x80000000) {
    while (v > 0x7f) {
      buf[pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[pos++] = v;
    return pos;
  }
  while (v > 0x7f) {
    buf[pos++] = (v % 128) | 0x80;
    v = Math.floor(v / 128);
  }
  buf[pos++] = v;
  return pos;
}

/** Zigzag code of a safe integer: 0, -1, 1, -2, ... -> 0, 1, 2, 3, ... */
export function zigzag(d: number): number {
  return d >= 0 ? 2 * d : -2 * d - 1;
}

export function unzigzag(z: number): number {
  if (z <= 0x7fffffff) return (z >>> 1) ^ -(z & 1);
  return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
}

export function blockName(type: number): string {
  for (const [name, code] of Object.entries(BlockType)) if (code === type) return name;
  return `0x${type.toString(16).padStart(2, "0")}`;
}

export function readU32(b: Uint8Array, p: number): number {
  return (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
}

/** The error a malformed file raises, with its byte offset when the message does not already say it. */
export function binaryTraceError(
  code: "E_FORMAT" | "E_VERSION" | "E_CHECKSUM" | "E_ARCHIVE" | "E_PARSE",
  msg: string,
  file: string,
  at?: number,
): HomeostatError {
  const where = at === undefined || msg.includes("byte offset") ? "" : ` (byte offset ${at})`;
  return new HomeostatError(code, `${msg}${where}`, { file });
}
