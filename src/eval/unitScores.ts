// Scoring evaluation units with a trained detector (experiment.ts). A unit's score is the largest score of its
// traces (one anomalous thread makes the recording anomalous). Scored live, call by call, a call alarms when the
// running score of its trace exceeds the threshold (alarm measure "score" of src/detect/alarm.ts), which gives the
// detection delays and the LID-DS call-level recordings; at a trace's last call the running score is the trace
// score, so trace-level and call-level figures agree by construction.

import {
  scoreOf,
  scoreTrace,
  type ScoringOptions,
  TraceAccumulator,
  type TraceScoreName,
} from "../detect/traceScore.js";
import type { Detector } from "../models/detector.js";
import type { RecordingAlarms } from "./callLevel.js";
import { detectionDelay } from "./detectionDelay.js";
import type { EvalUnit } from "./evalUnit.js";

/** A unit's score: the largest of its traces' scores (0 for a unit with no calls). */
export function scoreUnits(
  detector: Detector,
  units: readonly EvalUnit[],
  name: TraceScoreName,
  scoring: ScoringOptions = {},
): Float64Array {
  let longest = 0;
  for (const u of units) for (const t of u.traces) longest = Math.max(longest, t.calls.length);
  const buffer = new Float64Array(longest);
  const scores = new Float64Array(units.length);
  units.forEach((u, i) => {
    let best = u.traces.length === 0 ? 0 : Number.NEGATIVE_INFINITY;
    for (const t of u.traces)
      best = Math.max(best, scoreOf(scoreTrace(detector, t.calls, { ...scoring, buffer }), name));
    scores[i] = best;
  });
  return scores;
}

export interface LiveScores {
  scores: Float64Array;
  /** Per attack unit, its detection delay in calls (NaN: not detected). */
  delays: number[];
  /** Call-level recordings, when every test unit has timestamps; else null. */
  recordings: RecordingAlarms[] | null;
}

/** Scores test units call by call, recording where each trace's running score first exceeds the threshold. */
export function scoreUnitsLive(
  detector: Detector,
  units: readonly EvalUnit[],
  name: TraceScoreName,
  threshold: number,
  heldOut: ReadonlySet<EvalUnit>,
  scoring: ScoringOptions = {},
): LiveScores {
  const scores = new Float64Array(units.length);
  const delays: number[] = [];
  const timed = units.every((u) => u.traces.every((t) => t.times !== undefined && t.times.length === t.calls.length));
  const recordings: RecordingAlarms[] | null = timed ? [] : null;
  const acc = new TraceAccumulator(detector.signal, scoring);
  const state = detector.newState();
  units.forEach((u, i) => {
    let best = u.traces.length === 0 ? 0 : Number.NEGATIVE_INFINITY;
    const flagsOfTraces: Uint8Array[] = [];
    for (const t of u.traces) {
      state.reset();
      acc.reset();
      const flags = new Uint8Array(t.calls.length);
      for (let c = 0; c < t.calls.length; c++) {
        acc.add(detector.step(state, t.calls[c]!));
        if (acc.score(name) > threshold) flags[c] = 1;
      }
      best = Math.max(best, t.calls.length === 0 ? 0 : acc.score(name));
      flagsOfTraces.push(flags);
    }
    scores[i] = best;
    if (heldOut.has(u)) return;
    if (u.attack) delays.push(unitDelay(u, flagsOfTraces));
    if (recordings !== null) recordings.push(mergeByTime(u, flagsOfTraces));
  });
  return { scores, delays, recordings };
}

/** Calls from the attack start (or the trace start) to the first alarm, the earliest over the unit's traces. */
function unitDelay(u: EvalUnit, flags: readonly Uint8Array[]): number {
  let best = Number.NaN;
  u.traces.forEach((t, i) => {
    let start = 0;
    if (u.attackTime !== undefined && t.times !== undefined) {
      start = t.times.findIndex((x) => x >= u.attackTime!);
      if (start < 0) return;
    }
    const d = detectionDelay(flags[i]!, start).calls;
    if (!Number.isNaN(d) && !(d >= best)) best = d;
  });
  return best;
}

/** One recording for call-level metrics: all streams' calls in time order (stable for equal times). */
function mergeByTime(u: EvalUnit, flags: readonly Uint8Array[]): RecordingAlarms {
  let n = 0;
  for (const t of u.traces) n += t.calls.length;
  const order: { time: number; trace: number; call: number }[] = [];
  u.traces.forEach((t, ti) => {
    for (let c = 0; c < t.calls.length; c++) order.push({ time: t.times![c]!, trace: ti, call: c });
  });
  order.sort((a, b) => a.time - b.time || a.trace - b.trace || a.call - b.call);
  const alarms = new Uint8Array(n);
  const timestamps = new Float64Array(n);
  order.forEach((o, i) => {
    alarms[i] = flags[o.trace]![o.call]!;
    timestamps[i] = o.time;
  });
  return {
    name: u.name,
    alarms,
    attack: u.attack,
    timestamps,
    ...(u.attack && u.attackTime !== undefined ? { attackTime: u.attackTime } : {}),
  };
}
