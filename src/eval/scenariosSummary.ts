// The summary of a scenarios evaluation (homeostat's benchmark of real programs, one LID-DS 2021-style scenario per
// program): per model, each figure's macro-average over the programs (every program weighs the same, whatever its
// number of recordings, as a per-program profile is judged per program) with its worst and best program beside it.
// Pure arithmetic over the per-program results; undefined figures (NaN: a precision with no alarm, a delay with
// nothing detected) are left out of that figure and counted in its `programs`.
// Beside the AUC over all attacks, the AUC without the data-only attacks (those that change what a program reads or
// writes, not which calls it makes): no model of call sequences can see them, and the two figures together say how
// much of a shortfall is the model's and how much the attack's.

import type { ModelResult } from "./evalResult.js";

/** One figure over the programs: its mean, and where it was lowest and highest (the first program on a tie). */
export interface ProgramStat {
  /** Mean over the programs where the figure is defined (NaN when it is defined nowhere). */
  mean: number;
  min: number;
  /** The program with the lowest value ("" when none). */
  minProgram: string;
  max: number;
  maxProgram: string;
  /** Programs where the figure is defined. */
  programs: number;
}

/** The LID-DS call-level figures over the programs (present when every program had them). */
export interface CallLevelSummary {
  detectionRate: ProgramStat;
  falseAlarmCalls: ProgramStat;
  cfa: ProgramStat;
  f1Cfa: ProgramStat;
  /** Each program's median delay in seconds from the attack time to the first alarm. */
  delaySeconds: ProgramStat;
}

/** One model across programs. */
export interface ModelSummary {
  /** The model spec as given, or "ensemble(<method>)", e.g. "ensemble(minmax)". */
  name: string;
  kind: string;
  score: string;
  /** Programs where the model ran. */
  programs: number;
  auc: ProgramStat;
  /**
   * AUC over the attacks that are not data-only: per program the mean of its per-attack AUCs weighted by attack
   * recordings (exactly the AUC of those attacks against every normal recording); undefined for a program with none.
   */
  aucWithoutDataOnly: ProgramStat;
  /** False-alarm rate at 90% detection. */
  far_at_dr90: ProgramStat;
  /** Detection rate at false-alarm rates of 1%, 5%, 10% (as each result's dr_at_far). */
  dr_at_far: (ProgramStat & { target: number })[];
  /** At the calibrated threshold: detection rate (recall) over attack recordings. */
  detectionRate: ProgramStat;
  /** At the calibrated threshold: false-alarm rate over normal test recordings. */
  falseAlarmRate: ProgramStat;
  /** At the calibrated threshold: normal test recordings alarmed (confusion.fp). */
  falseAlarms: ProgramStat;
  /** Each program's median detection delay in calls. */
  delayCalls: ProgramStat;
  callLevel?: CallLevelSummary;
}

export interface ScenariosSummary {
  /** Programs evaluated: every mean is over (at most) these. */
  programs: number;
  models: ModelSummary[];
}

/** One program's results, as the summary reads them. */
export interface ProgramModels {
  name: string;
  models: readonly ModelResult[];
  /** Its data-only attack types (absent: none known). */
  dataOnlyAttacks?: readonly string[];
}

/**
 * The AUC of a model's attacks other than `excluded` against all its normal units: the per-attack AUCs weighted by
 * their attack units (an AUC is a mean over attack-normal pairs, and every type is paired with the same normals).
 */
export function aucWithout(model: ModelResult, excluded: readonly string[]): number {
  let pairs = 0;
  let sum = 0;
  for (const a of model.per_attack) {
    if (excluded.includes(a.type) || !Number.isFinite(a.auc)) continue;
    pairs += a.traces;
    sum += a.auc * a.traces;
  }
  return pairs > 0 ? sum / pairs : Number.NaN;
}

/** Mean, min and max of the defined values, with the programs they came from. */
export function programStat(values: readonly { program: string; value: number }[]): ProgramStat {
  const stat: ProgramStat = {
    mean: Number.NaN,
    min: Number.NaN,
    minProgram: "",
    max: Number.NaN,
    maxProgram: "",
    programs: 0,
  };
  let sum = 0;
  for (const { program, value } of values) {
    if (Number.isNaN(value)) continue;
    sum += value;
    stat.programs++;
    if (!(value >= stat.min)) {
      stat.min = value;
      stat.minProgram = program;
    }
    if (!(value <= stat.max)) {
      stat.max = value;
      stat.maxProgram = program;
    }
  }
  if (stat.programs > 0) stat.mean = sum / stat.programs;
  return stat;
}

/** The call-level summary, when every program's result has call-level figures. */
function callLevelSummary(runs: readonly { program: string; model: ModelResult }[]): CallLevelSummary | undefined {
  if (runs.length === 0 || runs.some((r) => r.model.callLevel === undefined)) return undefined;
  const over = (f: (c: NonNullable<ModelResult["callLevel"]>) => number): ProgramStat =>
    programStat(runs.map((r) => ({ program: r.program, value: f(r.model.callLevel!) })));
  return {
    detectionRate: over((c) => c.detectionRate),
    falseAlarmCalls: over((c) => c.falseAlarmCalls),
    cfa: over((c) => c.cfa),
    f1Cfa: over((c) => c.f1Cfa),
    delaySeconds: over((c) => c.delaySeconds.median),
  };
}

/** One program's result for one model. */
interface ProgramRun {
  program: string;
  model: ModelResult;
  dataOnlyAttacks: readonly string[];
}

/** One model's summary over the programs that ran it. */
function modelSummary(name: string, runs: readonly ProgramRun[]): ModelSummary {
  const over = (f: (m: ModelResult) => number): ProgramStat =>
    programStat(runs.map((r) => ({ program: r.program, value: f(r.model) })));
  const first = runs[0]!.model;
  const callLevel = callLevelSummary(runs);
  return {
    name,
    kind: first.kind,
    score: first.score,
    programs: runs.length,
    auc: over((m) => m.auc),
    aucWithoutDataOnly: programStat(
      runs.map((r) => ({ program: r.program, value: aucWithout(r.model, r.dataOnlyAttacks) })),
    ),
    far_at_dr90: over((m) => m.far_at_dr90.fpr),
    dr_at_far: first.dr_at_far.map((p) => ({
      target: p.target,
      ...over((m) => m.dr_at_far.find((q) => q.target === p.target)?.tpr ?? Number.NaN),
    })),
    detectionRate: over((m) => m.rates.recall),
    falseAlarmRate: over((m) => m.rates.falseAlarmRate),
    falseAlarms: over((m) => m.confusion.fp),
    delayCalls: over((m) => m.delay.median),
    ...(callLevel !== undefined ? { callLevel } : {}),
  };
}

/** Per model (in the order they first appear), its figures over the programs. */
export function summarizeScenarios(programs: readonly ProgramModels[]): ScenariosSummary {
  const byModel = new Map<string, ProgramRun[]>();
  for (const p of programs) {
    for (const m of p.models) {
      const run = { program: p.name, model: m, dataOnlyAttacks: p.dataOnlyAttacks ?? [] };
      const runs = byModel.get(m.name);
      if (runs === undefined) byModel.set(m.name, [run]);
      else runs.push(run);
    }
  }
  return {
    programs: programs.length,
    models: [...byModel.entries()].map(([name, runs]) => modelSummary(name, runs)),
  };
}
