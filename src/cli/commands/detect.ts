// `homeostat detect --profile PROFILE [--threshold T] -- CMD [ARGS...]`: runs a command under capture and scores
// it call by call against a profile, printing each alarm as it fires with the offending window as syscall names.
// `--static` scores it instead against a static analysis of CMD's executable (Wagner & Dean 2001): every call the
// binary cannot make alarms. Exit 1 when any alarm fired (the question is "did it behave abnormally?"), 0 when
// none did, 2 on bad input.

import type { Command } from "commander";
import { alarmWindowTokens } from "../../detect/alarm.js";
import type { AlarmMeasure } from "../../detect/alarm.js";
import { HomeostatError } from "../../errors.js";
import type { Profile } from "../../models/profile.js";
import { formatModelSpec } from "../../models/registry.js";
import { staticProfile } from "../../models/staticProfile.js";
import { type MonitoredAlarm, monitorCommand } from "../../monitor/commandMonitor.js";
import { analyzeProgram } from "../../static/index.js";
import { onStopSignals, requireAfterDashes } from "../commandArgs.js";
import { EXIT_ANOMALY } from "../errors.js";
import { type CliContext, intOption } from "../main.js";
import { num, paint } from "../terminal.js";
import { readProfileFile } from "./score.js";
import { staticCache } from "./static.js";

const MEASURES: readonly AlarmMeasure[] = ["lfc", "signal", "windowMean"];

interface DetectOptions {
  profile?: string;
  static?: boolean;
  digraph?: boolean;
  cache: boolean;
  cacheDir?: string;
  threshold?: string;
  measure: string;
  frame?: number;
  window?: number;
  json?: boolean;
}

export function registerDetect(program: Command, ctx: CliContext): void {
  program
    .command("detect")
    .description("run a program under capture and score it live against a profile; print alarms as they fire")
    .usage("--profile PROFILE | --static [options] -- CMD [ARGS...]")
    .argument("[command...]", "the program and its arguments, after `--`")
    .option("-p, --profile <file>", "profile written by `homeostat train` or `homeostat static --out`")
    .option(
      "--static",
      "instead of a profile, analyse CMD's executable (`homeostat static`) and alarm at every call it cannot make",
    )
    .option("--digraph", "with --static: also alarm at a call that cannot follow the one before (Wagner & Dean's digraph)")
    .option("--no-cache", "with --static: analyse every object afresh, without the build-id cache")
    .option("--cache-dir <dir>", "with --static: build-id cache of per-object summaries")
    .option(
      "--measure <name>",
      "what alarms: lfc (anomalous calls among the last --frame, Hofmeyr 1998), signal (one call's signal), " +
        "windowMean (mean signal over the last --window calls)",
      "lfc",
    )
    .option(
      "--threshold <value>",
      "alarm when the measure rises above this (default 0 for lfc: any call the profile never saw in its context; " +
        "raise it to tolerate isolated anomalies, as Hofmeyr's LFC thresholds do; required for other measures)",
    )
    .option("--frame <calls>", "locality frame length in calls (default 20)", intOption("frame", 1))
    .option("--window <calls>", "window of the windowMean measure (default 20)", intOption("window", 1))
    .option("--json", "one JSON object per alarm, then a summary object, on stdout")
    .allowUnknownOption()
    .action(async (command: string[], opts: DetectOptions, cmd: Command) => {
      if (command.length === 0) throw new HomeostatError("E_USAGE", "nothing to run: give the command after `--`");
      requireAfterDashes(program, command, "homeostat detect --profile P -- CMD [ARGS...]");
      if ((opts.profile === undefined) === (opts.static !== true)) {
        throw new HomeostatError("E_USAGE", "give either --profile PROFILE or --static");
      }
      if (opts.static !== true && (opts.digraph === true || cmd.getOptionValueSource("cache") === "cli" || opts.cacheDir !== undefined)) {
        throw new HomeostatError("E_USAGE", "--digraph, --no-cache and --cache-dir go with --static");
      }
      if (!(MEASURES as readonly string[]).includes(opts.measure)) {
        throw new HomeostatError("E_USAGE", `unknown --measure "${opts.measure}" (${MEASURES.join(", ")})`);
      }
      // A static model alarms at every impossible call: each one is a call the binary cannot make, so no threshold
      // or locality frame could make it normal. The signal measure at 0 fires at each impossible call that follows
      // a possible one (alarms are edge-triggered: a run of impossible calls is one alarm).
      if (opts.static === true && (cmd.getOptionValueSource("measure") === "cli" || opts.threshold !== undefined)) {
        throw new HomeostatError("E_USAGE", "--static alarms at every impossible call: --measure and --threshold do not apply");
      }
      const measure = opts.static === true ? "signal" : (opts.measure as AlarmMeasure);
      if (opts.threshold === undefined && measure !== "lfc" && opts.static !== true) {
        throw new HomeostatError("E_USAGE", `--measure ${measure} needs --threshold`);
      }
      const threshold = opts.threshold === undefined ? 0 : Number(opts.threshold);
      if (!Number.isFinite(threshold)) throw new HomeostatError("E_USAGE", "--threshold needs a number");
      let loaded: Profile;
      if (opts.static === true) {
        const cache = staticCache(opts);
        const model = analyzeProgram(command[0]!, { digraph: opts.digraph === true, ...(cache !== undefined ? { cache } : {}) });
        loaded = staticProfile(model, opts.digraph === true ? "digraph" : "set");
      } else loaded = readProfileFile(opts.profile!);
      const { detector, vocabulary } = loaded;
      const spec = formatModelSpec(detector.kind, detector.options);
      const about = detector.describe?.();
      if (about !== undefined && !opts.json) process.stderr.write(`homeostat: scoring against the ${about}\n`);

      const print = (a: MonitoredAlarm): void => {
        const window = alarmWindowTokens(a, vocabulary);
        if (opts.json) {
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
      };
      const monitor = monitorCommand({
        command,
        detector,
        vocabulary,
        rule: { measure, threshold },
        ...(opts.frame !== undefined ? { frame: opts.frame } : {}),
        ...(opts.window !== undefined ? { window: opts.window } : {}),
        onAlarm: print,
      });
      let interrupted = false;
      const onSignal = (): void => {
        interrupted = true;
        monitor.stop();
      };
      const removeHandlers = onStopSignals(onSignal);
      try {
        const r = await monitor.done;
        const calls = r.streams.reduce((a, s) => a + s.summary.calls, 0);
        const fate = r.capture.signal !== undefined ? `killed by ${r.capture.signal}` : `exit status ${r.capture.exitCode}`;
        if (opts.json) {
          process.stdout.write(
            `${JSON.stringify({
              type: "summary",
              ...(opts.profile !== undefined ? { profile: opts.profile } : {}),
              model: spec,
              ...(about !== undefined ? { about } : {}),
              command,
              exitCode: r.capture.exitCode,
              ...(r.capture.signal !== undefined ? { signal: r.capture.signal } : {}),
              calls,
              streams: r.streams.length,
              alarms: r.alarms,
              interrupted,
            })}\n`,
          );
        } else {
          process.stderr.write(
            `homeostat: ${command[0]} ${fate}; ${num(calls)} calls in ${num(r.streams.length)} processes/threads scored ` +
              `against ${spec}; ${r.alarms === 0 ? paint("no alarm", "green", process.stderr) : paint(`${num(r.alarms)} alarm${r.alarms === 1 ? "" : "s"}`, "red", process.stderr)}\n`,
          );
        }
        ctx.exitCode = r.alarms > 0 ? EXIT_ANOMALY : 0;
      } finally {
        removeHandlers();
      }
    });
}
