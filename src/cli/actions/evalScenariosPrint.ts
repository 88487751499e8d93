// The terminal output of `homeostat eval --dataset scenarios`: the protocol, one line per program (its data), the
// summary per model across programs (macro-averages, with the worst program named), the programs x models AUC
// table, and the attacks x models one (which attacks each model misses, the data-only ones marked). Everything
// comes from the ScenariosEvalResult, as the JSON and the report do.

import type { ScenariosEvalResult } from "../../eval/scenariosResult.js";
import type { ModelSummary, ProgramStat } from "../../eval/scenariosSummary.js";
import { num, paint, table } from "../terminal.js";
import type { PrintTargets } from "./evalPrint.js";

const say = (s: string): void => {
  process.stdout.write(s);
};

/** A figure with fixed digits (so that a column lines up), or "-" when undefined. */
const cell = (x: number, digits = 4): string => (Number.isFinite(x) ? x.toFixed(digits) : "-");
/** The ensemble's score names every model's: its method says enough in a table. */
const scoreName = (m: ModelSummary): string =>
  m.kind === "ensemble" ? (m.score.split(" of ")[0] ?? m.score) : m.score;
const pct = (x: number): string => (Number.isFinite(x) ? `${(x * 100).toFixed(1)}%` : "-");
const secs = (x: number): string => (Number.isFinite(x) ? x.toFixed(3) : "-");
/** A mean over fewer programs than all says over how many. */
const over = (s: ProgramStat, all: number, text: string): string =>
  s.programs < all ? `${text} (${s.programs})` : text;

/** The title line every scenarios table sits under. */
export function scenariosTitle(result: ScenariosEvalResult): string {
  const n = result.summary.programs;
  return `scenarios: one model per program; means are macro-averages over ${n} program${n === 1 ? "" : "s"}`;
}

function printHeader(result: ScenariosEvalResult): void {
  const p = result.protocol;
  const d = result.dataset;
  say(`${paint(p.description, "bold")}\n`);
  say(
    `${d.path}: ${result.programs.length} program${result.programs.length === 1 ? "" : "s"} ` +
      `(${d.manifest ? `scenarios.json${d.seed !== undefined ? `, builder seed ${d.seed}` : ""}` : "no scenarios.json: its subfolders"}); ` +
      `threshold ${p.threshold.method === "max" ? "max" : `far ${p.threshold.far}`} on each program's validation recordings` +
      `${p.variant !== undefined ? `; variant ${p.variant}` : ""}\n`,
  );
  for (const s of d.skipped)
    say(`  skipped by the builder: ${s.name ?? "?"}${s.reason !== undefined ? ` (${s.reason})` : ""}\n`);
  for (const prog of result.programs) {
    const r = prog.result;
    const calls = r.dataset.splits.reduce((a, s) => a + s.calls, 0);
    const c = r.models[0]?.confusion;
    const tests =
      c === undefined ? "" : `; test ${num(c.tp + c.fn + c.fp + c.tn)} recordings (${num(c.tp + c.fn)} attack)`;
    say(
      `  ${prog.name}${prog.image !== undefined ? ` [${prog.image}]` : ""}: ` +
        `${r.dataset.splits.map((s) => `${s.name} ${num(s.traces)}`).join(" / ")} traces, ${num(calls)} calls${tests}\n`,
    );
  }
  say("\n");
}

/** One row per model: its figures over programs. */
function printSummary(result: ScenariosEvalResult): void {
  const n = result.summary.programs;
  say(`${paint(scenariosTitle(result), "bold")}\n`);
  const rows = result.summary.models.map((m) => {
    const dr5 = m.dr_at_far.find((d) => Math.abs(d.target - 0.05) < 1e-12);
    return [
      m.name,
      scoreName(m),
      cell(m.auc.mean),
      over(m.aucWithoutDataOnly, n, cell(m.aucWithoutDataOnly.mean)),
      m.auc.programs > 0 ? `${m.auc.min.toFixed(4)} (${m.auc.minProgram})` : "-",
      over(m.far_at_dr90, n, pct(m.far_at_dr90.mean)),
      dr5 === undefined ? "-" : over(dr5, n, pct(dr5.mean)),
      over(m.detectionRate, n, pct(m.detectionRate.mean)),
      over(m.falseAlarmRate, n, pct(m.falseAlarmRate.mean)),
      m.callLevel !== undefined ? cell(m.callLevel.cfa.mean, 1) : "-",
      m.callLevel !== undefined ? over(m.callLevel.delaySeconds, n, secs(m.callLevel.delaySeconds.mean)) : "-",
    ];
  });
  say(
    `${table(
      [
        "model",
        "score",
        "mean AUC",
        "w/o data-only",
        "min AUC (program)",
        "FAR@90%",
        "DR@5%",
        "DR@thr",
        "FAR@thr",
        "CFA",
        "delay s",
      ],
      rows,
    )}\n`,
  );
  say(
    "  w/o data-only: mean AUC without the attacks that change only data, not calls (invisible to call models);\n" +
      "  FAR@90%: false-alarm rate at 90% detection; DR@5%: detection at 5% false alarms; DR@thr / FAR@thr: at the\n" +
      "  threshold set on validation; CFA: consecutive false alarms (LID-DS); delay: median seconds from the exploit\n" +
      "  to the first alarm. All means over programs; (k): a mean over the k programs where the figure is defined.\n",
  );
}

/** Programs as rows, models as columns: each program's AUC, then the mean and the minimum. */
function printAucTable(result: ScenariosEvalResult): void {
  const models = result.summary.models;
  say(`\n${paint("AUC per program (rows) and model (columns)", "bold")}\n`);
  const rows: (string | number)[][] = result.programs.map((p) => [
    p.name,
    ...models.map((m) => cell(p.result.models.find((r) => r.name === m.name)?.auc ?? Number.NaN)),
  ]);
  rows.push(["mean", ...models.map((m) => cell(m.auc.mean))]);
  rows.push(["min", ...models.map((m) => cell(m.auc.min))]);
  say(`${table(["program", ...models.map((m) => m.name)], rows)}\n`);
}

/** Attacks as rows (program, attack, data-only mark), models as columns: the AUC of that attack's recordings. */
function printAttackTable(result: ScenariosEvalResult): void {
  const models = result.summary.models;
  say(`\n${paint("AUC per attack (rows) and model (columns), against the program's normal recordings", "bold")}\n`);
  const rows: string[][] = [];
  for (const p of result.programs) {
    const types = p.result.models[0]?.per_attack.map((a) => a.type) ?? [];
    for (const type of types) {
      const dataOnly = p.dataOnlyAttacks?.includes(type) === true;
      rows.push([
        p.name,
        dataOnly ? `${type} (data-only)` : type,
        ...models.map((m) => {
          const r = p.result.models.find((x) => x.name === m.name)?.per_attack.find((a) => a.type === type);
          return cell(r?.auc ?? Number.NaN);
        }),
      ]);
    }
  }
  say(`${table(["program", "attack", ...models.map((m) => m.name)], rows)}\n`);
}

/** The tables on the terminal. */
export function printScenarios(result: ScenariosEvalResult, targets: PrintTargets): void {
  printHeader(result);
  printSummary(result);
  printAucTable(result);
  printAttackTable(result);
  say(`\n${num(result.totalSeconds, 1)} s in all (loading ${num(result.loadSeconds, 1)} s)`);
  if (targets.json !== undefined) say(`; JSON: ${targets.json}`);
  if (targets.report !== undefined) say(`; report: ${targets.report}`);
  say("\n");
}
