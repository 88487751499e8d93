// A cache of object summaries keyed by GNU build-id, so that libc (most of any program's code) is analysed once
// and a second program that links it costs only its own code. One binary file per object and analysis version
// (summaryCodec.ts), which loads as views on its bytes rather than by parsing. A file is written under a temporary
// name in the same directory and renamed over the entry, so a reader never sees half of one; and since every entry
// carries its length and checksum, one left damaged by a crash or a full disk is a miss, analysed and rewritten.
// Entries of other analysis versions are never read again: the first write of a process removes them (and
// temporary files a crashed writer left), touching only regular files whose names the cache itself makes.

import {
  closeSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { type ObjectSummary, SUMMARY_VERSION } from "./objectSummary.js";
import { decodeSummary, encodeSummaryChunks } from "./summaryCodec.js";

export interface SummaryCache {
  get(key: string): ObjectSummary | undefined;
  put(key: string, summary: ObjectSummary): void;
}

/** `$XDG_CACHE_HOME/homeostat/static`, or `~/.cache/homeostat/static`. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const base =
    env.XDG_CACHE_HOME !== undefined && env.XDG_CACHE_HOME !== "" ? env.XDG_CACHE_HOME : join(homedir(), ".cache");
  return join(base, "homeostat", "static");
}

/** The cache key of an object: its build-id, the analysis version, and the role that changes its analysis. */
export function cacheKey(buildId: string, interpreter: boolean): string {
  return `${buildId}-v${SUMMARY_VERSION}${interpreter ? "-interp" : ""}`;
}

/** The file of an entry in a directory cache. */
export function cacheFile(dir: string, key: string): string {
  return join(dir, `${key}.summary`);
}

let unique = 0;

/** Writes the pieces one after another, straight from their memory, to a new file. */
function writeAll(path: string, chunks: readonly Uint8Array[]): void {
  const fd = openSync(path, "wx");
  try {
    for (const chunk of chunks) {
      for (let at = 0; at < chunk.byteLength;) at += writeSync(fd, chunk, at);
    }
  } finally {
    closeSync(fd);
  }
}

/** An entry's file name, of any version and of the JSON form earlier versions wrote: build-id, version, role. */
const ENTRY = /^[0-9a-f]{2,128}-v(\d{1,9})(-interp)?\.(summary|json)$/;
/** A temporary file of `put`: an entry's name, the writer's process id and a counter. */
const TEMPORARY = /^([0-9a-f]{2,128}-v\d{1,9}(-interp)?\.summary)\.\d{1,10}\.\d{1,15}\.tmp$/;
/** A temporary file older than this was left by a writer that stopped (a write takes well under a second). */
const ABANDONED_MS = 60 * 60 * 1000;

/** Whether a file in the cache folder is one the cache made and will never read: another version, or abandoned. */
function isStale(name: string, now: number, ageMs: () => number): boolean {
  const entry = ENTRY.exec(name);
  if (entry !== null) return entry[3] !== "summary" || Number(entry[1]) !== SUMMARY_VERSION;
  return TEMPORARY.test(name) && now - ageMs() > ABANDONED_MS;
}

/**
 * Removes the stale files of a cache folder. Only regular files are removed (a symlink is never followed, nor
 * removed), and nothing in a folder that is itself a symlink; any failure leaves the file for the folder's owner.
 * Returns the names removed.
 */
export function removeStaleEntries(dir: string, now = Date.now()): string[] {
  const removed: string[] = [];
  try {
    if (!lstatSync(dir).isDirectory()) return removed;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (!entry.isFile()) continue;
      const file = join(dir, entry.name);
      try {
        if (!isStale(entry.name, now, () => lstatSync(file).mtimeMs)) continue;
        // Checked again just before: a name replaced by a symlink or a folder since it was listed is left alone.
        if (!lstatSync(file).isFile()) continue;
        unlinkSync(file);
        removed.push(entry.name);
      } catch {
        // Gone already, or not ours to remove: left as it is.
      }
    }
  } catch {
    // An unreadable folder only costs disk space.
  }
  return removed;
}

export function directoryCache(dir: string): SummaryCache {
  let swept = false;
  return {
    get(key) {
      try {
        return decodeSummary(readFileSync(cacheFile(dir, key)));
      } catch {
        return undefined;
      }
    },
    put(key, summary) {
      let tmp: string | undefined;
      try {
        const chunks = encodeSummaryChunks(summary);
        const file = cacheFile(dir, key);
        mkdirSync(dir, { recursive: true });
        // Unique per process and call: two writers of the same entry (a worker and a CLI run) never share a file.
        tmp = `${file}.${process.pid}.${++unique}.tmp`;
        writeAll(tmp, chunks);
        renameSync(tmp, file);
        // Once a process writes an entry (a miss: often the first analysis after an upgrade), the entries of other
        // versions are removed: no analysis will read them again.
        if (!swept) {
          swept = true;
          removeStaleEntries(dir);
        }
      } catch {
        // A cache that cannot be written only costs time on the next run.
        try {
          if (tmp !== undefined) rmSync(tmp, { force: true });
        } catch {
          // Left for the directory's owner; its name never matches an entry.
        }
      }
    },
  };
}

/** A cache kept in memory only (tests, one-off analyses). */
export function memoryCache(): SummaryCache {
  const map = new Map<string, ObjectSummary>();
  return { get: (k) => map.get(k), put: (k, s) => void map.set(k, s) };
}
