// One recording, start to finish: plan it (a pure function of its spec), run it under strace through the program's
// scenario, read the trace back with homeostat's parser, check that the attack (if any) happened and sits inside
// the recording with normal calls before and after its time, and write the LID-DS sidecar. Any failure is an
// error naming the recording: a dataset never holds a recording whose workload or attack did not work.

import { mkdirSync } from "node:fs";
import path from "node:path";
import { HomeostatError } from "../errors.js";
import { recordingFiles, writeJson } from "./layout.js";
import { ProcessGroups } from "./processGroups.js";
import { buildSidecar } from "./sidecar.js";
import { type TraceFacts, traceFacts } from "./traceCheck.js";
import type { RecordedRun, RecordingSpec, Scenario, ScenarioSession } from "./types.js";

export interface RecordingContext {
  outDir: string;
  /** Scratch space of the program; each recording gets a fresh folder under it. */
  scratch: string;
  image: string;
  groups: ProcessGroups;
}

/** Records one recording and writes its .strace and .json; returns the trace's facts. */
export async function recordOne(
  scenario: Scenario,
  session: ScenarioSession<unknown>,
  spec: RecordingSpec,
  ctx: RecordingContext,
): Promise<TraceFacts> {
  const plan = scenario.plan(spec);
  const files = recordingFiles(ctx.outDir, spec.program, spec.split, spec.name);
  const workDir = path.join(ctx.scratch, spec.name);
  mkdirSync(workDir, { recursive: true });
  const groups = new ProcessGroups(ctx.groups);
  let run: RecordedRun;
  try {
    run = await session.record(plan, { tracePath: files.trace, workDir, groups });
  } catch (err) {
    throw inRecording(err, spec);
  } finally {
    groups.killAll();
  }
  const facts = await traceFacts(files.trace, run.attack?.time).catch((err: unknown) => {
    throw inRecording(err, spec);
  });
  checkAttackPlacement(spec, run, facts);
  const workload = plan.actions.map((a) => scenario.describe(a));
  writeJson(files.json, buildSidecar({ spec, image: ctx.image, plan, workload, run, facts }));
  return facts;
}

/** The error, its message prefixed with the program and recording. */
function inRecording(err: unknown, spec: RecordingSpec): unknown {
  if (!(err instanceof HomeostatError)) return err;
  const where = `${spec.program} ${spec.split}/${spec.name}`;
  return new HomeostatError(err.code, `${where}: ${err.message}`, err.location, { cause: err });
}

/** An attack recording's attack ran, and its time has calls before and after it. */
function checkAttackPlacement(spec: RecordingSpec, run: RecordedRun, facts: TraceFacts): void {
  const fail = (why: string): never => {
    throw new HomeostatError("E_IO", `${spec.program} ${spec.split}/${spec.name}: ${why}`);
  };
  if (spec.attack === undefined) {
    if (run.attack !== undefined) fail("a normal recording ran an attack");
    return;
  }
  if (run.attack === undefined) return fail(`the ${spec.attack} attack did not run`);
  if (run.attack.time < facts.firstTime || run.attack.time > facts.lastTime) {
    fail("the attack's time lies outside the recorded calls");
  }
  if (facts.callsBefore === 0 || facts.callsAfter === 0) {
    fail(`the attack is not inside normal behaviour (${facts.callsBefore} calls before, ${facts.callsAfter} after)`);
  }
}
