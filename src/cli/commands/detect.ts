// `homeostat detect --profile PROFILE [--threshold T] -- CMD [ARGS...]`: runs a command under capture and scores
// it call by call against a profile, printing each alarm as it fires with the offending window as syscall names.
// Exit 1 when any alarm fired (the question is "did it behave abnormally?"), 0 when none did, 2 on bad input.

import type { Command } from "commander";
import { alarmWindowTokens } from "../../detect/alarm.js";
import type { AlarmMeasure } from "../../detect/alarm.js";
import { HomeostatError } from "../../errors.js";
import { formatModelSpec } from "../../models/registry.js";
import { type MonitoredAlarm, monitorCommand } from "../../monitor/commandMonitor.js";
import { onStopSignals, requireAfterDashes } from "../commandArgs.js";
import { EXIT_ANOMALY } from "../errors.js";
import { type CliContext, intOption } from "../main.js";
import { num, paint } from "../terminal.js";
import { readProfileFile } from "./score.js";

const MEASURES: readonly AlarmMeasure[] = ["lfc", "signal", "windowMean"];

interface DetectOptions {
  profile: string;
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
    .usage("--profile PROFILE [options] -- CMD [ARGS...]")
    .argument("[command...]", "the program and its arguments, after `--`")
    .requiredOption("-p, --profile <file>", "profile written by `homeostat train`")
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
    .action(async (command: string[], opts: DetectOptions) => {
      if (command.length === 0) throw new HomeostatError("E_USAGE", "nothing to run: give the command after `--`");
      requireAfterDashes(program, command, "homeostat detect --profile P -- CMD [ARGS...]");
      if (!(MEASURES as readonly string[]).includes(opts.measure)) {
        throw new HomeostatError("E_USAGE", `unknown --measure "${opts.measure}" (${MEASURES.join(", ")})`);
      }
      const measure = opts.measure as AlarmMeasure;
      if (opts.threshold === undefined && measure !== "lfc") {
        throw new HomeostatError("E_USAGE", `--measure ${measure} needs --threshold`);
      }
      const threshold = opts.threshold === undefined ? 0 : Number(opts.threshold);
      if (!Number.isFinite(threshold)) throw new HomeostatError("E_USAGE", "--threshold needs a number");
      const { detector, vocabulary } = readProfileFile(opts.profile);
      const spec = formatModelSpec(detector.kind, detector.options);

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
              profile: opts.profile,
              model: spec,
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
