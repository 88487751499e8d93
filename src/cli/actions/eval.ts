// The work of `homeostat eval` (registered, with its argument parsers, in ../commands/eval.ts). The plan, the
// loading of one LID-DS scenario, the model run and the result document are exported for `--dataset scenarios`
// (evalScenarios.ts), which runs them once per program. Each step has its file: the plan (evalPlan.ts), the traces
// read (evalData.ts), the models run (evalModels.ts) and the result document (evalDocument.ts).

import { HomeostatError } from "../../errors.js";
import { toJsonSafe } from "../../eval/metricJson.js";
import { renderHtmlReport } from "../../report/htmlReport.js";
import { Vocabulary } from "../../syscalls/vocabulary.js";
import type { CliContext } from "../context.js";
import { parseAttackArg } from "../inputOptions.js";
import { writeAtomically } from "../partialOutput.js";
import { progress } from "../terminal.js";
import { loadProtocol } from "./evalData.js";
import { evalResult } from "./evalDocument.js";
import { runModels } from "./evalModels.js";
import { type EvalFlags, planEval } from "./evalPlan.js";
import { printEval } from "./evalPrint.js";

export { bySplit, liddsLoaded, type LoadedData, protocolData, type TraceLoader, traceLoader } from "./evalData.js";
export { evalResult } from "./evalDocument.js";
export { type EvalRun, runModels } from "./evalModels.js";
export { type EvalFlags, type EvalPlan, parseThreshold, planEval, splitModelList } from "./evalPlan.js";

// It lives with the input options now (the command checks --attack paths before loading this module).
export { parseAttackArg };

export async function runEval(flags: EvalFlags, ctx: CliContext): Promise<void> {
  const started = performance.now();
  const startedAt = new Date().toISOString();
  const jsonToStdout = flags.json === "-";
  const plan = planEval(flags);
  if (plan.dataset === "scenarios") {
    throw new HomeostatError("E_USAGE", "--dataset scenarios is evaluated by evalScenarios.ts, not runEval");
  }
  const vocab = new Vocabulary();
  const bar = progress("loading", 1, !jsonToStdout);
  const loaded = await loadProtocol(flags, plan, vocab);
  bar.stop();
  const loadSeconds = (performance.now() - started) / 1000;
  const run = runModels(flags, plan, loaded, vocab, !jsonToStdout);
  const result = evalResult(flags, plan, loaded, run, vocab);
  result.startedAt = startedAt;
  result.totalSeconds = (performance.now() - started) / 1000;
  result.loadSeconds = loadSeconds;
  if (flags.json !== undefined) {
    const text = `${JSON.stringify(toJsonSafe(result), null, 2)}\n`;
    if (jsonToStdout) process.stdout.write(text);
    else writeAtomically(flags.json, text);
  }
  if (flags.report !== undefined) writeAtomically(flags.report, renderHtmlReport(result));
  if (!jsonToStdout) printEval(result, flags);
  ctx.exitCode = 0;
}
