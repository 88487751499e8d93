// homeostat's main job, end to end, on the intentionally vulnerable demo server (demo/kvserver.c): the seeds' own
// experiment (Forrest et al. 1996; Jalaly's planted-overflow evaluation). Build the target; record normal sessions
// under strace; train stide, lookahead pairs and the n-gram model; set each model's alarm threshold from more
// normal sessions (the largest locality frame count they reach: normal data only, nothing about the exploit); then
// watch held-out normal sessions (which should raise no alarm) and the exploit (which should) live, call by call.
// Library code: progress goes to a callback, results come back as data; the CLI prints. The steps have their files
// (demoBench.ts, demoTraining.ts, demoLive.ts, demoTimeline.ts); this one runs them in order and sums them up.
import { existsSync } from "node:fs";
import path from "node:path";
import { analyzeProgram, defaultCacheDir, directoryCache, type StaticModel, staticProfile } from "../static/index.js";
import { Vocabulary } from "../syscalls/vocabulary.js";
import type { DemoBench } from "./demoBench.js";
import { type LiveRun, type Watched, watchHeldAndExploit } from "./demoLive.js";
import { type DemoMimicryTable, exploitMimicry, type MimicryModel } from "./demoMimicry.js";
import type { DemoResult } from "./demoResult.js";
import { timelines } from "./demoTimeline.js";
import { type SessionCounts, type TrainedModel, type Training, trainOnNormal } from "./demoTraining.js";
import { buildTarget } from "./target.js";
import { checkAgainstStatic, type DemoStatic, describeStaticModel } from "./staticCheck.js";

export { listening } from "./demoBench.js";
export { freePort } from "./freePort.js";
export type { DemoAlarm, DemoModelResult, DemoResult, TimelinePoint } from "./demoResult.js";
export { DEMO_MODELS } from "./demoTraining.js";

export interface DemoOptions {
  /** A scratch folder (the target binary, its data, the exploit's proof file). */
  workDir: string;
  trainingSessions?: number;
  calibrationSessions?: number;
  heldOutSessions?: number;
  seed?: number;
  compiler?: string;
  /** Build-id cache of the static analysis' per-object summaries (default: `homeostat static`'s, ~/.cache). */
  staticCacheDir?: string;
  onStep?: (message: string) => void;
}

export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const started = performance.now();
  const say = options.onStep ?? (() => {});
  const seed = options.seed ?? 1;
  const counts: SessionCounts = {
    train: options.trainingSessions ?? 64,
    calibrate: options.calibrationSessions ?? 32,
    held: options.heldOutSessions ?? 10,
  };
  say("building the intentionally vulnerable target (demo/kvserver.c)");
  const binary = await buildTarget(path.join(options.workDir, "bin"), options.compiler);
  const bench: DemoBench = { binary, work: options.workDir, vocab: new Vocabulary(), say };
  const analysis = analyseTarget(bench, options.staticCacheDir);
  const trained = await trainOnNormal(bench, counts, seed);
  const watched = await watchHeldAndExploit(bench, trained.detectors, counts.held, seed);
  const sessions = timelines(bench.vocab, trained.detectors, watched.held, watched.attacked);
  const staticModel = staticVerdict(analysis.model, bench, watched);
  const mimicry = mimicryOfExploit(bench, trained.detectors, analysis.model, watched.attacked);
  return {
    ...outcome(counts, trained, watched),
    ...sessions,
    staticModel,
    mimicry,
    ...(analysis.staticError === undefined ? {} : { staticError: analysis.staticError }),
    seconds: (performance.now() - started) / 1000,
  };
}

/** The static model's verdict on both live runs; null when the binary could not be analysed. */
function staticVerdict(model: StaticModel | undefined, bench: DemoBench, watched: Watched): DemoStatic | null {
  if (model === undefined) return null;
  const { held, attacked } = watched;
  return {
    ...describeStaticModel(model),
    normal: checkAgainstStatic(model, bench.binary, held.traces, held.images, bench.vocab),
    exploit: checkAgainstStatic(model, bench.binary, attacked.traces, attacked.images, bench.vocab),
  };
}

/** Each trained model's, and the static set model's, answer to the mimicry question for the exploit's execve. */
function mimicryOfExploit(
  bench: DemoBench,
  detectors: TrainedModel[],
  model: StaticModel | undefined,
  attacked: LiveRun,
): DemoMimicryTable | null {
  bench.say("searching, for each model, the shortest call sequence that would run the shell's execve unseen");
  const models: MimicryModel[] = detectors.map((d) => ({
    name: d.kind,
    detector: d.detector,
    vocabulary: bench.vocab,
  }));
  if (model !== undefined) models.push({ name: "static (set)", ...staticProfile(model) });
  return exploitMimicry(models, attacked.traces, attacked.images, bench.vocab);
}

/** What the trained models made of the live runs, per model and in all. */
function outcome(
  counts: SessionCounts,
  trained: Training,
  { held, attacked, proof }: Watched,
): Omit<DemoResult, "timeline" | "timelinePids" | "staticModel" | "staticError" | "mimicry" | "seconds"> {
  return {
    exploitDetected: attacked.alarms.length > 0,
    exploitSucceeded: existsSync(proof),
    falseAlarms: held.alarms.length,
    normalSessions: counts.train,
    calibrationSessions: counts.calibrate,
    heldOutSessions: counts.held,
    trainingTraces: trained.training.length,
    trainingCalls: trained.trainingCalls,
    firstAlarm: attacked.alarms[0] ?? null,
    alarms: [...held.alarms, ...attacked.alarms],
    models: trained.detectors.map((d) => ({
      model: d.kind,
      profileBytes: d.detector.serialize().length,
      threshold: d.threshold,
      falseAlarms: held.alarms.filter((a) => a.model === d.kind).length,
      exploitAlarms: attacked.alarms.filter((a) => a.model === d.kind).length,
    })),
  };
}

/** The static model of the server binary with its libraries: no training (Wagner & Dean). */
function analyseTarget(bench: DemoBench, cacheDir: string | undefined): { model?: StaticModel; staticError?: string } {
  bench.say("analysing the server binary with its libraries: the static model, no training (Wagner & Dean)");
  try {
    const model = analyzeProgram(bench.binary, { cache: directoryCache(cacheDir ?? defaultCacheDir()) });
    const m = describeStaticModel(model);
    bench.say(
      `static model: ${m.syscalls} system calls, ${m.complete ? "complete" : "INCOMPLETE"}, ` +
        `${(m.analysisMilliseconds / 1000).toFixed(1)} s (${m.cachedObjects} of ${m.objects} objects from the cache)`,
    );
    return { model };
  } catch (err) {
    const staticError = err instanceof Error ? err.message : String(err);
    bench.say(`static model: not available (${staticError})`);
    return { staticError };
  }
}
