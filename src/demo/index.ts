// Public names of the demo: the intentionally vulnerable target server, its normal-workload and exploit clients.

export * from "./demoConnection.js";
export * from "./elf.js";
export * from "./exploitClient.js";
export * from "./normalClient.js";
export * from "./target.js";
export * from "./demoRun.js";
export * from "./demoReport.js";
export * from "./staticCheck.js";
export * from "./demoMimicry.js";
