// `homeostat watch`: the host monitor (pH in user space). System-wide with eBPF (bpftrace), or one command / pid
// with strace; per-executable profiles that train themselves and become normal, kept in the state store; alerts on
// stderr (or as Falco-format JSON lines with --json / --alerts FILE); graduated responses with --response. With
// --static (alert by default) each executable's binary is analysed and a call its code cannot make is alerted
// (or, with --static kill, the process killed) from its first run, before any training; so is a pair of consecutive
// calls its code cannot make in that order (the digraph; --static-model set checks calls only).
// Alerts can also go to an HTTP receiver (--alerts-http, spooled while it is down) and syslog (--alerts-syslog), and
// --metrics serves Prometheus metrics; --fleet sends alerts, actions, heartbeats and profile snapshots to NATS
// JetStream (src/fleet); SIGHUP reloads the outputs and lifecycle settings (--config), SIGTERM and SIGINT stop,
// saving every profile (docs/operations.md).
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
  KEEP_ALERTS_MAX,
  NORMAL_WAIT_MAX_S,
  PID_MAX,
  RING_BUFFER_PAGES_MAX,
  TIMER_MAX_MS,
  TIMER_MAX_S,
} from "../numberOptions.js";
import { addOptions, type OptionRow } from "../optionTable.js";

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** What is watched, what is learnt, and how to respond. */
const TARGET_OPTIONS: OptionRow[] = [
  {
    flags: "--backend <name>",
    description: "bpftrace (system-wide eBPF; the default without a command) or strace (a command or --pid)",
  },
  {
    flags: "-p, --pid <pid>",
    description: "watch a running process and its descendants (strace backend)",
    int: [1, PID_MAX],
  },
  {
    flags: "--state <dir>",
    description: `state directory with the profile database (default ${defaultStateDir()})`,
  },
  {
    flags: "--model <spec>",
    description:
      "model of new profiles: ph (pH's lookahead pairs, the default) or a detector that learns live: " +
      "stide, tstide, lookahead, ngram, with options as in train (e.g. stide:k=6)",
  },
  {
    flags: "--response <policies>",
    description:
      "log (default: alerts only), delay (pH: pause an anomalous process delay-factor x 2^LFC ms), kill (at " +
      "--anomaly-limit anomalies), suspend-execve (stop a process calling execve with LFC >= --execve-limit); " +
      "join several with commas, e.g. delay,kill",
    default: "log",
  },
  {
    flags: "--static <mode>",
    description:
      "static models of each program's binary (the system calls its code can make): off, alert (the default: a " +
      "call outside the model is alerted, from the program's first run), kill (also kill the process, when the " +
      "model is complete)",
    default: "alert",
  },
  {
    flags: "--static-model <model>",
    description:
      "what the static check holds a program to: digraph (the default: its calls, and which call may follow which, " +
      "Wagner & Dean) or set (its calls only: a cheaper analysis)",
    default: "digraph",
  },
  {
    flags: "--static-wait <s>",
    description:
      "at the end, seconds to wait for static analyses still running (their programs' calls are checked when " +
      "they finish; those not finished are counted as unfinished)",
    number: [0, TIMER_MAX_S],
    default: 10,
  },
  { flags: "--dry-run", description: "decide responses and log them, but signal nothing" },
  {
    flags: "--allow <exe>",
    description: "an executable (absolute path) never acted on; repeatable",
    parse: collect,
    default: [],
  },
];

/** pH's responses and lifecycle settings. */
const PH_OPTIONS: OptionRow[] = [
  {
    flags: "--delay-factor <ms>",
    description: "pH's delay_factor: milliseconds per 2^LFC",
    number: [0, TIMER_MAX_MS],
    default: 10,
  },
  { flags: "--max-delay <ms>", description: "cap of one pause", number: [1, TIMER_MAX_MS], default: 5000 },
  {
    flags: "--suspend-execve-time <s>",
    description: "how long a suspended execve stops the process (pH: 2 days)",
    number: [0, TIMER_MAX_S],
    default: 172_800,
  },
  {
    flags: "--execve-limit <lfc>",
    description: "LFC at or above which execve is suspended (default --tolerize-limit)",
    int: [1, COUNT_MAX],
  },
  {
    flags: "--normal-factor <n>",
    description: "pH normal_factor",
    int: [1, COUNT_MAX],
    default: LIFECYCLE_DEFAULTS.normalFactor,
  },
  {
    flags: "--normal-factor-den <n>",
    description:
      "pH normal_factor_den: a profile freezes when train_count x den > (train_count - last_mod_count) x factor",
    int: [1, COUNT_MAX],
    default: LIFECYCLE_DEFAULTS.normalFactorDen,
  },
  {
    flags: "--normal-wait <s>",
    description: "seconds a frozen profile waits before becoming normal (pH: one week)",
    number: [0, NORMAL_WAIT_MAX_S],
    default: LIFECYCLE_DEFAULTS.normalWait,
  },
  {
    flags: "--anomaly-limit <n>",
    description: "pH anomaly_limit: a profile with more anomalies stops being normal; kill threshold",
    int: [1, COUNT_MAX],
    default: LIFECYCLE_DEFAULTS.anomalyLimit,
  },
  {
    flags: "--tolerize-limit <n>",
    description: "pH tolerize_limit: a process with a higher LFC resets its profile's training",
    int: [1, COUNT_MAX],
    default: LIFECYCLE_DEFAULTS.tolerizeLimit,
  },
];

