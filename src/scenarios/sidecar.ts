// The `<rec>.json` beside each recording, in the shape of a LID-DS 2021 recording json (Grimmer et al., LID-DS
// 2021; read by src/ingest/liddsMetadata.ts): `exploit`, `exploit_name`, `image`, `recording_time`, and for an attack
// `time.exploit[0].absolute`, the epoch seconds (realtime clock, as strace -ttt's) taken just before the attack's
// first action. homeostat's own facts go under `homeostat`: scenario, seed, split, the seeded workload, the attack
// (kind, command, evidence that it worked, where it sat) and what the trace holds.

import type { TraceFacts } from "./traceCheck.js";
import type { RecordedRun, RecordingPlan, RecordingSpec } from "./types.js";

export const SIDECAR_SOURCE = "homeostat scenarios";

export interface SidecarInput {
  spec: RecordingSpec;
  image: string;
  plan: RecordingPlan<unknown>;
  /** One line per normal action. */
  workload: string[];
  run: RecordedRun;
  facts: TraceFacts;
}

const round = (x: number, digits: number): number => Number(x.toFixed(digits));

/** The sidecar object (JSON-safe). */
export function buildSidecar(input: SidecarInput): Record<string, unknown> {
  const { spec, image, plan, workload, run, facts } = input;
  const attack = run.attack;
  const json: Record<string, unknown> = { exploit: attack !== undefined };
  if (attack !== undefined) json.exploit_name = attack.kind;
  json.image = image;
  json.recording_time = round(run.ended - run.started, 3);
  if (attack !== undefined) {
    json.time = { exploit: [{ absolute: round(attack.time, 6), name: attack.kind, source: SIDECAR_SOURCE }] };
  }
  json.homeostat = {
    scenario: spec.program,
    recording: spec.name,
    split: spec.split,
    seed: spec.seed,
    strace: "strace -f -ttt -q -o FILE --",
    started: round(run.started, 6),
    ended: round(run.ended, 6),
    workload,
    ...(attack !== undefined && plan.attack !== undefined
      ? {
          attack: {
            kind: attack.kind,
            command: attack.command,
            evidence: attack.evidence,
            dataOnly: attack.dataOnly,
            actionsBefore: plan.attack.at,
            actionsAfter: plan.actions.length - plan.attack.at,
          },
        }
      : {}),
    trace: traceSummary(facts, attack !== undefined),
  };
  return json;
}

function traceSummary(facts: TraceFacts, attack: boolean): Record<string, unknown> {
  return {
    calls: facts.calls,
    processes: facts.processes,
    firstCall: round(facts.firstTime, 6),
    lastCall: round(facts.lastTime, 6),
    programs: facts.programs,
    ...(attack ? { callsBeforeAttack: facts.callsBefore, callsFromAttack: facts.callsAfter } : {}),
  };
}
