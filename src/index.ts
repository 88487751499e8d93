// homeostat as a library: the pipeline stages in the order data flows through them (syscalls -> ingest -> models ->
// detect -> eval -> report), plus capture, monitoring, responses, the store and static analysis. The CLI (src/cli)
// is built on exactly these names.

export * from "./errors.js";
export * from "./syscalls/index.js";
export * from "./ingest/index.js";
export * from "./capture/index.js";
export * from "./models/index.js";
export * from "./detect/index.js";
export * from "./eval/index.js";
export * from "./report/index.js";
export * from "./lifecycle/index.js";
export * from "./engine/index.js";
export * from "./watch/index.js";
export * from "./response/index.js";
export * from "./store/index.js";
// syscallName is the monitor's (the same x86_64 names): the static stage's copy stays under src/static.
export {
  ALWAYS_ALLOWED,
  analyzeProgram,
  type AnalysedObject,
  type AnalyzeOptions,
  type CodeSite,
  defaultCacheDir,
  ENTRY_CALLS,
  directoryCache,
  memoryCache,
  type ObjectRole,
  type StaticModel,
  staticProfile,
  type SummaryCache,
} from "./static/index.js";
