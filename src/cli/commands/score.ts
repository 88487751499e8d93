// `homeostat score --profile PROFILE INPUT...`: scores traces against a trained profile, one line per trace
// (a table, or JSON lines with --json). With --threshold, traces scoring above it are alarms and the exit code
// is 1 when there is any (the question "did anything look anomalous?").

import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { isAlarm } from "../../detect/threshold.js";
import {
  defaultScoreName,
  isTraceScoreName,
  scoreOf,
  scoreTrace,
  TRACE_SCORE_NAMES,
  type TraceScoreName,
} from "../../detect/traceScore.js";
import { HomeostatError } from "../../errors.js";
import { readTraces } from "../../ingest/reader.js";
import { type Trace, TraceCollector, traceName } from "../../ingest/traceCollector.js";
import { decodeProfile } from "../../models/profile.js";
import { formatModelSpec } from "../../models/registry.js";
import { EXIT_ANOMALY } from "../errors.js";
import { addInputOptions, type InputFlags, inputReadOptions } from "../inputOptions.js";
import { intOption, type CliContext } from "../main.js";
import { num, paint, table } from "../terminal.js";

interface ScoreFlags extends InputFlags {
  profile: string;
  frame?: number;
  score?: string;
  threshold?: string;
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

export function readProfileFile(path: string) {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new HomeostatError(code === "ENOENT" ? "E_NOT_FOUND" : "E_IO", "cannot read profile", { file: path });
  }
  return decodeProfile(bytes, path);
}

export function registerScore(program: Command, ctx: CliContext): void {
  const cmd = program
    .command("score")
    .description("score traces against a profile: anomalies, locality frame counts, per-trace scores")
    .argument("<path...>", "traces to score: files, folders or archives")
    .requiredOption("-p, --profile <file>", "profile written by `homeostat train`")
    .option("--frame <calls>", "locality frame length in calls (default 20)", intOption("frame", 1))
    .option("--score <name>", `per-trace score: ${TRACE_SCORE_NAMES.join(", ")} (default: by model)`)
    .option("--threshold <value>", "alarm when a trace's score is above this; exit 1 if any trace alarms")
    .option("--json", "one JSON object per trace on stdout");
  addInputOptions(cmd).action(async (paths: string[], flags: ScoreFlags) => {
    const { detector, vocabulary } = readProfileFile(flags.profile);
    if (flags.score !== undefined && !isTraceScoreName(flags.score)) {
      throw new HomeostatError("E_USAGE", `unknown --score "${flags.score}" (one of ${TRACE_SCORE_NAMES.join(", ")})`);
    }
    const scoreName: TraceScoreName = (flags.score as TraceScoreName | undefined) ?? defaultScoreName(detector);
    let threshold: number | undefined;
    if (flags.threshold !== undefined) {
      threshold = Number(flags.threshold);
      if (!Number.isFinite(threshold)) throw new HomeostatError("E_USAGE", "--threshold needs a number");
    }
    const frame = flags.frame ?? 20;
    const lines: TraceScoreLine[] = [];
    let alarms = 0;
    // Each trace is scored as soon as it is read and then dropped, so any amount of input fits in memory.
    const collector = new TraceCollector({
      onTrace: (t: Trace) => {
        const s = scoreTrace(detector, t.calls, { frame, hamming: scoreName === "hamming" });
        const score = scoreOf(s, scoreName);
        const alarm = threshold === undefined ? null : isAlarm(score, threshold);
        if (alarm) alarms++;
        const line: TraceScoreLine = {
          source: traceName(t),
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
        if (flags.json) process.stdout.write(`${JSON.stringify(line)}\n`);
        else lines.push(line);
      },
    });
    await readTraces(paths, { vocab: vocabulary, sink: collector, ...inputReadOptions(flags) });
    if (!flags.json) {
      const about = detector.describe?.();
      process.stdout.write(
        `${paint(formatModelSpec(detector.kind, detector.options), "bold")} (profile ${flags.profile}), ` +
          `score = ${scoreName}, frame = ${frame}\n${about !== undefined ? `${about}\n` : ""}`,
      );
      process.stdout.write(
        `${table(
          ["trace", "calls", "anomalies", "max LFC", scoreName, "first anomaly", ...(threshold !== undefined ? ["alarm"] : [])],
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
      if (threshold !== undefined) process.stdout.write(`${num(alarms)} of ${num(lines.length)} traces above ${threshold}\n`);
    }
    ctx.exitCode = alarms > 0 ? EXIT_ANOMALY : 0;
  });
}
