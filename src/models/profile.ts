// The profile file: a trained detector with the vocabulary its ids index, in a versioned, checksummed byte format.
//
//   offset 0   8 bytes  magic "HSTPROF\0"
//          8   u16 LE   format version (1)
//         10   u32 LE   header length H
//         14   H bytes  JSON header: format, kind, options, vocabulary tokens (index = id), trainedCalls,
//                       trainedTraces, created (ISO 8601), homeostatVersion
//     14 + H   u32 LE   payload length P
//     18 + H   P bytes  the detector's serialize() output
// 18 + H + P   u32 LE   CRC-32 (node:zlib crc32) of every byte before it
//
// Every version keeps the CRC-32 trailer over all bytes before it, so the checksum is checked first: a damaged
// version field (a bit flip) is corruption, and only an intact file of another version is a version problem.
// Every error names the file.

import { readFileSync } from "node:fs";
import { crc32 } from "node:zlib";
import { HomeostatError } from "../errors.js";
import { Vocabulary } from "../syscalls/vocabulary.js";
import type { Detector } from "./detector.js";
import { detectorFactory } from "./registry.js";

export const PROFILE_MAGIC = "HSTPROF\0";
export const PROFILE_VERSION = 1;
const MAGIC_BYTES = Buffer.from(PROFILE_MAGIC, "latin1");
const FIXED_BYTES = 8 + 2 + 4 + 4 + 4;

export interface ProfileHeader {
  format: "homeostat-profile";
  kind: string;
  options: Record<string, number | string | boolean>;
  vocabulary: string[];
  trainedCalls: number;
  trainedTraces: number;
  created: string;
  homeostatVersion: string;
}

export interface Profile {
  detector: Detector;
  vocabulary: Vocabulary;
}

export interface DecodedProfile extends Profile {
  header: ProfileHeader;
}

export interface EncodeProfileInput extends Profile {
  /** Defaults to now; pass a fixed date for reproducible bytes. */
  created?: Date;
  /** Defaults to this package's version. */
  homeostatVersion?: string;
}

let packageVersion: string | undefined;

/** This package's version, read once from package.json (two levels above both src/models and dist/models). */
export function homeostatVersion(): string {
  if (packageVersion === undefined) {
    try {
      const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
        version?: unknown;
      };
      packageVersion = typeof pkg.version === "string" ? pkg.version : "unknown";
    } catch {
      packageVersion = "unknown";
    }
  }
  return packageVersion;
}

export function encodeProfile(input: EncodeProfileInput): Uint8Array {
  const { detector, vocabulary } = input;
  const header: ProfileHeader = {
    format: "homeostat-profile",
    kind: detector.kind,
    options: { ...detector.options },
    vocabulary: vocabulary.toArray(),
    trainedCalls: detector.trainedCalls,
    trainedTraces: detector.trainedTraces,
    created: (input.created ?? new Date()).toISOString(),
    homeostatVersion: input.homeostatVersion ?? homeostatVersion(),
  };
  const head = Buffer.from(JSON.stringify(header), "utf8");
  const payload = detector.serialize();
  const out = new Uint8Array(FIXED_BYTES + head.length + payload.length);
  const view = new DataView(out.buffer);
  out.set(MAGIC_BYTES, 0);
  view.setUint16(8, PROFILE_VERSION, true);
  view.setUint32(10, head.length, true);
  out.set(head, 14);
  view.setUint32(14 + head.length, payload.length, true);
  out.set(payload, 18 + head.length);
  const end = out.length - 4;
  view.setUint32(end, crc32(out.subarray(0, end)), true);
  return out;
}

/** Reads a profile; `file` names it in every error. */
export function decodeProfile(bytes: Uint8Array, file = "<profile>"): DecodedProfile {
  const { headLength, payloadLength } = checkFrame(bytes, file);
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + 14, headLength).toString("utf8"));
  } catch (err) {
    throw malformed(`header is not JSON (${(err as Error).message})`, file);
  }
  const header = checkHeader(json, file);
  const detector = deserializeDetector(header, bytes.subarray(18 + headLength, 18 + headLength + payloadLength), file);
  if (detector.trainedCalls !== header.trainedCalls || detector.trainedTraces !== header.trainedTraces) {
    throw malformed("header training counts differ from the model's", file);
  }
  return { detector, vocabulary: new Vocabulary(header.vocabulary), header };
}

