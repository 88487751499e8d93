// The byte layout of a live profile's model, inside the store's versioned, CRC-checked row (src/store): a magic
// number, a JSON header (settings, lifecycle counters, state) and length-prefixed sections (the training model and,
// when the profile is normal, the normal one), deflated as a whole because pair tables are mostly zero. One layout
// for every kind of live profile, so that a damaged or foreign blob is refused the same way (E_PARSE, named).

import { deflateRawSync, inflateRawSync } from "node:zlib";
import { HomeostatError } from "../errors.js";

const ABSENT = 0xffffffff;

export function encodeBlob(magic: number, header: unknown, sections: readonly (Uint8Array | null)[]): Uint8Array {
  const json = Buffer.from(JSON.stringify(header), "utf8");
  const head = Buffer.alloc(8);
  head.writeUInt32LE(magic, 0);
  head.writeUInt32LE(json.length, 4);
  const parts: Buffer[] = [head, json];
  for (const s of sections) {
    const len = Buffer.alloc(4);
    len.writeUInt32LE(s === null ? ABSENT : s.length, 0);
    parts.push(len);
    if (s !== null) parts.push(Buffer.from(s.buffer, s.byteOffset, s.length));
  }
  return deflateRawSync(Buffer.concat(parts));
}

export interface DecodedBlob {
  header: unknown;
  /** Each section's bytes, or null where it was absent. */
  sections: (Buffer | null)[];
}

/** Decodes `count` sections; E_PARSE naming `what` on anything malformed. */
export function decodeBlob(bytes: Uint8Array, magic: number, count: number, what: string): DecodedBlob {
  const bad = (why: string): HomeostatError => new HomeostatError("E_PARSE", `${what}: ${why}`);
  let raw: Buffer;
  try {
    raw = inflateRawSync(bytes);
  } catch {
    throw bad("not a deflated profile model");
  }
  if (raw.length < 8 || raw.readUInt32LE(0) !== magic) throw bad("not this kind of profile (bad magic)");
  const hlen = raw.readUInt32LE(4);
  if (8 + hlen > raw.length) throw bad("truncated header");
  let header: unknown;
  try {
    header = JSON.parse(raw.subarray(8, 8 + hlen).toString("utf8"));
  } catch {
    throw bad("header is not JSON");
  }
  let at = 8 + hlen;
  const sections: (Buffer | null)[] = [];
  for (let i = 0; i < count; i++) {
    if (at + 4 > raw.length) throw bad("truncated section");
    const len = raw.readUInt32LE(at);
    at += 4;
    if (len === ABSENT) {
      sections.push(null);
      continue;
    }
    if (at + len > raw.length) throw bad("truncated section");
    sections.push(raw.subarray(at, at + len));
    at += len;
  }
  if (at !== raw.length) throw bad("trailing bytes");
  return { header, sections };
}
