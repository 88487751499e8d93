// Public names of the monitoring stage: scoring live programs against their profiles, and the host monitor
// (pH's per-executable profiles that train themselves, `homeostat watch`).

export * from "./commandMonitor.js";
export * from "./phProfile.js";
export * from "./hostMonitor.js";
export * from "./hostWatch.js";
export * from "./liveProfile.js";
export * from "./detectorProfile.js";
export { LifecycleProfile, type LifecycleState, validateSettings } from "./lifecycleProfile.js";
