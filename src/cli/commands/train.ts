// `homeostat train --model SPEC --out PROFILE INPUT...`: learns a model of normal from traces and writes a
// versioned, checksummed profile (the model plus the vocabulary its ids refer to).

import type { Command } from "commander";
import { HomeostatError } from "../../errors.js";
import { loadTraces } from "../../ingest/loadTraces.js";
import { encodeProfile } from "../../models/profile.js";
import { createDetector, DETECTORS, formatModelSpec, parseModelSpec } from "../../models/registry.js";
import { Vocabulary } from "../../syscalls/vocabulary.js";
import { addInputOptions, type InputFlags, inputReadOptions } from "../inputOptions.js";
import type { CliContext } from "../main.js";
import { writeAtomically } from "../partialOutput.js";
import { num, progress } from "../terminal.js";

interface TrainFlags extends InputFlags {
  model: string;
  set?: string[];
  out: string;
  split?: string;
  json?: boolean;
}

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
  addInputOptions(cmd).action(async (paths: string[], flags: TrainFlags) => {
    const spec = parseModelSpec(
      flags.set && flags.set.length > 0 ? `${flags.model}${flags.model.includes(":") ? "," : ":"}${flags.set.join(",")}` : flags.model,
    );
    const vocab = new Vocabulary();
    const bar = progress("reading", 1, !flags.json);
    let loaded: Awaited<ReturnType<typeof loadTraces>>;
    try {
      loaded = await loadTraces(paths, vocab, {
        ...inputReadOptions(flags),
        onProgress: (p) => bar.update(p.entries, p.entries + 1),
      });
    } finally {
      bar.stop();
    }
    // Attack traces never train a model of normal: a labelled data set passed whole is filtered, and said so.
    const attacks = loaded.traces.filter((t) => t.source.label === "attack").length;
    const kept = loaded.traces.filter(
      (t) => t.source.label !== "attack" && (flags.split === undefined || t.source.split === flags.split),
    );
    if (kept.length === 0) {
      throw new HomeostatError("E_USAGE", "no normal traces to train on in the given inputs", {
        file: paths.join(" "),
      });
    }
    const detector = createDetector(spec.kind, spec.options);
    const t0 = performance.now();
    detector.train(kept.map((t) => t.calls));
    const seconds = (performance.now() - t0) / 1000;
    const bytes = encodeProfile({ detector, vocabulary: vocab });
    writeAtomically(flags.out, bytes);
    const summary = {
      profile: flags.out,
      model: formatModelSpec(detector.kind, detector.options),
      traces: kept.length,
      calls: detector.trainedCalls,
      excludedAttackTraces: attacks,
      vocabulary: vocab.size,
      trainSeconds: seconds,
      profileBytes: bytes.length,
      memoryBytes: detector.memoryBytes(),
    };
    if (flags.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
    else {
      process.stdout.write(
        `trained ${summary.model} on ${num(summary.traces)} traces (${num(summary.calls)} calls) in ` +
          `${seconds.toFixed(2)} s -> ${flags.out} (${num(summary.profileBytes)} bytes)\n` +
          (attacks > 0 ? `left out ${num(attacks)} traces labelled attack\n` : ""),
      );
    }
    ctx.exitCode = 0;
  });
}
