// homeostat's main job, end to end, on the intentionally vulnerable demo server (demo/kvserver.c): the seeds' own
// experiment (Forrest et al. 1996; Jalaly's planted-overflow evaluation). Build the target; record normal sessions
// under strace; train stide, lookahead pairs and the n-gram model; set each model's alarm threshold from more
// normal sessions (the largest locality frame count they reach: normal data only, nothing about the exploit); then
// watch held-out normal sessions (which should raise no alarm) and the exploit (which should) live, call by call.
// Library code: progress goes to a callback, results come back as data; the CLI prints.
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { startStraceCapture } from "../capture/straceCapture.js";
import { alarmWindowTokens } from "../detect/alarm.js";
import { StreamScorer } from "../detect/streamScorer.js";
import { TraceAccumulator } from "../detect/traceScore.js";
import { HomeostatError } from "../errors.js";
import { type EventSink, TeeSink } from "../ingest/event.js";
import { type Trace, TraceCollector } from "../ingest/traceCollector.js";
import type { Detector } from "../models/detector.js";
import { createDetector } from "../models/registry.js";
import { analyzeProgram, defaultCacheDir, directoryCache, type StaticModel, staticProfile } from "../static/index.js";
import { Vocabulary } from "../syscalls/vocabulary.js";
import { type DemoMimicryTable, exploitMimicry, type MimicryModel } from "./demoMimicry.js";
import { runExploit } from "./exploitClient.js";
import { runNormalWorkload } from "./normalClient.js";
import { checkAgainstStatic, type DemoStatic, describeStaticModel, ImageTracker } from "./staticCheck.js";
import { buildTarget } from "./target.js";
export const DEMO_MODELS = ["stide", "lookahead", "ngram"] as const;

/** Server runs the training and calibration sessions are spread over. */
const RUNS = 8;

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
export interface DemoAlarm {
  model: string;
  pid: number;
  /** Call index within the process's trace. */
  position: number;
  lfc: number;
  threshold: number;
  /** The calls leading to the alarm, oldest first, as syscall names. */
  window: string[];
}
export interface DemoModelResult {
  model: string;
  profileBytes: number;
  /** Largest locality frame count over the calibration sessions: alarms fire above it. */
  threshold: number;
  falseAlarms: number;
  exploitAlarms: number;
}
export interface TimelinePoint {
  session: "normal" | "exploit";
  model: string;
  call: number;
  lfc: number;
  syscall: string;
}
export interface DemoResult {
  exploitDetected: boolean;
  /** The exploit really ran its command in the server (the proof file exists). */
  exploitSucceeded: boolean;
  falseAlarms: number;
  normalSessions: number;
  calibrationSessions: number;
  heldOutSessions: number;
  trainingTraces: number;
  trainingCalls: number;
  firstAlarm: DemoAlarm | null;
  alarms: DemoAlarm[];
  models: DemoModelResult[];
  timeline: TimelinePoint[];
  /** The processes the timeline shows. */
  timelinePids: { normal: number | null; exploit: number | null };
  /**
   * Zero training: the static set model of the server binary, and the calls its code made in the held-out and
   * the exploit runs that lie outside it. Null when the binary could not be analysed (`staticError` says why).
   */
  staticModel: DemoStatic | null;
  staticError?: string;
  /** What an attacker who knows each model must inject for the shell's execve to go unseen (Wagner & Soto). */
  mimicry: DemoMimicryTable | null;
  seconds: number;
}
/** A free TCP port on 127.0.0.1 (the kernel's choice, released for the server to bind). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}
/** Waits until something listens on 127.0.0.1:port (read from /proc, so no probe session is opened). */
export async function listening(port: number, timeoutMs = 10_000): Promise<void> {
  const needle = `0100007F:${port.toString(16).toUpperCase().padStart(4, "0")} 00000000:0000 0A`;
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (readFileSync("/proc/net/tcp", "utf8").includes(needle)) return;
    await new Promise<void>((r) => setTimeout(r, 20));
  }
  throw new HomeostatError("E_IO", `the demo server did not listen on port ${port} within ${timeoutMs} ms`);
}
/** Runs the server under strace with `sink`, does `work` against it, then stops it and waits for the capture. */
async function underCapture(
  binary: string,
  dataDir: string,
  vocab: Vocabulary,
  sink: EventSink,
  work: (port: number) => Promise<void>,
): Promise<void> {
  mkdirSync(dataDir, { recursive: true });
  const port = await freePort();
  const capture = startStraceCapture({
    command: [binary, String(port), dataDir],
    sink,
    vocab,
    programOutput: "ignore",
    graceMs: 2000,
  });
  try {
    await listening(port);
    await work(port);
  } finally {
    capture.stop();
    await capture.done;
  }
}
/** Per-call LFC of one trace, by the same accumulator live scoring uses. */
function lfcSeries(detector: Detector, calls: Uint16Array): number[] {
  const acc = new TraceAccumulator(detector.signal, {});
  const state = detector.newState();
  const out: number[] = [];
  for (const c of calls) out.push(acc.add(detector.step(state, c)));
  return out;
}
/** What every step of the demo shares: the target, its scratch folder, one vocabulary, the progress callback. */
interface DemoBench {
  binary: string;
  work: string;
  vocab: Vocabulary;
  say: (message: string) => void;
}

