// A cache of object summaries keyed by GNU build-id, so that libc (most of any program's code) is analysed once
// and a second program that links it costs only its own code. One JSON file per object and analysis version;
// written to a temporary name and renamed, so a reader never sees half a file. A damaged entry is ignored.

import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { type ObjectSummary, SUMMARY_VERSION } from "./objectSummary.js";

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

export function directoryCache(dir: string): SummaryCache {
  return {
    get(key) {
      try {
        const parsed = JSON.parse(readFileSync(join(dir, `${key}.json`), "utf8")) as ObjectSummary;
        return parsed.version === SUMMARY_VERSION && Array.isArray(parsed.functions) ? parsed : undefined;
      } catch {
        return undefined;
      }
    },
    put(key, summary) {
      try {
        mkdirSync(dir, { recursive: true });
        const file = join(dir, `${key}.json`);
        const tmp = `${file}.${process.pid}.tmp`;
        writeFileSync(tmp, JSON.stringify(summary));
        renameSync(tmp, file);
      } catch {
        // A cache that cannot be written only costs time on the next run.
      }
    },
  };
}

/** A cache kept in memory only (tests, one-off analyses). */
export function memoryCache(): SummaryCache {
  const map = new Map<string, ObjectSummary>();
  return { get: (k) => map.get(k), put: (k, s) => void map.set(k, s) };
}