/** How long, how much is held, and where alerts go. */
const RUN_OPTIONS: OptionRow[] = [
  {
    flags: "--save-interval <s>",
    description: "seconds between profile saves (also saved at the end)",
    number: [0.1, TIMER_MAX_S],
    default: 30,
  },
  { flags: "--duration <s>", description: "stop after this many seconds", number: [0.1, TIMER_MAX_S] },
  {
    flags: "--max-tasks <n>",
    description: "tasks tracked at most; events of more are dropped, counted and alerted",
    int: [1, PID_MAX],
    default: 65_536,
  },
  {
    flags: "--max-profiles <n>",
    description: "profiles held at most; events of more programs are dropped, counted and alerted",
    int: [1, COUNT_MAX],
    default: 4_096,
  },
  {
    flags: "--keep-alerts <n>",
    description: "newest alerts (and actions) kept in the store; older ones are pruned at each save",
    int: [0, KEEP_ALERTS_MAX],
    default: 1_000_000,
  },
  {
    flags: "--ring-buffer-pages <n>",
    description: "bpftrace's perf ring buffer per CPU, in pages",
    int: [1, RING_BUFFER_PAGES_MAX],
  },
  { flags: "--json", description: "alerts as Falco-format JSON lines on stdout (and a final summary line)" },
  {
    flags: "--alerts <file>",
    description: "also append alerts as Falco-format JSON lines to this regular file (a symlink or device is refused)",
  },
  { flags: "-q, --quiet", description: "no lifecycle lines on stderr, only anomalies and actions" },
];

/** Where alerts and figures go besides the terminal and the store (docs/operations.md), and the settings file. */
const OUTPUT_OPTIONS: OptionRow[] = [
  {
    flags: "--metrics <addr>",
    description: "serve Prometheus metrics at http://ADDR/metrics (HOST:PORT or PORT; loopback unless a host is given)",
  },
  {
    flags: "--alerts-http <url>",
    description:
      "post each alert (Falco JSON, one per request, as Falcosidekick takes it) to URL, in order, retried with " +
      "backoff; alerts wait in a spool in the state directory while it is down",
  },
  {
    flags: "--alerts-http-pipeline <n>",
    description:
      "POSTs in flight at most on the --alerts-http connection (HTTP/1.1 pipelining, answers in order); 1 sends " +
      "one at a time, for a receiver behind a proxy that mishandles pipelining",
    number: [1, 256],
    default: 16,
  },
  {
    flags: "--spool-size <MiB>",
    description: "bound of the --alerts-http spool; alerts beyond are counted and alerted, not delivered",
    number: [0.001, 65_536],
    default: 64,
  },
  {
    flags: "--drain-time <s>",
    description: "at the end, seconds to wait for the receiver to take what is spooled (the rest waits for next time)",
    number: [0, TIMER_MAX_S],
    default: 5,
  },
  { flags: "--alerts-syslog", description: "also send each alert to syslog as an RFC 5424 message" },
  {
    flags: "--syslog-socket <path>",
    description:
      "unix socket of the syslog daemon, stream or datagram (default /dev/log; datagram: via python3 or perl)",
  },
  {
    flags: "--syslog-facility <name>",
    description: "syslog facility: daemon (default), auth, authpriv, user, local0..local7, ...",
    default: "daemon",
  },
  {
    flags: "--config <file>",
    description:
      "a JSON settings file, read at start and again on SIGHUP: alert outputs and pH's lifecycle settings (its " +
      "values win over the flags)",
  },
];

/** Fleet mode: alerts, actions, heartbeats and profiles to NATS JetStream (README, "Fleet"). */
const FLEET_OPTIONS: OptionRow[] = [
  {
    flags: "--fleet <url>",
    description:
      "join a fleet: send alerts, actions, heartbeats and profile snapshots to NATS JetStream at URL " +
      "(nats://[user:password@]HOST:4222 or tls://...; several joined by commas); spooled in the state directory " +
      "while it cannot be reached",
  },
  {
    flags: "--fleet-creds <file>",
    description: "NATS credentials: a creds file (JWT and nkey seed) or a user nkey seed",
  },
  { flags: "--fleet-tls-ca <file>", description: "the CA of the NATS servers' certificates (turns TLS on)" },
  {
    flags: "--host-id <id>",
    description: "this host's name in the fleet (letters, digits, _ and -; default: the host name's first label)",
  },
  {
    flags: "--fleet-profiles <mode>",
    description:
      "push (the default: snapshots of this host's profiles) or pull (also start a program never seen here from the fleet's pooled profile)",
    default: "push",
  },
  {
    flags: "--fleet-replicas <n>",
    description:
      "replicas of the stream and buckets when this host is the first to create them (a JetStream cluster: 3); " +
      "existing ones are kept as they are",
    int: [1, 5],
  },
  {
    flags: "--fleet-spool-size <MiB>",
    description: "bound of the fleet spool; messages beyond are counted (heartbeats, summary), not sent",
    number: [0.001, 65_536],
    default: 64,
  },
];

export function registerWatch(program: Command, ctx: CliContext): void {
  const watch = program
    .command("watch")
    .description(
      "watch the host (eBPF) or a command/pid (strace): per-program profiles train themselves and become normal; " +
        "anomalies raise alerts and, with --response, graduated delays",
    )
    .usage("[options]  |  watch --backend strace [options] -- CMD [ARGS...]  |  watch --pid PID [options]")
    .argument("[command...]", "with --backend strace: the program to run and watch, after `--`");
  addOptions(watch, [...TARGET_OPTIONS, ...PH_OPTIONS, ...RUN_OPTIONS, ...OUTPUT_OPTIONS, ...FLEET_OPTIONS])
    .allowUnknownOption()
    .action(async (command: string[], opts: WatchFlags) => {
      requireAfterDashes(program, command, "homeostat watch --backend strace [options] -- CMD [ARGS...]");
      await (await import("../actions/watch.js")).runWatch(command, opts, ctx);
    });
}
