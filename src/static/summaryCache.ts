// A cache of object summaries keyed by GNU build-id, so that libc (most of any program's code) is analysed once
// and a second program that links it costs only its own code. One binary file per object and analysis version
// (summaryCodec.ts), which loads as views on its bytes rather than by parsing. A file is written under a temporary
// name in the same directory and renamed over the entry, so a reader never sees half of one; and since every entry
// carries its length and checksum, one left damaged by a crash or a full disk is a miss, analysed and rewritten.

import { closeSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs";
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

export function directoryCache(dir: string): SummaryCache {
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
