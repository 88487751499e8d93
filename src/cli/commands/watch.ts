// `homeostat watch`: the host monitor (pH in user space). System-wide with eBPF (bpftrace), or one command / pid
// with strace; per-executable profiles that train themselves and become normal, kept in the state store; alerts on
// stderr (or as Falco-format JSON lines with --json / --alerts FILE); graduated responses with --response. With
// --static (alert by default) each executable's binary is analysed and a call its code cannot make is alerted
// (or, with --static kill, the process killed) from its first run, before any training; so is a pair of consecutive
// calls its code cannot make in that order (the digraph; --static-model set checks calls only).
// Exit 0 when no anomaly (nor call outside a static model) was alerted, 1 when one was, 2 on usage or input errors,
// 3 when this machine lacks what watch needs (a tool, a permission, a kernel feature) or the state is in use.

import { closeSync, writeSync } from "node:fs";
import type { Command } from "commander";
import { HomeostatError } from "../../errors.js";
import { type HostAlert, IMPOSSIBLE_RULE } from "../../engine/hostMonitor.js";
import {
  type HostWatch,
  type HostWatchSummary,
  STATIC_POLICIES,
  type StaticPolicy,
  startHostWatch,
  type WatchBackend,
} from "../../watch/hostWatch.js";
import { LIFECYCLE_DEFAULTS, type LifecycleSettings } from "../../lifecycle/phProfile.js";
import { RESPONSE_POLICIES, type ResponseAction, type ResponsePolicy } from "../../response/responder.js";
import { defaultStateDir, StateStore } from "../../store/stateStore.js";
import { openRegularForAppending } from "../../ingest/outputFile.js";
import { onStopSignals, refuseCommandAndPid, requireAfterDashes } from "../commandArgs.js";
import { EXIT_ANOMALY } from "../errors.js";
import type { CliContext } from "../context.js";
import {
  COUNT_MAX,
  intOption,
  KEEP_ALERTS_MAX,
  NORMAL_WAIT_MAX_S,
  numberOption,
  PID_MAX,
  RING_BUFFER_PAGES_MAX,
  TIMER_MAX_MS,
  TIMER_MAX_S,
} from "../numberOptions.js";
import { num, paint } from "../terminal.js";

interface WatchFlags {
  backend?: string;
  model?: string;
  pid?: number;
  state?: string;
  response: string;
  static: string;
  staticModel: string;
  dryRun?: boolean;
  allow: string[];
  delayFactor: number;
  maxDelay: number;
  suspendExecveTime: number;
  execveLimit?: number;
  normalFactor: number;
  normalFactorDen: number;
  normalWait: number;
  anomalyLimit: number;
  tolerizeLimit: number;
  saveInterval: number;
  duration?: number;
  maxTasks: number;
  maxProfiles: number;
  ringBufferPages?: number;
  keepAlerts: number;
  json?: boolean;
  alerts?: string;
  quiet?: boolean;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function parsePolicies(text: string): Set<ResponsePolicy> {
  const out = new Set<ResponsePolicy>();
  for (const p of text
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "")) {
    if (!(RESPONSE_POLICIES as readonly string[]).includes(p)) {
      throw new HomeostatError(
        "E_USAGE",
        `unknown --response "${p}" (${RESPONSE_POLICIES.join(", ")}; several joined by commas)`,
      );
    }
    out.add(p as ResponsePolicy);
  }
  if (out.size === 0) out.add("log");
  return out;
}

