// `homeostat train --model SPEC --out PROFILE INPUT...`: learns a model of normal from traces and writes a
// versioned, checksummed profile (the model plus the vocabulary its ids refer to). The work is in
// ../actions/train.ts, loaded when the command runs. The help lists the models of the registry, which this module
// loads (main loads it only for `train` itself and the top-level help).

import type { Command } from "commander";
import type { TrainFlags } from "../actions/train.js";
import { DETECTORS } from "../../models/registry.js";
import type { CliContext } from "../context.js";
import { addInputOptions, addMaxHeldCallsOption } from "../inputOptions.js";

function modelHelp(): string {
  const lines = Object.values(DETECTORS).map((f) => {
    const opts = Object.entries(f.optionHelp)
      .map(([k, v]) => `${k}=${String(v.default)}`)
      .join(",");
    return `  ${f.kind.padEnd(10)} ${f.description}${opts ? `\n  ${"".padEnd(10)} options: ${opts}` : ""}`;
  });
  return `\nModels:\n${lines.join("\n")}\n\nExample:\n  homeostat train --model stide:k=6 --out ls.profile traces/`;
}

export function registerTrain(program: Command, ctx: CliContext): void {
  const cmd = program
    .command("train")
    .description("learn a model of normal behaviour from traces and write a profile")
    .argument("<path...>", "normal traces: files, folders or archives")
    .requiredOption("-m, --model <spec>", "model and options, e.g. stide:k=6 or lookahead:L=9")
    .option("--set <key=value...>", "model options, alternative to the spec's key=value list")
    .requiredOption("-o, --out <file>", "profile file to write")
    .option("--split <name>", "train only on sources of this dataset split (e.g. training)")
    .option("--json", "print a JSON summary on stdout")
    .addHelpText("after", modelHelp);
  addMaxHeldCallsOption(cmd, "models that train on whole traces: hmm");
  addInputOptions(cmd).action(async (paths: string[], flags: TrainFlags) => {
    // Named devices and FIFOs are refused at once, before the action and its parsers load.
    (await import("../../ingest/inputPaths.js")).checkNamedInputs(paths);
    return (await import("../actions/train.js")).runTrain(paths, flags, ctx);
  });
}
