// The demo's training (Forrest et al. 1996): normal sessions recorded under strace over several server runs, each
// demo model trained on them, and its alarm threshold set to the largest locality frame count it reaches on more
// normal sessions: normal data only, nothing about the exploit.

import path from "node:path";
import { TraceAccumulator } from "../detect/traceScore.js";
import { HomeostatError } from "../errors.js";
import { type Trace, TraceCollector } from "../ingest/traceCollector.js";
import type { Detector } from "../models/detector.js";
import { createDetector } from "../models/registry.js";
import { type DemoBench, underCapture } from "./demoBench.js";
import { runNormalWorkload } from "./normalClient.js";

export const DEMO_MODELS = ["stide", "lookahead", "ngram"] as const;

/** Server runs the training and calibration sessions are spread over. */
const RUNS = 8;

/** A trained model and its alarm threshold. */
export interface TrainedModel {
  kind: string;
  detector: Detector;
  threshold: number;
}

/** Sessions of each phase: training, threshold calibration, held-out normal. */
export interface SessionCounts {
  train: number;
  calibrate: number;
  held: number;
}

/** The models trained on normal sessions, with the traces they learnt from. */
export interface Training {
  training: Trace[];
  trainingCalls: number;
  detectors: TrainedModel[];
}

/** Records normal sessions, trains the models on them and sets their thresholds on more normal sessions. */
export async function trainOnNormal(bench: DemoBench, counts: SessionCounts, seed: number): Promise<Training> {
  const { say } = bench;
  say(`recording ${counts.train} normal sessions under strace (${runsOf(counts.train)} server runs)`);
  const training = await recordRuns(bench, counts.train, seed, "data-train");
  say(
    `recording ${counts.calibrate} more normal sessions (${runsOf(counts.calibrate)} runs) to set the alarm thresholds`,
  );
  const calibration = await recordRuns(bench, counts.calibrate, seed + 1000, "data-calibrate");
  const detectors = trainModels(training, calibration);
  const trainingCalls = training.reduce((a, t) => a + t.calls.length, 0);
  say(
    `trained ${DEMO_MODELS.join(", ")} on ${training.length} traces (${trainingCalls} calls); thresholds (max LFC on ` +
      `normal calibration sessions): ${detectors.map((d) => `${d.kind} ${d.threshold}`).join(", ")}`,
  );
  return { training, trainingCalls, detectors };
}

/** Server runs `sessions` are spread over. */
function runsOf(sessions: number): number {
  return Math.max(1, Math.min(RUNS, Math.floor(sessions / 2)));
}

/**
 * Records normal sessions spread over several server runs: the listening process's own trace (accepting, forking
 * and reaping children from a SIGCHLD handler) interleaves differently each run, and each run is one sample of it.
 */
async function recordRuns(bench: DemoBench, sessions: number, firstSeed: number, dir: string): Promise<Trace[]> {
  const runs = runsOf(sessions);
  const traces: Trace[] = [];
  for (let i = 0; i < runs; i++) {
    const n = Math.floor(sessions / runs) + (i < sessions % runs ? 1 : 0);
    if (n === 0) continue;
    const collector = new TraceCollector();
    await underCapture(bench.binary, path.join(bench.work, `${dir}-${i}`), bench.vocab, collector, async (port) => {
      const report = await runNormalWorkload({ port, sessions: n, seed: firstSeed + i });
      if (report.mismatches.length > 0) {
        throw new HomeostatError("E_IO", `the demo server answered wrongly: ${report.mismatches[0]}`);
      }
    });
    traces.push(...collector.traces);
  }
  return traces;
}

/** Each demo model trained on the training traces, its threshold the largest LFC of the calibration traces. */
function trainModels(training: Trace[], calibration: Trace[]): TrainedModel[] {
  return DEMO_MODELS.map((kind) => {
    const detector = createDetector(kind);
    detector.train(training.map((t) => t.calls));
    let threshold = 0;
    for (const t of calibration) for (const v of lfcSeries(detector, t.calls)) if (v > threshold) threshold = v;
    return { kind, detector, threshold };
  });
}

/** Per-call LFC of one trace, by the same accumulator live scoring uses. */
export function lfcSeries(detector: Detector, calls: Uint16Array): number[] {
  const acc = new TraceAccumulator(detector.signal, {});
  const state = detector.newState();
  const out: number[] = [];
  for (const c of calls) out.push(acc.add(detector.step(state, c)));
  return out;
}
