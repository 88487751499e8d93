// Public names of the detection stage: locality frame counts, per-trace scores, live stream scoring with alarms,
// scoring and training on input as it is read, thresholds calibrated on normal data, and ensembles of detectors.

export * from "./alarm.js";
export * from "./ensemble.js";
export * from "./localityFrame.js";
export * from "./streamScorer.js";
export * from "./threshold.js";
export * from "./traceScore.js";
export * from "./traceStreamScorer.js";
export * from "./traceStreamTrainer.js";
export * from "./mimicry.js";
