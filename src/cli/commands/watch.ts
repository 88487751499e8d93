// `homeostat watch`: the host monitor (pH in user space). System-wide with eBPF (bpftrace), or one command / pid
// with strace; per-executable profiles that train themselves and become normal, kept in the state store; alerts on
// stderr (or as Falco-format JSON lines with --json / --alerts FILE); graduated responses with --response. With
// --static (alert by default) each executable's binary is analysed and a call its code cannot make is alerted
// (or, with --static kill, the process killed) from its first run, before any training; so is a pair of consecutive
// calls its code cannot make in that order (the digraph; --static-model set checks calls only).
// Exit 0 when no anomaly (nor call outside a static model) was alerted, 1 when one was, 2 on usage or input errors,
// 3 when this machine lacks what watch needs (a tool, a permission, a kernel feature) or the state is in use.

import type { Command } from "commander";
import { LIFECYCLE_DEFAULTS } from "../../lifecycle/lifecycleSettings.js";
import { defaultStateDir } from "../../store/stateStore.js";
import type { WatchFlags } from "../actions/watch.js";
import { requireAfterDashes } from "../commandArgs.js";
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

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
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
      await (await import("../actions/watch.js")).runWatch(command, opts, ctx);
    });
}
