// Public names of the engine: the host monitor, free of I/O (events in; alerts and response requests out), with the
// check of each executable's calls against its static model.

export * from "./hostMonitor.js";
export * from "./staticCheck.js";
