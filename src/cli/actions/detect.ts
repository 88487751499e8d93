// The work of `homeostat detect` (registered in ../commands/detect.ts).

import type { Command } from "commander";
import { alarmWindowTokens } from "../../detect/alarm.js";
import type { AlarmMeasure, AlarmRule } from "../../detect/alarm.js";
import { HomeostatError } from "../../errors.js";
import type { Vocabulary } from "../../syscalls/vocabulary.js";
import type { Profile } from "../../models/profile.js";
import { formatModelSpec } from "../../models/registry.js";
import { staticProfile } from "../../static/staticProfile.js";
import { type CommandMonitorResult, type MonitoredAlarm, monitorCommand } from "../../watch/commandMonitor.js";
import { analyzeProgram } from "../../static/index.js";
import { abiWarning } from "../abiWarning.js";
import { onStopSignals, requireAfterDashes } from "../commandArgs.js";
import type { CliContext } from "../context.js";
import { EXIT_ANOMALY } from "../errors.js";
import { readProfileFile } from "../profileFile.js";
import { staticCache } from "../staticCache.js";
import { num, paint } from "../terminal.js";

export interface DetectOptions {
  profile?: string;
  static?: boolean;
  digraph?: boolean;
  cache: boolean;
  cacheDir?: string;
  threshold?: number;
  measure: string;
  frame?: number;
  window?: number;
  json?: boolean;
}

const MEASURES: readonly AlarmMeasure[] = ["lfc", "signal", "windowMean"];

export async function runDetect(
  program: Command,
  command: string[],
  opts: DetectOptions,
  cmd: Command,
  ctx: CliContext,
): Promise<void> {
  const rule = checkDetectFlags(program, command, opts, cmd);
  const { detector, vocabulary } = loadProfile(command, opts);
  const spec = formatModelSpec(detector.kind, detector.options);
  const about = detector.describe?.();
  if (about !== undefined && !opts.json) process.stderr.write(`homeostat: scoring against the ${about}\n`);
  const monitor = monitorCommand({
    command,
    detector,
    vocabulary,
    rule,
    ...(opts.frame !== undefined ? { frame: opts.frame } : {}),
    ...(opts.window !== undefined ? { window: opts.window } : {}),
    onAlarm: (a) => printAlarm(a, vocabulary, opts.json === true),
  });
  let interrupted = false;
  const removeHandlers = onStopSignals(() => {
    interrupted = true;
    monitor.stop();
  });
  try {
    const r = await monitor.done;
    printSummary(r, { command, opts, spec, about, interrupted });
    ctx.exitCode = r.alarms > 0 ? EXIT_ANOMALY : 0;
  } finally {
    removeHandlers();
  }
}

/** The flags checked against one another; the alarm rule they give. */
function checkDetectFlags(program: Command, command: string[], opts: DetectOptions, cmd: Command): AlarmRule {
  if (command.length === 0) throw new HomeostatError("E_USAGE", "nothing to run: give the command after `--`");
  requireAfterDashes(program, command, "homeostat detect --profile P -- CMD [ARGS...]");
  if ((opts.profile === undefined) === (opts.static !== true)) {
    throw new HomeostatError("E_USAGE", "give either --profile PROFILE or --static");
  }
  if (
    opts.static !== true &&
    (opts.digraph === true || cmd.getOptionValueSource("cache") === "cli" || opts.cacheDir !== undefined)
  ) {
    throw new HomeostatError("E_USAGE", "--digraph, --no-cache and --cache-dir go with --static");
  }
  if (!(MEASURES as readonly string[]).includes(opts.measure)) {
    throw new HomeostatError("E_USAGE", `unknown --measure "${opts.measure}" (${MEASURES.join(", ")})`);
  }
  // A static model alarms at every impossible call: each one is a call the binary cannot make, so no threshold
  // or locality frame could make it normal. The signal measure at 0 fires at each impossible call that follows
  // a possible one (alarms are edge-triggered: a run of impossible calls is one alarm).
  if (opts.static === true && (cmd.getOptionValueSource("measure") === "cli" || opts.threshold !== undefined)) {
    throw new HomeostatError(
      "E_USAGE",
      "--static alarms at every impossible call: --measure and --threshold do not apply",
    );
  }
  const measure = opts.static === true ? "signal" : (opts.measure as AlarmMeasure);
  if (opts.threshold === undefined && measure !== "lfc" && opts.static !== true) {
    throw new HomeostatError("E_USAGE", `--measure ${measure} needs --threshold`);
  }
  return { measure, threshold: opts.threshold ?? 0 };
}