export function registerWatch(program: Command, ctx: CliContext): void {
  program
    .command("watch")
    .description(
      "watch the host (eBPF) or a command/pid (strace): per-program profiles train themselves and become normal; " +
        "anomalies raise alerts and, with --response, graduated delays",
    )
    .usage("[options]  |  watch --backend strace [options] -- CMD [ARGS...]  |  watch --pid PID [options]")
    .argument("[command...]", "with --backend strace: the program to run and watch, after `--`")
    .option(
      "--backend <name>",
      "bpftrace (system-wide eBPF; the default without a command) or strace (a command or --pid)",
    )
    .option(
      "-p, --pid <pid>",
      "watch a running process and its descendants (strace backend)",
      intOption("pid", 1, PID_MAX),
    )
    .option("--state <dir>", `state directory with the profile database (default ${defaultStateDir()})`)
    .option(
      "--model <spec>",
      "model of new profiles: ph (pH's lookahead pairs, the default) or a detector that learns live: " +
        "stide, tstide, lookahead, ngram, with options as in train (e.g. stide:k=6)",
    )
    .option(
      "--response <policies>",
      "log (default: alerts only), delay (pH: pause an anomalous process delay-factor x 2^LFC ms), kill (at " +
        "--anomaly-limit anomalies), suspend-execve (stop a process calling execve with LFC >= --execve-limit); " +
        "join several with commas, e.g. delay,kill",
      "log",
    )
    .option(
      "--static <mode>",
      "static models of each program's binary (the system calls its code can make): off, alert (the default: a " +
        "call outside the model is alerted, from the program's first run), kill (also kill the process, when the " +
        "model is complete)",
      "alert",
    )
    .option(
      "--static-model <model>",
      "what the static check holds a program to: digraph (the default: its calls, and which call may follow which, " +
        "Wagner & Dean) or set (its calls only: a cheaper analysis)",
      "digraph",
    )
    .option("--dry-run", "decide responses and log them, but signal nothing")
    .option("--allow <exe>", "an executable (absolute path) never acted on; repeatable", collect, [])
    .option(
      "--delay-factor <ms>",
      "pH's delay_factor: milliseconds per 2^LFC",
      numberOption("delay-factor", 0, TIMER_MAX_MS),
      10,
    )
    .option("--max-delay <ms>", "cap of one pause", numberOption("max-delay", 1, TIMER_MAX_MS), 5000)
    .option(
      "--suspend-execve-time <s>",
      "how long a suspended execve stops the process (pH: 2 days)",
      numberOption("suspend-execve-time", 0, TIMER_MAX_S),
      172_800,
    )
    .option(
      "--execve-limit <lfc>",
      "LFC at or above which execve is suspended (default --tolerize-limit)",
      intOption("execve-limit", 1, COUNT_MAX),
    )
    .option(
      "--normal-factor <n>",
      "pH normal_factor",
      intOption("normal-factor", 1, COUNT_MAX),
      LIFECYCLE_DEFAULTS.normalFactor,
    )
    .option(
      "--normal-factor-den <n>",
      "pH normal_factor_den: a profile freezes when train_count x den > (train_count - last_mod_count) x factor",
      intOption("normal-factor-den", 1, COUNT_MAX),
      LIFECYCLE_DEFAULTS.normalFactorDen,
    )
    .option(
      "--normal-wait <s>",
      "seconds a frozen profile waits before becoming normal (pH: one week)",
      numberOption("normal-wait", 0, NORMAL_WAIT_MAX_S),
      LIFECYCLE_DEFAULTS.normalWait,
    )
    .option(
      "--anomaly-limit <n>",
      "pH anomaly_limit: a profile with more anomalies stops being normal; kill threshold",
      intOption("anomaly-limit", 1, COUNT_MAX),
      LIFECYCLE_DEFAULTS.anomalyLimit,
    )
    .option(
      "--tolerize-limit <n>",
      "pH tolerize_limit: a process with a higher LFC resets its profile's training",
      intOption("tolerize-limit", 1, COUNT_MAX),
      LIFECYCLE_DEFAULTS.tolerizeLimit,
    )
    .option(
      "--save-interval <s>",
      "seconds between profile saves (also saved at the end)",
      numberOption("save-interval", 0.1, TIMER_MAX_S),
      30,
    )
    .option("--duration <s>", "stop after this many seconds", numberOption("duration", 0.1, TIMER_MAX_S))
    .option(
      "--max-tasks <n>",
      "tasks tracked at most; events of more are dropped, counted and alerted",
      intOption("max-tasks", 1, PID_MAX),
      65_536,
    )
    .option(
      "--max-profiles <n>",
      "profiles held at most; events of more programs are dropped, counted and alerted",
      intOption("max-profiles", 1, COUNT_MAX),
      4_096,
    )
    .option(
      "--keep-alerts <n>",
      "newest alerts (and actions) kept in the store; older ones are pruned at each save",
      intOption("keep-alerts", 0, KEEP_ALERTS_MAX),
      1_000_000,
    )
    .option(
      "--ring-buffer-pages <n>",
      "bpftrace's perf ring buffer per CPU, in pages",
      intOption("ring-buffer-pages", 1, RING_BUFFER_PAGES_MAX),
    )
    .option("--json", "alerts as Falco-format JSON lines on stdout (and a final summary line)")
    .option(
      "--alerts <file>",
      "also append alerts as Falco-format JSON lines to this regular file (a symlink or device is refused)",
    )
    .option("-q, --quiet", "no lifecycle lines on stderr, only anomalies and actions")
    .allowUnknownOption()
    .action(async (command: string[], opts: WatchFlags) => {
      requireAfterDashes(program, command, "homeostat watch --backend strace [options] -- CMD [ARGS...]");
      refuseCommandAndPid(command, opts.pid);
      const targeted = command.length > 0 || opts.pid !== undefined;
      const backend = (opts.backend ?? (targeted ? "strace" : "bpftrace")) as WatchBackend;
      if (backend !== "bpftrace" && backend !== "strace") {
        throw new HomeostatError("E_USAGE", `unknown --backend "${opts.backend}" (bpftrace, strace)`);
      }
      if (backend === "strace" && !targeted) {
        throw new HomeostatError(
          "E_USAGE",
          "the strace backend watches one program: give a command after `--`, or --pid PID",
        );
      }
      if (backend === "bpftrace") {
        if (targeted)
          throw new HomeostatError(
            "E_USAGE",
            "the bpftrace backend watches the whole host; a command or --pid needs --backend strace",
          );
      }
      const policies = parsePolicies(opts.response);
      if (!(STATIC_POLICIES as readonly string[]).includes(opts.static)) {
        throw new HomeostatError("E_USAGE", `unknown --static "${opts.static}" (${STATIC_POLICIES.join(", ")})`);
      }
      const staticPolicy = opts.static as StaticPolicy;
      if (opts.staticModel !== "digraph" && opts.staticModel !== "set") {
        throw new HomeostatError("E_USAGE", `unknown --static-model "${opts.staticModel}" (digraph, set)`);
      }
      const settings: Partial<LifecycleSettings> = {
        normalFactor: opts.normalFactor,
        normalFactorDen: opts.normalFactorDen,
        normalWait: opts.normalWait,
        anomalyLimit: opts.anomalyLimit,
        tolerizeLimit: opts.tolerizeLimit,
      };
      const stateDir = opts.state ?? defaultStateDir();
      const store = StateStore.open(stateDir);
      let alertsFd: number | undefined;
      if (opts.alerts !== undefined) {
        try {
          // Appended to, never replaced; but only ever a regular file (not a device, FIFO or symlink).
          alertsFd = openRegularForAppending(opts.alerts);
        } catch (err) {
          store.close();
          throw err;
        }
      }

      const err = process.stderr;
      let anomalies = 0;
      const onAlert = (a: HostAlert): void => {
        const line = `${JSON.stringify(a)}\n`;
        if (alertsFd !== undefined) writeSync(alertsFd, line);
        if (a.rule === "Anomalous system calls" || a.rule === IMPOSSIBLE_RULE) anomalies++;
        if (opts.json) {
          process.stdout.write(line);
          return;
        }
        const lifecycle = a.tags.includes("lifecycle");
        if (lifecycle && opts.quiet) return;
        const colour =
          a.priority === "Critical" || a.priority === "Error" ? "red" : a.priority === "Warning" ? "yellow" : "cyan";
        err.write(`${paint(a.priority.toUpperCase(), colour, err)} ${a.output}\n`);
        const window = a.output_fields["homeostat.window"];
        if (Array.isArray(window)) err.write(`  ... ${window.join(", ")}\n`);
      };
      const onAction = (a: ResponseAction): void => {
        if (opts.json) return; // actions are in the store; the JSON stream stays Falco alerts only
        err.write(
          `${paint("ACTION", a.outcome === "refused" ? "yellow" : "red", err)} ${a.kind} pid ${a.pid} ${a.exe}: ${a.outcome} (${a.reason})\n`,
        );
      };
      const acting = [...policies].some((p) => p !== "log") || staticPolicy === "kill";
      let watch: HostWatch;
      try {
        watch = startHostWatch({
          backend,
          ...(command.length > 0 ? { command } : {}),
          ...(opts.pid !== undefined ? { pid: opts.pid } : {}),
          store,
          settings,
          ...(opts.model !== undefined ? { model: opts.model } : {}),
          ...(acting
            ? {
                response: {
                  policies,
                  delayFactorMs: opts.delayFactor,
                  maxDelayMs: opts.maxDelay,
                  suspendExecveMs: opts.suspendExecveTime * 1000,
                  allow: opts.allow,
                  dryRun: opts.dryRun === true,
                },
              }
            : {}),
          ...(opts.execveLimit !== undefined ? { execveLimit: opts.execveLimit } : {}),
          staticModels: staticPolicy,
          staticDigraph: opts.staticModel === "digraph",
          saveIntervalMs: opts.saveInterval * 1000,
          maxTasks: opts.maxTasks,
          maxProfiles: opts.maxProfiles,
          keepRecords: opts.keepAlerts,
          ...(opts.ringBufferPages !== undefined ? { ringBufferPages: opts.ringBufferPages } : {}),
          onAlert,
          onAction,
          onWarning: (m) => err.write(`homeostat: warning: ${m}\n`),
          onMessage: (line) => {
            if (!opts.quiet) err.write(`${line}\n`);
          },
        });
      } catch (e) {
        store.close();
        if (alertsFd !== undefined) closeSync(alertsFd);
        throw e;
      }
      let interrupted = false;
      const removeHandlers = onStopSignals(() => {
        interrupted = true;
        watch.stop();
      });
      const timer = opts.duration !== undefined ? setTimeout(() => watch.stop(), opts.duration * 1000) : undefined;
      try {
        await watch.ready;
      } catch {
        // the capture failed to start: `done` rejects with the reason
      }
      if (!opts.quiet) {
        err.write(
          `homeostat: watching ${backend === "bpftrace" ? "the host (eBPF)" : command.length > 0 ? command.join(" ") : `pid ${opts.pid}`}; ` +
            `state in ${store.path}; response ${[...policies].join(",")}${opts.dryRun ? " (dry run)" : ""}; ` +
            `static models ${staticPolicy}${staticPolicy === "off" ? "" : ` (${opts.staticModel})`}; Ctrl-C to stop\n`,
        );
      }
      let summary: HostWatchSummary;
      try {
        summary = await watch.done;
      } finally {
        if (timer !== undefined) clearTimeout(timer);
        removeHandlers();
        store.close();
        if (alertsFd !== undefined) closeSync(alertsFd);
      }
      report(summary, opts, interrupted);
      ctx.exitCode = anomalies > 0 ? EXIT_ANOMALY : 0;
    });
}

