// Public names of the evaluation stage: ROC curves and AUC with exact tie handling, operating points (detection
// at a false-alarm rate and the reverse), confusion matrices and rates, LID-DS style call-level metrics with
// consecutive false alarms and detection delay, stratified k-fold splits (and splits grouped by attack session),
// classification reports, and JSON-safe conversion of results; the scenarios protocol (LID-DS per program, one model
// per program) and its summary across programs; protocol variants (the LID-DS split of ADFA-LD) and
// the labels that keep non-strict figures from passing as strict ones. Data-set cleaning: call-sequence hashing and
// indexing, duplicate / cross-split / label conflict / degenerate-trace facts, the dedupe protocol variant, and the
// inspect report's data (category-bigram heatmaps, per-bigram KS separation, per-label distributions).

export * from "./callLevel.js";
export * from "./classificationReport.js";
export * from "./confusion.js";
export * from "./detectionDelay.js";
export * from "./kfold.js";
export * from "./metricJson.js";
export * from "./operatingPoints.js";
export * from "./roc.js";
export * from "./evalResult.js";
export * from "./experiment.js";
export * from "./protocol.js";
export * from "./ksKfold.js";
export * from "./groupedKFold.js";
export * from "./ksKfoldComparison.js";
export * from "./liddsSplit.js";
export * from "./protocolLabel.js";
export * from "./scenariosProtocol.js";
export * from "./scenariosResult.js";
export * from "./scenariosSummary.js";
export * from "./sequenceHash.js";
export * from "./sequenceIndex.js";
export * from "./datasetCleaning.js";
export * from "./trainingCopies.js";
export * from "./twoSampleKs.js";
export * from "./categoryBigrams.js";
export * from "./labelDistributions.js";
export * from "./datasetProfile.js";
export * from "./datasetScan.js";
