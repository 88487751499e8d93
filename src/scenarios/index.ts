// Public names of the scenarios layer: a reproducible benchmark of real programs recorded under strace, with seeded
// normal workloads and real attacks as short bursts inside long normal recordings, in the LID-DS 2021 layout
// (`homeostat scenarios build OUT_DIR`; docs/scenarios.md).

export * from "./build.js";
export * from "./layout.js";
export * from "./manifest.js";
export * from "./planning.js";
export * from "./registry.js";
export * from "./sidecar.js";
export * from "./sizes.js";
export * from "./straceRecorder.js";
export * from "./traceCheck.js";
export * from "./types.js";
export { gitScenario } from "./gitScenario.js";
export { planGitSession } from "./gitPlan.js";
export { kvserverScenario, planKvBatches } from "./kvserverScenario.js";
export { makeGccScenario, planMakeSession } from "./makeGccScenario.js";
export { nginxScenario, planNginx } from "./nginxScenario.js";
export { opensslScenario } from "./opensslScenario.js";
export { planOpensslSession } from "./opensslPlan.js";
export { perlScenario, planPerlJobs } from "./perlScenario.js";
export { planPythonHttp, pythonHttpScenario } from "./pythonHttpScenario.js";
