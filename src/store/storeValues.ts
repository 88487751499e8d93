// Values as the store writes and checks them: JSON text for JSON columns (never NULL), CRC-32 checksums of profile
// blobs and static model rows, shown in hex in messages, and the row limits of queries.

import { createRequire } from "node:module";
import { HomeostatError } from "../errors.js";

// node:zlib (and the streams it pulls in) is loaded the first time a checksum is needed, not by every read-only
// command that opens the store.
const requireBuiltin = createRequire(import.meta.url);
let zlibCrc32: ((data: string | Uint8Array) => number) | undefined;

export function crc32(data: string | Uint8Array): number {
  zlibCrc32 ??= (requireBuiltin("node:zlib") as typeof import("node:zlib")).crc32;
  return zlibCrc32(data);
}

export function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, "0")}`;
}

export function jsonText(value: unknown): string {
  // JSON.stringify(undefined) is undefined, which the NOT NULL column would refuse.
  return JSON.stringify(value) ?? "null";
}

export function checkLimit(limit: number): number {
  if (!Number.isInteger(limit) || limit < 0) {
    throw new HomeostatError("E_USAGE", `limit must be a non-negative integer, not ${limit}`);
  }
  return limit;
}
