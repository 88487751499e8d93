// `homeostat scenarios build` as a library: records every selected program's scenario into OUT_DIR (layout.ts),
// a few programs at a time, and writes the manifest last. Programs that are not installed are skipped with their
// reason; any failed recording fails the build, stops every other program's processes, and leaves OUT_DIR as it
// was found. Library code: progress goes to a callback, the manifest is returned; nothing is printed.

import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import path from "node:path";
import { requireStrace } from "../capture/straceCapture.js";
import { HomeostatError } from "../errors.js";
import { homeostatVersion } from "../models/profile.js";
import { abandonOutDir, openOutDir, writeJson } from "./layout.js";
import {
  MANIFEST_FILE,
  MANIFEST_SCHEMA,
  type ProgramEntry,
  type ScenariosManifest,
  type SkippedEntry,
} from "./manifest.js";
import { ProcessGroups } from "./processGroups.js";
import { recordOne } from "./recording.js";
import { selectScenarios } from "./registry.js";
import { actionsPerRecording, recordingSpecs, type ScenarioSize, sizeByName } from "./sizes.js";
import type { Scenario } from "./types.js";

export type BuildProgress =
  | { kind: "skipped"; program: string; reason: string }
  | { kind: "program"; program: string; recordings: number }
  | { kind: "recording"; program: string; recording: string; done: number; total: number }
  | { kind: "done"; program: string; seconds: number };

export interface BuildOptions {
  outDir: string;
  seed?: number;
  size?: string;
  /** Program names (default: every scenario). */
  programs?: readonly string[];
  /** Programs recorded at the same time (default 2). */
  jobs?: number;
  onProgress?: (event: BuildProgress) => void;
  signal?: AbortSignal;
}

/** What every program's build shares. */
interface BuildContext {
  outDir: string;
  scratch: string;
  seed: number;
  size: ScenarioSize;
  groups: ProcessGroups;
  signal: AbortSignal;
  progress: (event: BuildProgress) => void;
}

export async function buildScenarios(options: BuildOptions): Promise<ScenariosManifest> {
  const started = performance.now();
  const startedAt = new Date().toISOString();
  const loadStart = loadavg()[0]!;
  const size = sizeByName(options.size ?? "default");
  const scenarios = selectScenarios(options.programs);
  requireStrace();
  const out = openOutDir(options.outDir);
  const stop = new AbortController();
  const groups = new ProcessGroups();
  const onAbort = (): void => stop.abort(options.signal?.reason);
  options.signal?.addEventListener("abort", onAbort);
  stop.signal.addEventListener("abort", () => groups.killAll());
  const scratch = mkdtempSync(path.join(tmpdir(), "homeostat-scenarios-"));
  // Servers' workers and CGI scripts may run as nobody (nginx, http.server as root): they must reach their files.
  chmodSync(scratch, 0o755);
  const progress = options.onProgress ?? (() => {});
  const ctx: BuildContext = {
    outDir: out.root,
    scratch,
    seed: options.seed ?? 1,
    size,
    groups,
    signal: stop.signal,
    progress,
  };
  try {
    const { available, skipped } = partition(scenarios, progress);
    const programs = await inPool(available, options.jobs ?? 2, stop, (s) => buildProgram(s, ctx));
    const manifest = manifestOf(ctx, options, startedAt, programs, skipped);
    manifest.seconds = Number(((performance.now() - started) / 1000).toFixed(1));
    manifest.host = { cpus: cpus().length, loadStart: round2(loadStart), loadEnd: round2(loadavg()[0]!) };
    writeJson(path.join(out.root, MANIFEST_FILE), manifest);
    return manifest;
  } catch (err) {
    stop.abort(err);
    abandonOutDir(out);
    throw err;
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
    groups.killAll();
    rmSync(scratch, { recursive: true, force: true });
  }
}

const round2 = (x: number): number => Number(x.toFixed(2));

