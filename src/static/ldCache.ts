// Reads glibc's /etc/ld.so.cache (the "glibc-ld.so.cache1.1" format, possibly after an old "ld.so-1.7.0" part)
// into soname -> path for x86-64 libraries. Follows the layout of glibc's sysdeps/generic/dl-cache.h; a missing
// or malformed cache gives an empty map, since the loader then falls back to its default directories.

import { readFileSync } from "node:fs";

const OLD_MAGIC = "ld.so-1.7.0";
const NEW_MAGIC = "glibc-ld.so.cache1.1";
/** FLAG_ELF_LIBC6 | FLAG_X8664_LIB64: the only entries glibc's x86-64 loader accepts. */
const X86_64_LIBC6 = 0x0303;
const NEW_HEADER_SIZE = 48;
const NEW_ENTRY_SIZE = 24;
const ENDIAN_BIG = 3;

function startsWith(bytes: Uint8Array, at: number, text: string): boolean {
  if (at + text.length > bytes.length) return false;
  for (let i = 0; i < text.length; i++) if (bytes[at + i] !== text.charCodeAt(i)) return false;
  return true;
}

/** Where the new-format part starts: after the old-format table when one precedes it. */
function newFormatStart(bytes: Uint8Array, view: DataView): number | undefined {
  if (!startsWith(bytes, 0, OLD_MAGIC)) return 0;
  if (bytes.length < 16) return undefined;
  const oldEnd = 16 + view.getUint32(12, true) * 12;
  return Math.ceil(oldEnd / 8) * 8; // the new header is aligned for its uint64_t hwcap fields
}

function cString(bytes: Uint8Array, at: number): string | undefined {
  if (at >= bytes.length) return undefined;
  const end = bytes.indexOf(0, at);
  if (end <= at) return undefined;
  return Buffer.from(bytes.buffer, bytes.byteOffset + at, end - at).toString("utf8");
}

/**
 * Parses cache bytes. Entries with hwcap 0 (the baseline directories) win over glibc-hwcaps and legacy hwcap
 * subdirectory entries of the same soname, which are kept only for sonames that have no baseline entry; among
 * equals the first entry wins, as in glibc's sorted cache.
 */
export function parseLdCache(bytes: Uint8Array): Map<string, string> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const start = newFormatStart(bytes, view);
  if (start === undefined || !startsWith(bytes, start, NEW_MAGIC)) return new Map();
  if (start + NEW_HEADER_SIZE > bytes.length) return new Map();
  const count = view.getUint32(start + 20, true);
  if (bytes[start + 28] === ENDIAN_BIG) return new Map();
  const stringsLength = view.getUint32(start + 24, true);
  // The string table follows the entries; a cache cut short anywhere before its end is not trusted.
  if (start + NEW_HEADER_SIZE + count * NEW_ENTRY_SIZE + stringsLength > bytes.length) return new Map();
  const baseline = new Map<string, string>();
  const others = new Map<string, string>();
  for (let i = 0; i < count; i++) {
    const at = start + NEW_HEADER_SIZE + i * NEW_ENTRY_SIZE;
    if (view.getUint32(at, true) !== X86_64_LIBC6) continue;
    // String offsets in the new format count from the start of the new header.
    const name = cString(bytes, start + view.getUint32(at + 4, true));
    const path = cString(bytes, start + view.getUint32(at + 8, true));
    if (name === undefined || path === undefined) return new Map();
    const hwcap = view.getUint32(at + 16, true) + view.getUint32(at + 20, true);
    const into = hwcap === 0 ? baseline : others;
    if (!into.has(name)) into.set(name, path);
  }
  for (const [name, path] of others) if (!baseline.has(name)) baseline.set(name, path);
  return baseline;
}

/** The x86-64 sonames of an ld.so.cache file; an empty map when it is absent, unreadable or malformed. */
export function readLdCache(path = "/etc/ld.so.cache"): Map<string, string> {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch {
    return new Map();
  }
  return parseLdCache(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length));
}
