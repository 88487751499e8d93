// The demo's timelines: per-call locality frame counts of one held-out normal session and of the exploited process,
// for each trained model, so that the report can show where the exploit leaves normal behaviour.

import type { Trace } from "../ingest/traceCollector.js";
import type { Vocabulary } from "../syscalls/vocabulary.js";
import type { LiveRun } from "./demoLive.js";
import type { DemoResult, TimelinePoint } from "./demoResult.js";
import { lfcSeries, type TrainedModel } from "./demoTraining.js";

/**
 * Per-call LFC timelines of two sessions: the busiest held-out session, and the exploited process with the most
 * alarms (the hijacked session or the shell it spawned), which tells the story better than the first alarm (usually
 * one of the exploit's short leak sessions).
 */
export function timelines(
  vocab: Vocabulary,
  detectors: TrainedModel[],
  held: LiveRun,
  attacked: LiveRun,
): Pick<DemoResult, "timeline" | "timelinePids"> {
  const busiest = busiestSession(held.traces);
  const alarmsByPid = new Map<number, number>();
  for (const a of attacked.alarms) alarmsByPid.set(a.pid, (alarmsByPid.get(a.pid) ?? 0) + 1);
  let loudest = attacked.alarms[0]?.pid;
  for (const [pid, n] of alarmsByPid) if (n >= (alarmsByPid.get(loudest!) ?? 0)) loudest = pid;
  const exploited =
    loudest !== undefined ? attacked.traces.find((t) => t.stream === loudest) : busiestSession(attacked.traces);
  const timeline: TimelinePoint[] = [];
  for (const [session, trace] of [
    ["normal", busiest],
    ["exploit", exploited],
  ] as const) {
    if (trace === undefined) continue;
    for (const d of detectors) {
      lfcSeries(d.detector, trace.calls).forEach((lfc, call) =>
        timeline.push({ session, model: d.kind, call, lfc, syscall: vocab.token(trace.calls[call]!) }),
      );
    }
  }
  return { timeline, timelinePids: { normal: busiest?.stream ?? null, exploit: exploited?.stream ?? null } };
}

/** The session with the most calls, past the first trace (the listening server's own). */
function busiestSession(traces: Trace[]): Trace | undefined {
  let best: Trace | undefined;
  for (const t of traces.slice(1)) if (best === undefined || t.calls.length > best.calls.length) best = t;
  return best;
}
