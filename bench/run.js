// `npm run bench`: runs every benchmark (or those named on the command line), writes JSON under bench/results/,
// prints a summary, and exits 1 when a target is missed (so a regression is visible, not hidden).
const all = {
  ingest: () => import("./ingest.js"),
  detectors: () => import("./detectors.js"),
  capture: () => import("./capture.js"),
  monitor: () => import("./monitor.js"),
  outputs: () => import("./outputs.js"),
  static: () => import("./static.js"),
  startup: () => import("./startup.js"),
  memory: () => import("./memory.js"),
  serve: () => import("./serve.js"),
  "fleet-publish": () => import("./fleet-publish.js"),
  "fleet-serve": () => import("./fleet-serve.js"),
};
const names = process.argv.slice(2).length > 0 ? process.argv.slice(2) : Object.keys(all);
let failed = 0;
for (const name of names) {
  const load = all[name];
  if (!load) {
    console.error(`unknown benchmark ${name} (known: ${Object.keys(all).join(", ")})`);
    process.exit(2);
  }
  const result = await (await load()).run();
  for (const c of result.checks) {
    console.log(`${c.pass ? "ok  " : "MISS"} ${name}: ${c.name}: ${c.value} ${c.unit} (target ${c.target})`);
    if (!c.pass) failed++;
  }
  if (result.said !== undefined) console.log(`     ${name}: ${result.said}`);
}
process.exit(failed > 0 ? 1 : 0);
