// The layer rule of ARCHITECTURE.md, checked by `npm test` (npm run lint:layers): every folder of src/ is a stage,
// and a stage imports only from stages before it in LAYERS (and from src/errors.ts); no import cycle anywhere.
// Tests beside the code may use any layer (a test is not part of its stage's public surface), but no cycle.

/** The stages, lowest first. */
const LAYERS = [
  "syscalls",
  "ingest",
  "models",
  "detect",
  "capture",
  "static",
  "lifecycle",
  "engine",
  "response",
  "store",
  "watch",
  "eval",
  "report",
  "demo",
  "scenarios",
  "serve",
  "fleet",
  "cli",
];

const TEST = "(\\.test\\.ts$|/testing/)";

const layerRules = LAYERS.map((layer, i) => ({
  name: `layer-${layer}`,
  comment: `${layer} may import only ${LAYERS.slice(0, i).join(", ") || "nothing above src/errors.ts"}`,
  severity: "error",
  from: { path: `^src/${layer}/`, pathNot: TEST },
  to: { path: `^src/(${LAYERS.slice(i + 1).join("|") || "-"})/` },
}));

module.exports = {
  forbidden: [
    {
      name: "no-circular",
      comment: "an import cycle: the files of a cycle cannot be read, tested or moved one at a time",
      severity: "error",
      from: {},
      to: { circular: true },
    },
    {
      name: "unknown-folder",
      comment: "every folder of src/ is a layer listed in .dependency-cruiser.cjs and ARCHITECTURE.md",
      severity: "error",
      from: { path: "^src/[^/]+/", pathNot: [`^src/(${LAYERS.join("|")}|testing)/`] },
      to: {},
    },
    ...layerRules,
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^(dist|node_modules)/" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { extensions: [".ts", ".js"] },
  },
};
