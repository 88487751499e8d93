// Public names of the evaluation stage: ROC curves and AUC with exact tie handling, operating points (detection
// at a false-alarm rate and the reverse), confusion matrices and rates, LID-DS style call-level metrics with
// consecutive false alarms and detection delay, stratified k-fold splits, classification reports, and JSON-safe
// conversion of results.

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
