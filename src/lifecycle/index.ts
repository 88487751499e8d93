// Public names of the lifecycle stage: live per-program profiles that train themselves and become normal (pH's
// lifecycle, Somayaji & Forrest 2000), whatever model of normal they keep: pH's lookahead pairs or a detector.

export * from "./liveProfile.js";
export * from "./phProfile.js";
export * from "./detectorProfile.js";
export { LifecycleProfile } from "./lifecycleProfile.js";
export * from "./lifecycleSettings.js";
