// `homeostat scenarios build OUT_DIR` and `homeostat scenarios list`: a reproducible benchmark of real programs
// (nginx, python http.server, git, make+gcc, perl, openssl, the demo's kvserver) recorded under strace, with seeded
// normal workloads and real attacks as short bursts inside long normal recordings, in the LID-DS 2021 layout
// (docs/scenarios.md). The work is in ../actions/scenarios.ts, loaded when the command runs.

import type { Command } from "commander";
import type { ScenariosBuildFlags } from "../actions/scenarios.js";
import type { CliContext } from "../context.js";
import { intOption, SEED_MAX } from "../numberOptions.js";

export function registerScenarios(program: Command, ctx: CliContext): void {
  const scenarios = program
    .command("scenarios")
    .description("build a benchmark data set of real programs under strace, with real attacks (LID-DS layout)");
  scenarios
    .command("build")
    .description("record every program's scenario into OUT_DIR (absent or empty)")
    .argument("<out-dir>", "the output folder: must not exist, or be empty")
    .option("--seed <n>", "seed of every workload, file and attack position", intOption("seed", 0, SEED_MAX), 1)
    .option(
      "--size <size>",
      "small (seconds per program, for tests), default (the benchmark) or large (3x training, 2x test)",
      "default",
    )
    .option("--programs <names>", "comma-separated programs to record (default: all; see `scenarios list`)")
    .option("--jobs <n>", "programs recorded at the same time", intOption("jobs", 1, 16), 2)
    .option("--json", "print the manifest (scenarios.json) on stdout")
    .addHelpText(
      "after",
      "\nExamples:\n  homeostat scenarios build /tmp/scen --seed 1\n" +
        "  homeostat scenarios build /tmp/scen-small --size small --programs perl,make-gcc\n" +
        "  homeostat eval --dataset scenarios --data /tmp/scen\n",
    )
    .action(async (outDir: string, flags: ScenariosBuildFlags) =>
      (await import("../actions/scenarios.js")).runScenariosBuild(outDir, flags, ctx),
    );
  scenarios
    .command("list")
    .description("the programs, their attacks, and whether each can be recorded on this machine")
    .option("--json", "machine-readable output on stdout")
    .action(async (flags: { json?: boolean }) => (await import("../actions/scenarios.js")).runScenariosList(flags));
}