/** The scenarios that can run here, and those that cannot, with why. */
function partition(
  scenarios: readonly Scenario[],
  progress: (e: BuildProgress) => void,
): { available: Scenario[]; skipped: SkippedEntry[] } {
  const available: Scenario[] = [];
  const skipped: SkippedEntry[] = [];
  for (const s of scenarios) {
    const reason = s.unavailable();
    if (reason === undefined) available.push(s);
    else {
      skipped.push({ name: s.name, reason });
      progress({ kind: "skipped", program: s.name, reason });
    }
  }
  return { available, skipped };
}

/** Runs `work` over `items`, at most `jobs` at a time, in order of results; the first failure aborts the rest. */
async function inPool<T, R>(
  items: readonly T[],
  jobs: number,
  stop: AbortController,
  work: (t: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length && !stop.signal.aborted) {
      const i = next++;
      try {
        results[i] = await work(items[i]!);
      } catch (err) {
        stop.abort(err);
        throw err;
      }
    }
  };
  const settled = await Promise.allSettled(Array.from({ length: Math.max(1, jobs) }, worker));
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
  if (failed !== undefined) throw firstCause(stop, failed.reason);
  if (stop.signal.aborted) throw interrupted(stop.signal.reason);
  return results;
}

/** The error that stopped the build: the first failure, not the aftermath of killing the others' processes. */
function firstCause(stop: AbortController, fallback: unknown): unknown {
  const reason: unknown = stop.signal.reason;
  return reason instanceof Error ? reason : fallback;
}

function interrupted(reason: unknown): Error {
  return reason instanceof Error ? reason : new HomeostatError("E_IO", "the build was interrupted");
}

/** Every recording of one program, in split order. */
async function buildProgram(scenario: Scenario, ctx: BuildContext): Promise<ProgramEntry> {
  const started = performance.now();
  const specs = recordingSpecs(scenario, ctx.seed, ctx.size);
  ctx.progress({ kind: "program", program: scenario.name, recordings: specs.length });
  const scratch = path.join(ctx.scratch, scenario.name);
  const image = scenario.image();
  const session = await scenario.prepare(scratch);
  let calls = 0;
  try {
    for (const [k, spec] of specs.entries()) {
      if (ctx.signal.aborted) throw interrupted(ctx.signal.reason);
      const facts = await recordOne(scenario, session, spec, {
        outDir: ctx.outDir,
        scratch,
        image,
        groups: ctx.groups,
      });
      calls += facts.calls;
      rmSync(path.join(scratch, spec.name), { recursive: true, force: true });
      ctx.progress({
        kind: "recording",
        program: scenario.name,
        recording: spec.name,
        done: k + 1,
        total: specs.length,
      });
    }
  } finally {
    await session.close();
  }
  const seconds = Number(((performance.now() - started) / 1000).toFixed(1));
  ctx.progress({ kind: "done", program: scenario.name, seconds });
  const count = (split: string): number => specs.filter((s) => s.split === split).length;
  return {
    name: scenario.name,
    image,
    recordings: {
      training: count("training"),
      validation: count("validation"),
      testNormal: count("test/normal"),
      testAttack: count("test/normal_and_attack"),
    },
    attacks: [...new Set(specs.flatMap((s) => (s.attack === undefined ? [] : [s.attack])))],
    dataOnlyAttacks: [...scenario.dataOnlyAttacks],
    actionsPerRecording: actionsPerRecording(scenario, ctx.size),
    calls,
    seconds,
  };
}

function manifestOf(
  ctx: BuildContext,
  options: BuildOptions,
  startedAt: string,
  programs: ProgramEntry[],
  skipped: SkippedEntry[],
): ScenariosManifest {
  return {
    schema: MANIFEST_SCHEMA,
    seed: ctx.seed,
    size: options.size ?? "default",
    homeostatVersion: homeostatVersion(),
    startedAt,
    seconds: 0,
    jobs: options.jobs ?? 2,
    host: { cpus: 0, loadStart: 0, loadEnd: 0 },
    strace: "strace -f -ttt -q -o FILE --",
    programs,
    skipped,
  };
}
