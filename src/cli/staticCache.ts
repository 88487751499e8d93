// The build-id cache of static analyses that the flags of `static` and `detect --static` ask for.

import { HomeostatError } from "../errors.js";
import { defaultCacheDir, directoryCache, type SummaryCache } from "../static/summaryCache.js";

/** The build-id cache the flags ask for: the default directory, another one, or none. */
export function staticCache(flags: { cache: boolean; cacheDir?: string }): SummaryCache | undefined {
  if (!flags.cache && flags.cacheDir !== undefined) {
    throw new HomeostatError("E_USAGE", "--no-cache and --cache-dir contradict each other");
  }
  return flags.cache ? directoryCache(flags.cacheDir ?? defaultCacheDir()) : undefined;
}