/** The profile of --profile, or one from a static analysis of the command's executable (--static). */
function loadProfile(command: string[], opts: DetectOptions): Profile {
  if (opts.static === true) {
    const cache = staticCache(opts);
    const model = analyzeProgram(command[0]!, {
      digraph: opts.digraph === true,
      ...(cache !== undefined ? { cache } : {}),
    });
    return staticProfile(model, opts.digraph === true ? "digraph" : "set");
  }
  const loaded = readProfileFile(opts.profile!);
  // A static profile is of this very binary; a trained one may come from traces of another ABI (ADFA-LD is i386).
  const foreign = abiWarning(opts.profile!, loaded.vocabulary.toArray());
  if (foreign !== undefined) process.stderr.write(`${foreign}\n`);
  return loaded;
}

function printAlarm(a: MonitoredAlarm, vocabulary: Vocabulary, json: boolean): void {
  const window = alarmWindowTokens(a, vocabulary);
  if (json) {
    process.stdout.write(
      `${JSON.stringify({
        type: "alarm",
        pid: a.stream,
        ...(a.program !== undefined ? { program: a.program } : {}),
        position: a.position,
        syscall: window.at(-1),
        measure: a.measure,
        value: a.value,
        threshold: a.threshold,
        lfc: a.lfc,
        window,
      })}\n`,
    );
  } else {
    process.stderr.write(
      `${paint("ALARM", "red", process.stderr)} pid ${a.stream}${a.program !== undefined ? ` (${a.program})` : ""} ` +
        `call ${num(a.position)}: ${a.measure} ${Number(a.value.toPrecision(4))} > ${a.threshold}; ` +
        `... ${window.join(", ")}\n`,
    );
  }
}

/** What the summary names besides the monitor's result. */
interface SummaryContext {
  command: string[];
  opts: DetectOptions;
  spec: string;
  about: string | undefined;
  interrupted: boolean;
}

function printSummary(r: CommandMonitorResult, c: SummaryContext): void {
  const calls = r.streams.reduce((a, s) => a + s.summary.calls, 0);
  const fate = r.capture.signal !== undefined ? `killed by ${r.capture.signal}` : `exit status ${r.capture.exitCode}`;
  if (c.opts.json) {
    process.stdout.write(
      `${JSON.stringify({
        type: "summary",
        ...(c.opts.profile !== undefined ? { profile: c.opts.profile } : {}),
        model: c.spec,
        ...(c.about !== undefined ? { about: c.about } : {}),
        command: c.command,
        exitCode: r.capture.exitCode,
        ...(r.capture.signal !== undefined ? { signal: r.capture.signal } : {}),
        calls,
        streams: r.streams.length,
        alarms: r.alarms,
        interrupted: c.interrupted,
      })}\n`,
    );
  } else {
    process.stderr.write(
      `homeostat: ${c.command[0]} ${fate}; ${num(calls)} calls in ${num(r.streams.length)} processes/threads scored ` +
        `against ${c.spec}; ${r.alarms === 0 ? paint("no alarm", "green", process.stderr) : paint(`${num(r.alarms)} alarm${r.alarms === 1 ? "" : "s"}`, "red", process.stderr)}\n`,
    );
  }
}
