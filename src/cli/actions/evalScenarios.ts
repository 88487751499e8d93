// The work of `homeostat eval --dataset scenarios --data DIR` (registered in ../commands/eval.ts): homeostat's
// benchmark of real programs, one LID-DS 2021-style scenario per program (src/ingest/scenariosLayout.ts). Each
// program is loaded, evaluated with the LID-DS protocol (src/eval/scenariosProtocol.ts) by the same steps as
// `eval --dataset lid-ds` on its folder (./eval.ts), and let go before the next one is read, so memory holds one
// program at a time. Then the summary across programs (src/eval/scenariosSummary.ts), and the outputs: the terminal
// tables, --json (docs/eval-json.md) and --report.

import { HomeostatError } from "../../errors.js";
import { toJsonSafe } from "../../eval/metricJson.js";
import {
  scenarioExperiment,
  SCENARIOS_DESCRIPTION,
  scenariosRules,
  untimedAttacks,
} from "../../eval/scenariosProtocol.js";
import { type ProgramResult, SCENARIOS_EVAL_SCHEMA, type ScenariosEvalResult } from "../../eval/scenariosResult.js";
import { summarizeScenarios } from "../../eval/scenariosSummary.js";
import { readScenariosLayout, type ScenarioProgram, type ScenariosLayout } from "../../ingest/scenariosLayout.js";
import { renderScenariosReport } from "../../report/scenariosReport.js";
import { Vocabulary } from "../../syscalls/vocabulary.js";
import type { CliContext } from "../context.js";
import { writeAtomically } from "../partialOutput.js";
import { progress } from "../terminal.js";
import { VERSION } from "../version.js";
import { type EvalFlags, type EvalPlan, evalResult, liddsLoaded, planEval, runModels, traceLoader } from "./eval.js";
import { printScenarios } from "./evalScenariosPrint.js";

export async function runEvalScenarios(flags: EvalFlags, ctx: CliContext): Promise<void> {
  const started = performance.now();
  const startedAt = new Date().toISOString();
  const jsonToStdout = flags.json === "-";
  const plan = planEval(flags);
  if (plan.dataset !== "scenarios") throw new HomeostatError("E_USAGE", "runEvalScenarios needs --dataset scenarios");
  const layout = readScenariosLayout(flags.data!);
  const programs: ProgramResult[] = [];
  for (const program of layout.programs) programs.push(await evaluateProgram(flags, plan, program, !jsonToStdout));
  const result = scenariosResult(flags, plan, layout, programs);
  result.startedAt = startedAt;
  result.totalSeconds = (performance.now() - started) / 1000;
  if (flags.json !== undefined) {
    const text = `${JSON.stringify(toJsonSafe(result), null, 2)}\n`;
    if (jsonToStdout) process.stdout.write(text);
    else writeAtomically(flags.json, text);
  }
  if (flags.report !== undefined) writeAtomically(flags.report, renderScenariosReport(result));
  if (!jsonToStdout) printScenarios(result, flags);
  ctx.exitCode = 0;
}

/**
 * One program, as `eval --dataset lid-ds --data <program>` evaluates it: its own vocabulary and budget of held
 * calls, its own models. Its traces are not kept: only the result leaves this function.
 */
async function evaluateProgram(
  flags: EvalFlags,
  plan: EvalPlan,
  program: ScenarioProgram,
  bars: boolean,
): Promise<ProgramResult> {
  const started = performance.now();
  const startedAt = new Date().toISOString();
  const vocab = new Vocabulary();
  const bar = progress(`loading ${program.name}`, 1, bars);
  const all = await traceLoader(flags, vocab)([program.dir], true);
  bar.stop();
  const loadSeconds = (performance.now() - started) / 1000;
  const loaded = liddsLoaded(flags, program.dir, all, () =>
    scenarioExperiment(program, all, { dedupe: flags.dedupe === true }),
  );
  const run = runModels(flags, plan, loaded, vocab, bars, `evaluating ${program.name}`);
  const untimed = untimedAttacks(loaded.data);
  if (untimed > 0) {
    run.rules.push(
      `${untimed} attack recordings have no exploit time in their sidecar: their attack is taken to start at their ` +
        "first call (delays and call-level figures count every call of them as an attack call).",
    );
  }
  const result = evalResult(flags, plan, loaded, run, vocab);
  result.startedAt = startedAt;
  result.loadSeconds = loadSeconds;
  result.totalSeconds = (performance.now() - started) / 1000;
  return {
    name: program.name,
    ...(program.image !== undefined ? { image: program.image } : {}),
    path: program.dir,
    ...(program.dataOnlyAttacks !== undefined ? { dataOnlyAttacks: program.dataOnlyAttacks } : {}),
    result,
  };
}

/** The rules every program's run states, in the first program's order. */
function sharedRules(programs: readonly ProgramResult[]): string[] {
  const [first, ...rest] = programs.map((p) => p.result.protocol.rules);
  return (first ?? []).filter((r) => rest.every((rules) => rules.includes(r)));
}

/** The scenarios document (start time and total seconds filled in by the caller). */
function scenariosResult(
  flags: EvalFlags,
  plan: EvalPlan,
  layout: ScenariosLayout,
  programs: ProgramResult[],
): ScenariosEvalResult {
  const first = programs[0]!.result.protocol;
  return {
    schema: SCENARIOS_EVAL_SCHEMA,
    homeostat: VERSION,
    startedAt: "",
    protocol: {
      name: "scenarios",
      strict: flags.dedupe !== true,
      ...(flags.dedupe === true ? { variant: "dedupe" } : {}),
      description: SCENARIOS_DESCRIPTION,
      rules: [...scenariosRules(programs.length), ...sharedRules(programs)],
      seed: flags.seed,
      threshold: { ...first.threshold, calibration: "each program's validation recordings" },
      models: plan.models,
      ...(plan.ensemble !== undefined && plan.models.length >= 2 ? { ensemble: plan.ensemble } : {}),
    },
    dataset: {
      path: layout.root,
      manifest: layout.manifest,
      ...(layout.seed !== undefined ? { seed: layout.seed } : {}),
      skipped: layout.skipped,
    },
    programs,
    summary: summarizeScenarios(
      programs.map((p) => ({
        name: p.name,
        models: p.result.models,
        ...(p.dataOnlyAttacks !== undefined ? { dataOnlyAttacks: p.dataOnlyAttacks } : {}),
      })),
    ),
    totalSeconds: 0,
    loadSeconds: programs.reduce((a, p) => a + p.result.loadSeconds, 0),
  };
}
