// Public names of the capture stage: recording real programs under strace, streamed into homeostat's events.

export * from "./straceCapture.js";
