// Public names of the watch stage, where the parts are wired together: `homeostat watch` as a library (capture,
// engine, responder and store; hostWatch.ts), and a command scored live against a profile (`homeostat detect`).

export * from "./commandMonitor.js";
export * from "./hostWatch.js";
