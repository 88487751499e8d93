// The work of `homeostat mimicry` (registered in ../commands/mimicry.ts): resolves call names through the
// profile's vocabulary, runs the search (detect/mimicry.ts) and reports the sequence, or the proof that none exists.

import { findMimicry, type MimicryResult } from "../../detect/mimicry.js";
import { HomeostatError } from "../../errors.js";
import { formatModelSpec } from "../../models/registry.js";
import type { Vocabulary } from "../../syscalls/vocabulary.js";
import type { CliContext } from "../context.js";
import { readProfileFile } from "../profileFile.js";
import { num, paint } from "../terminal.js";

export interface MimicryFlags {
  profile: string;
  goal: string;
  start?: string;
  maxStates?: number;
  json?: boolean;
}

export interface MimicryReport extends Omit<MimicryResult, "sequence"> {
  model: string;
  goal: string[];
  start: string[];
  sequence: string[];
}

export function runMimicry(flags: MimicryFlags, ctx: CliContext): void {
  const { detector, vocabulary } = readProfileFile(flags.profile);
  const goal = callNames(flags.goal, "--goal");
  const start = flags.start === undefined ? [] : callNames(flags.start, "--start");
  // A call the profile never saw gets an id beyond its vocabulary: the models treat such ids as never seen.
  const unseen = new Map<string, number>();
  const idOf = (name: string): number => {
    const id = vocabulary.lookup(name);
    if (id >= 0) return id;
    if (!unseen.has(name)) unseen.set(name, vocabulary.size + unseen.size);
    return unseen.get(name)!;
  };
  const goalIds = goal.map(idOf);
  const startIds = start.map(idOf);
  const result = findMimicry(detector, {
    goal: goalIds,
    start: startIds,
    alphabet: vocabulary.size + unseen.size,
    ...(flags.maxStates !== undefined ? { maxStates: flags.maxStates } : {}),
  });
  const report: MimicryReport = {
    ...result,
    model: formatModelSpec(detector.kind, detector.options),
    goal,
    start,
    sequence: result.sequence.map((id) => nameOf(id, vocabulary, unseen)),
  };
  if (flags.json) process.stdout.write(`${JSON.stringify(report)}\n`);
  else printReport(report, flags.profile);
  ctx.exitCode = 0;
}

/** Comma-separated call names, each non-empty. */
function callNames(text: string, option: string): string[] {
  const names = text.split(",").map((s) => s.trim());
  if (names.some((n) => n === "")) {
    throw new HomeostatError(
      "E_USAGE",
      `${option} must be call names separated by commas, got ${JSON.stringify(text)}`,
    );
  }
  return names;
}

function nameOf(id: number, vocabulary: Vocabulary, unseen: Map<string, number>): string {
  if (id < vocabulary.size) return vocabulary.token(id);
  for (const [name, i] of unseen) if (i === id) return name;
  return `#${id}`;
}

function printReport(r: MimicryReport, profile: string): void {
  const out = (s: string): boolean => process.stdout.write(`${s}\n`);
  out(`${paint(r.model, "bold")} (profile ${profile}): the model's state is its last ${r.context} calls`);
  const from = r.start.length === 0 ? "from a new process" : `after ${r.start.join(", ")}`;
  if (r.found) {
    const cost = r.cost > 0 ? `, ${r.cost.toFixed(2)} bits of surprisal in all` : "";
    out(`${r.goal.join(" then ")} can be made unseen ${from} in ${plural(r.sequence.length, "call")}${cost}:`);
    out(`  ${r.sequence.join(", ")}`);
  } else if (r.complete) {
    out(`no sequence ${from} reaches ${r.goal.join(" then ")} without an anomaly`);
    out(`  (a proof: all ${num(r.explored)} reachable states explored)`);
  } else {
    out(`no sequence found ${from} within ${num(r.explored)} states; not a proof (raise --max-states)`);
  }
}

function plural(n: number, noun: string): string {
  return `${num(n)} ${noun}${n === 1 ? "" : "s"}`;
}
