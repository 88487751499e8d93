// The work of `homeostat train` (registered in ../commands/train.ts). Models that learn call by call (stide,
// t-stide, lookahead pairs, n-gram) train as the input is read, in memory bounded by the model; models that need
// whole traces (HMM) hold them, within --max-held-calls.

import { canTrainStreaming, type StreamTrainable, TraceStreamTrainer } from "../../detect/traceStreamTrainer.js";
import { HomeostatError } from "../../errors.js";
import type { SourceInfo } from "../../ingest/event.js";
import { loadTraces } from "../../ingest/loadTraces.js";
import { readTraces } from "../../ingest/reader.js";
import { StreamChunker } from "../../ingest/streamChunker.js";
import type { Detector } from "../../models/detector.js";
import { encodeProfile } from "../../models/profile.js";
import { createDetector, formatModelSpec, parseModelSpec } from "../../models/registry.js";
import { Vocabulary } from "../../syscalls/vocabulary.js";
import type { CliContext } from "../context.js";
import { DEFAULT_MAX_HELD_CALLS, type InputFlags, inputReadOptions } from "../inputOptions.js";
import { writeAtomically } from "../partialOutput.js";
import { num, progress } from "../terminal.js";

export interface TrainFlags extends InputFlags {
  model: string;
  set?: string[];
  out: string;
  split?: string;
  json?: boolean;
  maxHeldCalls?: number;
}

/** What training saw: traces learnt, attack traces left out, seconds in the model's own code. */
interface Trained {
  traces: number;
  attacks: number;
  seconds: number;
}

export async function runTrain(paths: string[], flags: TrainFlags, ctx: CliContext): Promise<void> {
  const spec = parseModelSpec(
    flags.set && flags.set.length > 0
      ? `${flags.model}${flags.model.includes(":") ? "," : ":"}${flags.set.join(",")}`
      : flags.model,
  );
  const detector = createDetector(spec.kind, spec.options);
  const vocab = new Vocabulary();
  // Attack traces never train a model of normal: a labelled data set passed whole is filtered, and said so.
  const keep = (s: SourceInfo): boolean =>
    s.label !== "attack" && (flags.split === undefined || s.split === flags.split);
  const bar = progress("reading", 1, !flags.json);
  let trained: Trained;
  try {
    const onProgress = (p: { entries: number }): void => bar.update(p.entries, p.entries + 1);
    const read = { ...inputReadOptions(flags), onProgress };
    trained = canTrainStreaming(detector)
      ? await trainStreaming(detector, paths, vocab, keep, read)
      : await trainWhole(detector, paths, vocab, keep, { ...read, maxCalls: flags.maxHeldCalls });
  } finally {
    bar.stop();
  }
  const bytes = encodeProfile({ detector, vocabulary: vocab });
  writeAtomically(flags.out, bytes);
  const summary = {
    profile: flags.out,
    model: formatModelSpec(detector.kind, detector.options),
    traces: trained.traces,
    calls: detector.trainedCalls,
    excludedAttackTraces: trained.attacks,
    vocabulary: vocab.size,
    trainSeconds: trained.seconds,
    profileBytes: bytes.length,
    memoryBytes: detector.memoryBytes(),
  };
  if (flags.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
  else {
    process.stdout.write(
      `trained ${summary.model} on ${num(summary.traces)} traces (${num(summary.calls)} calls) in ` +
        `${trained.seconds.toFixed(2)} s -> ${flags.out} (${num(summary.profileBytes)} bytes)\n` +
        (trained.attacks > 0 ? `left out ${num(trained.attacks)} traces labelled attack\n` : ""),
    );
  }
  ctx.exitCode = 0;
}

type ReadFlags = ReturnType<typeof inputReadOptions> & { onProgress: (p: { entries: number }) => void };

function noTraces(paths: string[]): HomeostatError {
  return new HomeostatError("E_USAGE", "no normal traces to train on in the given inputs", { file: paths.join(" ") });
}

/** Learns while reading: nothing of the input is kept beyond a bounded batch of short traces. */
async function trainStreaming(
  detector: StreamTrainable,
  paths: string[],
  vocab: Vocabulary,
  keep: (s: SourceInfo) => boolean,
  read: ReadFlags,
): Promise<Trained> {
  const trainer = new TraceStreamTrainer(detector, keep);
  await readTraces(paths, { ...read, vocab, sink: new StreamChunker(trainer) });
  trainer.finish();
  if (trainer.traces === 0) throw noTraces(paths);
  return { traces: trainer.traces, attacks: trainer.attackTraces, seconds: trainer.seconds };
}

/** Holds every trace, then trains once: for models that fit on whole traces (HMM). */
async function trainWhole(
  detector: Detector,
  paths: string[],
  vocab: Vocabulary,
  keep: (s: SourceInfo) => boolean,
  read: ReadFlags & { maxCalls: number | undefined },
): Promise<Trained> {
  const loaded = await loadTraces(paths, vocab, {
    ...read,
    maxCalls: read.maxCalls ?? DEFAULT_MAX_HELD_CALLS,
    heldFor: `the ${detector.kind} model trains on whole traces`,
  });
  const attacks = loaded.traces.filter((t) => t.source.label === "attack").length;
  const kept = loaded.traces.filter((t) => keep(t.source));
  if (kept.length === 0) throw noTraces(paths);
  const t0 = performance.now();
  detector.train(kept.map((t) => t.calls));
  return { traces: kept.length, attacks, seconds: (performance.now() - t0) / 1000 };
}
