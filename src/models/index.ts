// Public names of the models stage: the detector interface, the detectors of normal, the registry of kinds and
// model specs, and the profile file format.

export * from "./detector.js";
export * from "./detectorOptions.js";
export * from "./lookaheadPairs.js";
export * from "./profile.js";
export * from "./registry.js";
export * from "./stide.js";
export * from "./tStide.js";
export { MAX_WINDOW, MIN_WINDOW, WindowState, WindowTable, type WindowList } from "./windowTable.js";
