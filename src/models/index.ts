// Public names of the models stage: the detector interface, the detectors of normal (stide, t-stide, lookahead
// pairs, n-gram, HMM), the static model of a binary (Wagner & Dean), the KS bigram classifier, the registry of
// kinds and model specs, and the profile file format.

export * from "./detector.js";
export * from "./detectorOptions.js";
export * from "./hmm.js";
export { HmmParameters } from "./hmmParameters.js";
export * from "./ksBigram.js";
export * from "./ksTest.js";
export * from "./lookaheadPairs.js";
export * from "./ngram.js";
export * from "./profile.js";
export * from "./random.js";
export * from "./registry.js";
export * from "./sequenceCover.js";
export * from "./staticCalls.js";
export * from "./stide.js";
export * from "./tStide.js";
export { MAX_WINDOW, MIN_WINDOW, WindowState, WindowTable, type WindowList } from "./windowTable.js";
