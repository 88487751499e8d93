// The scenarios protocol: homeostat's benchmark of real programs recorded under strace (`homeostat scenarios
// build`), one LID-DS 2021-style scenario per program. Each program is evaluated on its own with LID-DS 2021's
// protocol (Grimmer et al. 2021; protocol.ts's liddsExperiment): a fresh model per program, as pH keeps one profile
// per program (Somayaji & Forrest 2000), trained on its training recordings, its threshold set on its validation
// recordings, tested on its test recordings with each attack recording's exploit time from its sidecar. The same
// models and options run on every program; the summary averages each figure over programs (scenariosSummary.ts).
// An attack recording's type is its exploit's name (its sidecar's `exploit_name`), not the program's, so that the
// per-attack figures say which attacks a model misses, and the summary can set the data-only ones apart.
// Free of I/O: the caller loads one program's traces at a time and hands them here.

import { HomeostatError } from "../errors.js";
import type { ScenarioProgram } from "../ingest/scenariosLayout.js";
import type { Trace } from "../ingest/traceCollector.js";
import { liddsExperiment, type ProtocolData, type ProtocolOptions } from "./protocol.js";

/** The protocol in one paragraph, for the JSON, the terminal and the report. */
export const SCENARIOS_DESCRIPTION =
  "homeostat scenarios: real programs recorded under strace, one LID-DS 2021-style scenario per program. Each " +
  "program gets its own model (as pH keeps a profile per program), trained on its training recordings, its " +
  "threshold set on its validation recordings, tested on its test recordings (LID-DS protocol, Grimmer et al. " +
  "2021); the summary's means are macro-averages over programs.";

/** The promises the summary adds to each program's. */
export function scenariosRules(programs: number): string[] {
  return [
    "Every program runs the same models with the same options; each program's model sees only that program's " +
      "recordings.",
    `Summary means are macro-averages over the ${programs} programs: each program weighs the same, whatever its ` +
      "number of recordings; the minimum and maximum name their program. Figures undefined for a program " +
      "(e.g. a delay with nothing detected) are left out of that figure's mean, which says over how many programs it is.",
  ];
}

/** Throws E_FORMAT naming the program's folder. */
function formatError(program: ScenarioProgram, message: string): HomeostatError {
  return new HomeostatError("E_FORMAT", `program "${program.name}": ${message}`, { file: program.dir });
}

/**
 * One program's LID-DS experiment from its traces (loaded from its folder with LID-DS labels). E_FORMAT naming the
 * file when a recording has no labels (no sidecar: it would silently drop out of every split), and naming the folder
 * when a split is empty or the test recordings lack a normal or an attack recording.
 */
export function scenarioExperiment(
  program: ScenarioProgram,
  traces: readonly Trace[],
  options: ProtocolOptions = {},
): ProtocolData {
  const unlabelled = traces.find((t) => t.source.split === undefined);
  if (unlabelled !== undefined) {
    throw new HomeostatError(
      "E_FORMAT",
      `program "${program.name}": a recording outside training/, validation/ and test/, or without its ` +
        "<rec>.json sidecar (a LID-DS 2021 recording json), has no label",
      { file: unlabelled.source.path },
    );
  }
  let data: ProtocolData;
  try {
    data = liddsExperiment(traces, options);
  } catch (err) {
    if (err instanceof HomeostatError && err.code === "E_FORMAT") throw formatError(program, err.message);
    throw err;
  }
  const attacks = data.test.filter((u) => u.attack).length;
  if (attacks === 0) {
    throw formatError(
      program,
      'no attack recording among its test recordings (test/normal_and_attack/ sidecars must say "exploit": true)',
    );
  }
  if (attacks === data.test.length) throw formatError(program, "no normal recording among its test recordings");
  typeByExploit(data, traces);
  return data;
}

/** Sets each attack unit's type to its recording's exploit name, where its sidecar gives one. */
function typeByExploit(data: ProtocolData, traces: readonly Trace[]): void {
  const exploitOf = new Map<string, string>();
  for (const t of traces) {
    const name = t.source.meta?.exploitName;
    if (typeof name === "string" && name !== "") exploitOf.set(t.source.path, name);
  }
  for (const u of data.test) {
    const name = u.attack ? exploitOf.get(u.name) : undefined;
    if (name !== undefined) u.attackType = name;
  }
}

/** Attack test units with no exploit time (their attack is taken to start at their first call). */
export function untimedAttacks(data: ProtocolData): number {
  return data.test.filter((u) => u.attack && u.attackTime === undefined).length;
}
