// Public names of the store: the durable state of `homeostat watch` (profiles, alerts, actions) in SQLite, and the
// lock that keeps it to one writer.

export * from "./stateStore.js";
export * from "./writerLock.js";