/** A trained model and its alarm threshold. */
interface TrainedModel {
  kind: string;
  detector: Detector;
  threshold: number;
}

/** What a live run saw: the alarms raised, the traces, the images each process mapped. */
interface LiveRun {
  alarms: DemoAlarm[];
  traces: Trace[];
  images: ImageTracker;
}

/** Sessions of each phase: training, threshold calibration, held-out normal. */
interface SessionCounts {
  train: number;
  calibrate: number;
  held: number;
}

/** The models trained on normal sessions, with the traces they learnt from. */
interface Training {
  training: Trace[];
  trainingCalls: number;
  detectors: TrainedModel[];
}

/** The two live runs: held-out normal sessions and the exploit, whose proof file tells whether it worked. */
interface Watched {
  held: LiveRun;
  attacked: LiveRun;
  proof: string;
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

/** Records normal sessions, trains the models on them and sets their thresholds on more normal sessions. */
async function trainOnNormal(bench: DemoBench, counts: SessionCounts, seed: number): Promise<Training> {
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

/** Watches held-out normal sessions, then the exploit, live against the trained models. */
async function watchHeldAndExploit(
  bench: DemoBench,
  detectors: TrainedModel[],
  nHeld: number,
  seed: number,
): Promise<Watched> {
  bench.say(`watching ${nHeld} held-out normal sessions live`);
  const held = await watchLive(bench, detectors, "data-held", async (port) => {
    await runNormalWorkload({ port, sessions: nHeld, seed: seed + 2000 });
  });
  bench.say("watching the exploit live (stack overflow over a function pointer, then system() in the server)");
  const proof = path.join(bench.work, "pwned");
  rmSync(proof, { force: true });
  const attacked = await watchLive(bench, detectors, "data-exploit", async (port) => {
    await runExploit({ port, binary: bench.binary, command: `id > ${proof}` });
  });
  return { held, attacked, proof };
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

/** Runs `job` against the server under capture, scoring every call live with every model. */
async function watchLive(
  bench: DemoBench,
  detectors: TrainedModel[],
  dir: string,
  job: (port: number) => Promise<void>,
): Promise<LiveRun> {
  const alarms: DemoAlarm[] = [];
  const collector = new TraceCollector();
  const images = new ImageTracker(bench.vocab);
  const scorers = detectors.map(
    (d) =>
      new StreamScorer(d.detector, {
        alarm: { measure: "lfc", threshold: d.threshold },
        context: 12,
        onAlarm: (a) =>
          alarms.push({
            model: d.kind,
            pid: a.stream,
            position: a.position,
            lfc: a.lfc,
            threshold: a.threshold,
            window: alarmWindowTokens(a, bench.vocab),
          }),
      }),
  );
  const scoring: EventSink = {
    beginSource() {},
    call(stream: number, syscall: number) {
      for (const s of scorers) s.push(stream, syscall);
    },
    note() {},
    endSource() {},
  };
  const sink = new TeeSink([scoring, collector, images]);
  await underCapture(bench.binary, path.join(bench.work, dir), bench.vocab, sink, job);
  return { alarms, traces: collector.traces, images };
}

/**
 * Per-call LFC timelines of two sessions: the busiest held-out session, and the exploited process with the most
 * alarms (the hijacked session or the shell it spawned), which tells the story better than the first alarm (usually
 * one of the exploit's short leak sessions).
 */
function timelines(
  vocab: Vocabulary,
  detectors: TrainedModel[],
  held: LiveRun,
  attacked: LiveRun,
): Pick<DemoResult, "timeline" | "timelinePids"> {
  const busiest = busiestSession(held.traces);
  const alarmsByPid = new Map<number, number>();
  for (const a of attacked.alarms) alarmsByPid.set(a.pid, (alarmsByPid.get(a.pid) ?? 0) + 1);
  let loudest = attacked.alarms[0]?.pid;
  for (const [pid, n] of alarmsByPid) if (n >= (alarmsByPid.get(loudest!) ?? 0)) loudest = pid;
  const exploited =
    loudest !== undefined ? attacked.traces.find((t) => t.stream === loudest) : busiestSession(attacked.traces);
  const timeline: TimelinePoint[] = [];
  for (const [session, trace] of [
    ["normal", busiest],
    ["exploit", exploited],
  ] as const) {
    if (trace === undefined) continue;
    for (const d of detectors) {
      lfcSeries(d.detector, trace.calls).forEach((lfc, call) =>
        timeline.push({ session, model: d.kind, call, lfc, syscall: vocab.token(trace.calls[call]!) }),
      );
    }
  }
  return { timeline, timelinePids: { normal: busiest?.stream ?? null, exploit: exploited?.stream ?? null } };
}

/** The session with the most calls, past the first trace (the listening server's own). */
function busiestSession(traces: Trace[]): Trace | undefined {
  let best: Trace | undefined;
  for (const t of traces.slice(1)) if (best === undefined || t.calls.length > best.calls.length) best = t;
  return best;
}