function report(s: HostWatchSummary, opts: WatchFlags, interrupted: boolean): void {
  const m = s.monitor;
  const lost = m.lost.kernel + m.lost.capture + m.lost.monitor;
  const body = {
    backend: s.backend,
    seconds: Number((s.endedAt - s.startedAt).toFixed(3)),
    captured: s.capture.syscalls,
    ...(s.capture.kernelSyscalls !== undefined ? { kernelCounted: s.capture.kernelSyscalls } : {}),
    processed: m.processed,
    ignored: m.ignored,
    unattributed: m.unattributed,
    pending: m.pending,
    dropped: m.dropped,
    lost: m.lost,
    tasks: m.tasks,
    profiles: m.profiles,
    profilesSaved: s.profilesSaved,
    saves: s.saves,
    alerts: m.alerts,
    suppressedAlerts: m.suppressedAlerts,
    alertsStored: s.alertsStored,
    actionsStored: s.actionsStored,
    queueDropped: s.queueDropped,
    reloaded: s.reloaded,
    unreadable: s.unreadable,
    static: s.static,
    responder: s.responder,
    interrupted,
    ...(s.command !== undefined
      ? { exitCode: s.command.exitCode, ...(s.command.signal !== undefined ? { signal: s.command.signal } : {}) }
      : {}),
  };
  if (opts.json) {
    // A summary in the same Falco shape as the alerts, so that every line of the stream parses alike.
    process.stdout.write(
      `${JSON.stringify({
        time: new Date(s.endedAt * 1000).toISOString(),
        rule: "homeostat watch summary",
        priority: "Informational",
        source: "syscall",
        hostname: "",
        tags: ["homeostat", "summary"],
        output: `homeostat watch ended: ${body.captured} events captured, ${body.processed} processed`,
        output_fields: body,
      })}\n`,
    );
    return;
  }
  const err = process.stderr;
  err.write(
    `homeostat: ${num(body.captured)} events captured${body.kernelCounted !== undefined ? ` (${num(body.kernelCounted)} counted in the kernel)` : ""}, ` +
      `${num(body.processed)} scored, ${num(body.unattributed)} unattributed, ${num(body.ignored)} of homeostat ignored; ` +
      `${lost === 0 ? "none lost" : paint(`${num(lost)} lost (kernel ${m.lost.kernel}, capture ${m.lost.capture}, monitor ${m.lost.monitor})`, "red", err)}\n` +
      `homeostat: ${num(m.profiles)} profiles (${num(s.profilesSaved)} saves of profiles), ${num(m.alerts)} alerts, ` +
      `${num(s.responder.paused)} pauses (${num(s.responder.pausedMs)} ms), ${num(s.responder.killed)} kills, ` +
      `${num(s.responder.suspended)} suspended execve, ${num(s.responder.refused)} refused\n`,
  );
  const st = s.static;
  if (st.policy !== "off") {
    const outside =
      st.impossibleCalls === 0
        ? "no call outside them"
        : paint(
            `${num(st.impossibleCalls)} calls outside them${st.impossibleUncertain > 0 ? ` (${num(st.impossibleUncertain)} outside incomplete models)` : ""}`,
            "red",
            err,
          );
    err.write(
      `homeostat: static models: ${num(st.analysed)} analysed, ${num(st.fromStore)} from the store, ${num(st.reanalysed)} re-derived, ` +
        `${num(st.failed)} failed, ${num(st.dropped)} dropped (queue full), ${num(st.unfinished)} unfinished; ${outside}\n`,
    );
  }
}
