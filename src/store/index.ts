// Public names of the store: the durable state of `homeostat watch` (profiles, alerts, actions) in SQLite.

export * from "./stateStore.js";
