// The result of `homeostat eval --dataset scenarios`: the benchmark of real programs recorded under strace, one
// LID-DS 2021-style scenario per program, evaluated program by program with one model per program. It holds each
// program's own result, unchanged (an EvalResult, schema homeostat-eval/1, as `eval --dataset lid-ds` on that
// program's folder gives), and the summary across programs (scenariosSummary.ts). docs/eval-json.md documents it;
// `schema` changes when a field changes meaning.

import type { EvalResult } from "./evalResult.js";
import type { ScenariosSummary } from "./scenariosSummary.js";

export const SCENARIOS_EVAL_SCHEMA = "homeostat-eval-scenarios/1";

/** The protocol shared by every program. */
export interface ScenariosProtocol {
  name: "scenarios";
  /** True unless a variant (dedupe) changed what each program is tested on. */
  strict: boolean;
  variant?: string;
  description: string;
  /** The promises behind the figures, every program's and the summary's. */
  rules: string[];
  seed: number;
  threshold: EvalResult["protocol"]["threshold"];
  /** The model specs every program ran, in order (the ensemble, when asked for, is added to them). */
  models: string[];
  /** The ensemble method, when asked for. */
  ensemble?: string;
}

export interface ScenariosDataset {
  /** The scenarios folder as given. */
  path: string;
  /** Whether the folder's scenarios.json was read (else the programs are its subfolders). */
  manifest: boolean;
  /** The builder's seed, from the manifest. */
  seed?: number;
  /** Programs the builder skipped, as its manifest says. */
  skipped: { name?: string; reason?: string }[];
}

/** One program: its scenario and its own result. */
export interface ProgramResult {
  name: string;
  /** The container image it ran in (manifest). */
  image?: string;
  /** Its folder. */
  path: string;
  /** Its attacks that change only data, not calls (manifest); the summary also averages AUC without them. */
  dataOnlyAttacks?: string[];
  result: EvalResult;
}

export interface ScenariosEvalResult {
  schema: typeof SCENARIOS_EVAL_SCHEMA;
  homeostat: string;
  startedAt: string;
  protocol: ScenariosProtocol;
  dataset: ScenariosDataset;
  programs: ProgramResult[];
  summary: ScenariosSummary;
  /** Seconds for the whole run. */
  totalSeconds: number;
  /** Seconds spent reading inputs, over all programs. */
  loadSeconds: number;
}
