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
  const frame = flags.frame ?? 20;
  const lines: TraceScoreLine[] = [];
  let alarms = 0;
  const out = new JsonLinesOut();
  // Each trace is scored as it is read (whole when short, call by call when long) and then dropped, so any amount
  // of input, and a trace of any length, fits in memory.
  const scorer = new TraceStreamScorer(detector, { frame, hamming: scoreName === "hamming" }, (t: ScoredTrace) => {
    const line = scoreLine(t, scoreName, flags.threshold);
    if (line.alarm === true) alarms++;
    if (flags.json) out.write(line);
    else lines.push(line);
  });
  try {
    await readTraces(paths, { vocab: vocabulary, sink: new StreamChunker(scorer), ...inputReadOptions(flags) });
  } finally {
    out.flush();
  }
  if (!flags.json) {
    const about = detector.describe?.();
    process.stdout.write(
      `${paint(formatModelSpec(detector.kind, detector.options), "bold")} (profile ${flags.profile}), ` +
        `score = ${scoreName}, frame = ${frame}\n${about !== undefined ? `${about}\n` : ""}`,
    );
    printTable(lines, scoreName, flags.threshold, alarms);
  }
  ctx.exitCode = alarms > 0 ? EXIT_ANOMALY : 0;
}

/** One scored trace as `score` reports it. */
function scoreLine(t: ScoredTrace, scoreName: TraceScoreName, threshold: number | undefined): TraceScoreLine {
  const s = t.summary;
  const score = scoreOf(s, scoreName);
  return {
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
    alarm: threshold === undefined ? null : isAlarm(score, threshold),
  };
}

/**
 * JSON lines to stdout in chunks of about 64 KiB rather than one write per trace (thousands of small writes cost
 * more than the scoring of short traces); whatever is pending is written before any error is reported.
 */
class JsonLinesOut {
  private pending = "";

  write(line: TraceScoreLine): void {
    this.pending += `${JSON.stringify(line)}\n`;
    if (this.pending.length >= 65_536) this.flush();
  }

  flush(): void {
    if (this.pending !== "") process.stdout.write(this.pending);
    this.pending = "";
  }
}

function printTable(
  lines: TraceScoreLine[],
  scoreName: TraceScoreName,
  threshold: number | undefined,
  alarms: number,
): void {
  const alarmColumn = threshold !== undefined;
  const header = [
    "trace",
    "calls",
    "anomalies",
    "max LFC",
    scoreName,
    "first anomaly",
    ...(alarmColumn ? ["alarm"] : []),
  ];
  const rows = lines.map((l) => [
    l.source,
    l.calls,
    l.anomalies,
    l.maxLfc,
    Number(l.score.toPrecision(4)),
    l.firstAnomalyAt === null ? "-" : `call ${num(l.firstAnomalyAt)}`,
    ...(alarmColumn ? [l.alarm ? paint("ALARM", "red") : "ok"] : []),
  ]);
  process.stdout.write(`${table(header, rows)}\n`);
  if (alarmColumn) process.stdout.write(`${num(alarms)} of ${num(lines.length)} traces above ${threshold}\n`);
}
