// The work of `homeostat train` (registered in ../commands/train.ts).

import { HomeostatError } from "../../errors.js";
import { loadTraces } from "../../ingest/loadTraces.js";
import { encodeProfile } from "../../models/profile.js";
import { createDetector, formatModelSpec, parseModelSpec } from "../../models/registry.js";
import { Vocabulary } from "../../syscalls/vocabulary.js";
import type { CliContext } from "../context.js";
import { type InputFlags, inputReadOptions } from "../inputOptions.js";
import { writeAtomically } from "../partialOutput.js";
import { num, progress } from "../terminal.js";

export interface TrainFlags extends InputFlags {
  model: string;
  set?: string[];
  out: string;
  split?: string;
  json?: boolean;
}

export async function runTrain(paths: string[], flags: TrainFlags, ctx: CliContext): Promise<void> {
  const spec = parseModelSpec(
    flags.set && flags.set.length > 0
      ? `${flags.model}${flags.model.includes(":") ? "," : ":"}${flags.set.join(",")}`
      : flags.model,
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
}