/** The magic bytes, checksum, version and section lengths checked; the lengths of the header and the payload. */
function checkFrame(bytes: Uint8Array, file: string): { headLength: number; payloadLength: number } {
  const where = { file };
  const magicLength = Math.min(bytes.length, MAGIC_BYTES.length);
  for (let i = 0; i < magicLength; i++) {
    if (bytes[i] !== MAGIC_BYTES[i]) {
      throw new HomeostatError("E_FORMAT", "not a homeostat profile (bad magic bytes)", where);
    }
  }
  if (bytes.length < FIXED_BYTES) {
    throw new HomeostatError("E_CHECKSUM", `profile truncated at ${bytes.length} bytes`, where);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint16(8, true);
  const end = bytes.length - 4;
  const stored = view.getUint32(end, true);
  const actual = crc32(bytes.subarray(0, end));
  if (stored !== actual) {
    const field = version !== PROFILE_VERSION ? ` (its version field reads ${version})` : "";
    throw new HomeostatError(
      "E_CHECKSUM",
      `profile checksum mismatch (stored ${hex(stored)}, computed ${hex(actual)}): the file is corrupt or truncated${field}`,
      where,
    );
  }
  if (version !== PROFILE_VERSION) {
    throw new HomeostatError(
      "E_VERSION",
      `profile format version ${version} is not supported (this build reads version ${PROFILE_VERSION})`,
      where,
    );
  }
  const headLength = view.getUint32(10, true);
  if (14 + headLength + 4 > end) throw malformed(`header length ${headLength} runs past the end`, file);
  const payloadLength = view.getUint32(14 + headLength, true);
  if (18 + headLength + payloadLength !== end) throw malformed(`payload length ${payloadLength} does not fit`, file);
  return { headLength, payloadLength };
}

/** The model of the payload; a model's refusal of its options is the profile's fault (E_MODEL), not the user's. */
function deserializeDetector(header: ProfileHeader, payload: Uint8Array, file: string): Detector {
  try {
    return detectorFactory(header.kind).deserialize(header.options, payload);
  } catch (err) {
    if (err instanceof HomeostatError) {
      throw new HomeostatError(err.code === "E_USAGE" ? "E_MODEL" : err.code, err.message, { file }, { cause: err });
    }
    throw err;
  }
}

function checkHeader(json: unknown, file: string): ProfileHeader {
  if (typeof json !== "object" || json === null || Array.isArray(json))
    throw malformed("header is not an object", file);
  const h = json as Record<string, unknown>;
  if (h.format !== "homeostat-profile") throw malformed(`header format is ${JSON.stringify(h.format)}`, file);
  if (typeof h.kind !== "string") throw malformed("header has no model kind", file);
  const options = h.options;
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw malformed("header options are not an object", file);
  }
  for (const [key, value] of Object.entries(options)) {
    if (typeof value !== "number" && typeof value !== "string" && typeof value !== "boolean") {
      throw malformed(`option ${key} is not a scalar`, file);
    }
  }
  const vocabulary = h.vocabulary;
  if (!Array.isArray(vocabulary) || !vocabulary.every((t) => typeof t === "string")) {
    throw malformed("header vocabulary is not a list of tokens", file);
  }
  if (new Set(vocabulary).size !== vocabulary.length) throw malformed("header vocabulary repeats a token", file);
  for (const key of ["trainedCalls", "trainedTraces"] as const) {
    const v = h[key];
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0)
      throw malformed(`header ${key} is not a count`, file);
  }
  if (typeof h.created !== "string" || typeof h.homeostatVersion !== "string") {
    throw malformed("header lacks created time or homeostat version", file);
  }
  return h as unknown as ProfileHeader;
}

function malformed(message: string, file: string): HomeostatError {
  return new HomeostatError("E_PARSE", `malformed profile: ${message}`, { file });
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, "0")}`;
}
