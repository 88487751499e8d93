// The work of `homeostat scenarios build|list` (registered in ../commands/scenarios.ts).

import { HomeostatError } from "../../errors.js";
import { type BuildProgress, buildScenarios } from "../../scenarios/build.js";
import type { ScenariosManifest } from "../../scenarios/manifest.js";
import { SCENARIOS } from "../../scenarios/registry.js";
import { onStopSignals } from "../commandArgs.js";
import type { CliContext } from "../context.js";
import { paint, progress, table } from "../terminal.js";

export interface ScenariosBuildFlags {
  seed: number;
  size: string;
  programs?: string;
  jobs: number;
  json?: boolean;
}

/** The --programs list: comma-separated names, none empty. */
function programList(text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  const names = text.split(",").map((s) => s.trim());
  if (names.some((n) => n === "")) throw new HomeostatError("E_USAGE", `--programs: an empty name in "${text}"`);
  return names;
}

export async function runScenariosBuild(outDir: string, flags: ScenariosBuildFlags, ctx: CliContext): Promise<void> {
  const programs = programList(flags.programs);
  const abort = new AbortController();
  const removeHandlers = onStopSignals(() =>
    abort.abort(new HomeostatError("E_IO", "interrupted: the build was stopped")),
  );
  const bar = progress("recording", 1);
  let done = 0;
  let total = 0;
  const onProgress = (e: BuildProgress): void => {
    if (e.kind === "skipped") process.stderr.write(`homeostat: skipping ${e.program}: ${e.reason}\n`);
    if (e.kind === "program") total += e.recordings;
    if (e.kind === "recording") done++;
    if (e.kind === "recording" || e.kind === "program")
      bar.update(done, total, e.kind === "recording" ? e.recording : e.program);
  };
  let manifest: ScenariosManifest;
  try {
    manifest = await buildScenarios({
      outDir,
      seed: flags.seed,
      size: flags.size,
      jobs: flags.jobs,
      onProgress,
      signal: abort.signal,
      ...(programs !== undefined ? { programs } : {}),
    });
  } finally {
    bar.stop();
    removeHandlers();
  }
  if (flags.json) process.stdout.write(`${JSON.stringify(manifest, null, 2)}\n`);
  else printManifest(outDir, manifest);
  ctx.exitCode = 0;
}

function printManifest(outDir: string, m: ScenariosManifest): void {
  const rows = m.programs.map((p) => [
    p.name,
    p.image,
    p.recordings.training,
    p.recordings.validation,
    p.recordings.testNormal,
    p.recordings.testAttack,
    p.calls,
    p.attacks.join(", "),
    p.seconds,
  ]);
  const header = ["program", "image", "train", "val", "normal", "attack", "calls", "attacks", "seconds"];
  process.stdout.write(`${table(header, rows)}\n`);
  for (const s of m.skipped) process.stdout.write(`${paint("skipped", "yellow")} ${s.name}: ${s.reason}\n`);
  process.stdout.write(
    `\n${m.programs.length} programs (seed ${m.seed}, size ${m.size}) in ${m.seconds} s: ${outDir}\n`,
  );
}

interface ScenarioRow {
  name: string;
  attacks: string[];
  dataOnlyAttacks: string[];
  available: boolean;
  image?: string;
  reason?: string;
}

export function runScenariosList(flags: { json?: boolean }): void {
  const rows = SCENARIOS.map((s): ScenarioRow => {
    const reason = s.unavailable();
    const row: ScenarioRow = {
      name: s.name,
      attacks: [...s.attacks],
      dataOnlyAttacks: [...s.dataOnlyAttacks],
      available: reason === undefined,
    };
    if (reason === undefined) row.image = s.image();
    else row.reason = reason;
    return row;
  });
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    return;
  }
  const lines = rows.map((r) => [r.name, r.available ? (r.image ?? "") : `skipped: ${r.reason}`, r.attacks.join(", ")]);
  process.stdout.write(`${table(["program", "image", "attacks"], lines)}\n`);
}
