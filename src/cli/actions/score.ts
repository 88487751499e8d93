// The work of `homeostat score` (registered in ../commands/score.ts).

import { isAlarm } from "../../detect/threshold.js";
import {
  defaultScoreName,
  isTraceScoreName,
  scoreOf,
  TRACE_SCORE_NAMES,
  type TraceScoreName,
} from "../../detect/traceScore.js";
import { type ScoredTrace, scoredTraceName, TraceStreamScorer } from "../../detect/traceStreamScorer.js";
import { HomeostatError } from "../../errors.js";
import { readTraces } from "../../ingest/reader.js";
import { StreamChunker } from "../../ingest/streamChunker.js";
import { formatModelSpec } from "../../models/registry.js";
import type { CliContext } from "../context.js";
import { EXIT_ANOMALY } from "../errors.js";
import { type InputFlags, inputReadOptions } from "../inputOptions.js";
import { readProfileFile } from "../profileFile.js";
import { num, paint, table } from "../terminal.js";

export interface ScoreFlags extends InputFlags {
  profile: string;
  frame?: number;
  score?: string;
  threshold?: number;
  json?: boolean;
}

export interface TraceScoreLine {
  source: string;
  label?: string;
  calls: number;
  windows: number;
  anomalies: number;
  maxLfc: number;
  score: number;
  scoreName: TraceScoreName;
  firstAnomalyAt: number | null;
  lastAnomalyAt: number | null;
  alarm: boolean | null;
}

export async function runScore(paths: string[], flags: ScoreFlags, ctx: CliContext): Promise<void> {
  const { detector, vocabulary } = readProfileFile(flags.profile);
  if (flags.score !== undefined && !isTraceScoreName(flags.score)) {
    throw new HomeostatError("E_USAGE", `unknown --score "${flags.score}" (one of ${TRACE_SCORE_NAMES.join(", ")})`);
  }
  const scoreName: TraceScoreName = (flags.score as TraceScoreName | undefined) ?? defaultScoreName(detector);
  const threshold = flags.threshold;
  const frame = flags.frame ?? 20;
  const lines: TraceScoreLine[] = [];
  let alarms = 0;
  // JSON lines go out in chunks of about 64 KiB rather than one write per trace (thousands of small writes cost
  // more than the scoring of short traces); whatever is pending is written before any error is reported.
  let pending = "";
  const flush = (): void => {
    if (pending !== "") process.stdout.write(pending);
    pending = "";
  };
  // Each trace is scored as it is read (whole when short, call by call when long) and then dropped, so any amount
  // of input, and a trace of any length, fits in memory.
  const scorer = new TraceStreamScorer(detector, { frame, hamming: scoreName === "hamming" }, (t: ScoredTrace) => {
    const s = t.summary;
    const score = scoreOf(s, scoreName);
    const alarm = threshold === undefined ? null : isAlarm(score, threshold);
    if (alarm) alarms++;
    const line: TraceScoreLine = {
      source: scoredTraceName(t),
      ...(t.source.label !== undefined ? { label: t.source.label } : {}),
      calls: s.calls,
      windows: s.windows,
      anomalies: s.anomalies,
      maxLfc: s.maxLfc,
      score,
      scoreName,
      firstAnomalyAt: s.firstAnomalyAt,
      lastAnomalyAt: s.lastAnomalyAt,
      alarm,
    };
    if (flags.json) {
      pending += `${JSON.stringify(line)}\n`;
      if (pending.length >= 65_536) flush();
    } else lines.push(line);
  });
  try {
    await readTraces(paths, { vocab: vocabulary, sink: new StreamChunker(scorer), ...inputReadOptions(flags) });
  } finally {
    flush();
  }
  if (!flags.json) {
    const about = detector.describe?.();
    process.stdout.write(
      `${paint(formatModelSpec(detector.kind, detector.options), "bold")} (profile ${flags.profile}), ` +
        `score = ${scoreName}, frame = ${frame}\n${about !== undefined ? `${about}\n` : ""}`,
    );
    process.stdout.write(
      `${table(
        [
          "trace",
          "calls",
          "anomalies",
          "max LFC",
          scoreName,
          "first anomaly",
          ...(threshold !== undefined ? ["alarm"] : []),
        ],
        lines.map((l) => [
          l.source,
          l.calls,
          l.anomalies,
          l.maxLfc,
          Number(l.score.toPrecision(4)),
          l.firstAnomalyAt === null ? "-" : `call ${num(l.firstAnomalyAt)}`,
          ...(threshold !== undefined ? [l.alarm ? paint("ALARM", "red") : "ok"] : []),
        ]),
      )}\n`,
    );
    if (threshold !== undefined)
      process.stdout.write(`${num(alarms)} of ${num(lines.length)} traces above ${threshold}\n`);
  }
  ctx.exitCode = alarms > 0 ? EXIT_ANOMALY : 0;
}
