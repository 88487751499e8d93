// Public names of the static analysis stage: what a program's code can call, without running it (Wagner & Dean,
// "Intrusion Detection via Static Analysis", IEEE S&P 2001): the analysis, the model it returns, and the build-id
// caches of per-object summaries.

export { ALWAYS_ALLOWED, analyzeProgram, type AnalyzeOptions, syscallName } from "./staticAnalysis.js";
export type { AnalysedObject, CodeSite, ObjectRole, StaticModel } from "./staticModel.js";
export { defaultCacheDir, directoryCache, memoryCache, type SummaryCache } from "./summaryCache.js";
export { ENTRY_CALLS, staticProfile } from "./staticProfile.js";
