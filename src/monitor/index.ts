// Public names of the monitoring stage: scoring live programs against their profiles.

export * from "./commandMonitor.js";
export * from "./phProfile.js";
