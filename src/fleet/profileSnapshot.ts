// A profile snapshot, the value of a key in the profiles and pooled KV buckets: 4 bytes big-endian header length N,
// N bytes of UTF-8 JSON header (who, which program, the profile's state and figures), then the profile's blob
// exactly as the state store keeps it, so that a host restores a pooled profile as it would its own.

import { z } from "zod";
import { HomeostatError } from "../errors.js";
import { parseJsonVersioned, parseWith } from "./fleetJson.js";
import { HOST_ID_RE, POOL_HOST, PROGRAM_ID_RE } from "./fleetNames.js";

/** A header larger than this is not one homeostat wrote. */
export const MAX_SNAPSHOT_HEADER_BYTES = 64 * 1024;

export interface SnapshotHeader {
  v: 1;
  /** The host id, or POOL_HOST for a pooled snapshot. */
  host: string;
  /** The program's content identity (programIdentity.ts). */
  program: string;
  /** The executable's path on that host. */
  path: string;
  /** The model spec ("ph:L=9", "stide:k=6", ...). */
  model: string;
  state: "training" | "frozen" | "normal";
  trainCount: number;
  /** The profile's version in the host's state store (1 on first save). */
  version: number;
  /** Epoch milliseconds of the snapshot. */
  time: number;
  /**
   * Set when the profile started from the fleet's pooled one (`--fleet-profiles pull`) and still holds what it
   * took: that pooled version and its trained calls. The pool leaves such snapshots out, or it would count the
   * hosts it came from twice.
   */
  base?: PoolBase;
}

/** The pooled profile a host's profile started from. */
export interface PoolBase {
  version: number;
  trainCount: number;
}

export interface ProfileSnapshot {
  header: SnapshotHeader;
  blob: Uint8Array;
}

const headerSchema = z.looseObject({
  v: z.literal(1),
  host: z.string().refine((h) => h === POOL_HOST || HOST_ID_RE.test(h), "not a host id"),
  program: z.string().regex(PROGRAM_ID_RE),
  path: z.string().max(4096),
  model: z.string().min(1).max(200),
  state: z.enum(["training", "frozen", "normal"]),
  trainCount: z.number().int().nonnegative(),
  version: z.number().int().nonnegative(),
  time: z.number().finite().nonnegative(),
  base: z.object({ version: z.number().int().positive(), trainCount: z.number().int().nonnegative() }).optional(),
});

export function encodeSnapshot(header: SnapshotHeader, blob: Uint8Array): Uint8Array {
  const json = Buffer.from(JSON.stringify(header), "utf8");
  const out = Buffer.allocUnsafe(4 + json.length + blob.length);
  out.writeUInt32BE(json.length, 0);
  json.copy(out, 4);
  out.set(blob, 4 + json.length);
  return out;
}

/** Decodes and validates a snapshot; E_PARSE (E_VERSION for another header version) naming `what`. */
export function decodeSnapshot(bytes: Uint8Array, what = "profile snapshot"): ProfileSnapshot {
  if (bytes.length < 4) throw new HomeostatError("E_PARSE", `${what}: truncated (${bytes.length} bytes)`);
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  const n = buf.readUInt32BE(0);
  if (n > MAX_SNAPSHOT_HEADER_BYTES || 4 + n > buf.length) {
    throw new HomeostatError("E_PARSE", `${what}: header length ${n} does not fit in ${buf.length} bytes`);
  }
  const header = parseWith(headerSchema, parseJsonVersioned(buf.subarray(4, 4 + n), what), what) as SnapshotHeader;
  return { header, blob: new Uint8Array(buf.subarray(4 + n)) };
}
