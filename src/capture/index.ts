// Public names of the capture stage: recording real programs under strace, streamed into homeostat's events.

export * from "./straceCapture.js";
export * from "./hostEvents.js";
export * from "./procIdentity.js";
export * from "./straceHostCapture.js";
export * from "./bpftraceCapture.js";
