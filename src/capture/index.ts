// Public names of the capture stage: recording real programs under strace, streamed into homeostat's events, and
// host-wide capture for `watch` through eBPF (bpftrace) or strace.

export * from "./straceCapture.js";
export * from "./executables.js";
export { ptraceAdvice } from "./straceDiagnosis.js";
export * from "./hostEvents.js";
export * from "./procIdentity.js";
export * from "./straceHostCapture.js";
export * from "./bpftraceCapture.js";
export * from "./bpftraceOutput.js";
export * from "./execIdentity.js";
export { BATCH, type BpftraceScriptOptions, bpftraceScript } from "./bpftraceScript.js";
export { bpftraceUnavailableReason, diagnoseBpftraceStart, STRACE_OFFER } from "./bpftraceAvailability.js";
