// The work of `homeostat watch` (registered in ../commands/watch.ts): the flags checked and turned into the host
// watch's options (src/watch), alerts and actions printed as they happen (or as Falco JSON lines), the state store
// opened and closed around the run, and the summary at the end.

import { closeSync, writeSync } from "node:fs";
import { type HostAlert, IMPOSSIBLE_RULE } from "../../engine/hostMonitor.js";
import { HomeostatError } from "../../errors.js";
import { openRegularForAppending } from "../../ingest/outputFile.js";
import type { LifecycleSettings } from "../../lifecycle/phProfile.js";
import { RESPONSE_POLICIES, type ResponseAction, type ResponsePolicy } from "../../response/responder.js";
import { defaultStateDir, StateStore } from "../../store/stateStore.js";
import {
  type HostWatchOptions,
  type HostWatchSummary,
  STATIC_POLICIES,
  type StaticPolicy,
  startHostWatch,
  type WatchBackend,
} from "../../watch/hostWatch.js";
import { onStopSignals, refuseCommandAndPid } from "../commandArgs.js";
import type { CliContext } from "../context.js";
import { EXIT_ANOMALY } from "../errors.js";
import { num, paint } from "../terminal.js";

export interface WatchFlags {
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

/** The flags, checked: the backend, response policies and static policy they name. */
interface WatchPlan {
  backend: WatchBackend;
  policies: Set<ResponsePolicy>;
  staticPolicy: StaticPolicy;
}

export async function runWatch(command: string[], opts: WatchFlags, ctx: CliContext): Promise<void> {
  const plan = planWatch(command, opts);
  const store = StateStore.open(opts.state ?? defaultStateDir());
  let alertsFd: number | undefined;
  let watch: ReturnType<typeof startHostWatch>;
  const printer = new WatchPrinter(opts);
  try {
    if (opts.alerts !== undefined) alertsFd = openRegularForAppending(opts.alerts);
    printer.alertsFd = alertsFd;
    watch = startHostWatch(watchOptions(command, opts, plan, store, printer));
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
  if (!opts.quiet) announce(command, opts, plan, store.path);
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
  ctx.exitCode = printer.anomalies > 0 ? EXIT_ANOMALY : 0;
}

function planWatch(command: string[], opts: WatchFlags): WatchPlan {
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
  if (backend === "bpftrace" && targeted) {
    throw new HomeostatError(
      "E_USAGE",
      "the bpftrace backend watches the whole host; a command or --pid needs --backend strace",
    );
  }
  const policies = parsePolicies(opts.response);
  if (!(STATIC_POLICIES as readonly string[]).includes(opts.static)) {
    throw new HomeostatError("E_USAGE", `unknown --static "${opts.static}" (${STATIC_POLICIES.join(", ")})`);
  }
  if (opts.staticModel !== "digraph" && opts.staticModel !== "set") {
    throw new HomeostatError("E_USAGE", `unknown --static-model "${opts.staticModel}" (digraph, set)`);
  }
  return { backend, policies, staticPolicy: opts.static as StaticPolicy };
}

/** Alerts and actions on the terminal (or as JSON lines on stdout), and appended to --alerts; anomalies counted. */
class WatchPrinter {
  anomalies = 0;
  alertsFd: number | undefined;
  private readonly err = process.stderr;

  constructor(private readonly opts: WatchFlags) {}

  readonly onAlert = (a: HostAlert): void => {
    const line = `${JSON.stringify(a)}\n`;
    if (this.alertsFd !== undefined) writeSync(this.alertsFd, line);
    if (a.rule === "Anomalous system calls" || a.rule === IMPOSSIBLE_RULE) this.anomalies++;
    if (this.opts.json) {
      process.stdout.write(line);
      return;
    }
    if (a.tags.includes("lifecycle") && this.opts.quiet) return;
    const colour =
      a.priority === "Critical" || a.priority === "Error" ? "red" : a.priority === "Warning" ? "yellow" : "cyan";
    this.err.write(`${paint(a.priority.toUpperCase(), colour, this.err)} ${a.output}\n`);
    const window = a.output_fields["homeostat.window"];
    if (Array.isArray(window)) this.err.write(`  ... ${window.join(", ")}\n`);
  };

  readonly onAction = (a: ResponseAction): void => {
    if (this.opts.json) return; // actions are in the store; the JSON stream stays Falco alerts only
    const colour = a.outcome === "refused" ? "yellow" : "red";
    this.err.write(
      `${paint("ACTION", colour, this.err)} ${a.kind} pid ${a.pid} ${a.exe}: ${a.outcome} (${a.reason})\n`,
    );
  };
}

function watchOptions(
  command: string[],
  opts: WatchFlags,
  plan: WatchPlan,
  store: StateStore,
  printer: WatchPrinter,
): HostWatchOptions {
  const settings: Partial<LifecycleSettings> = {
    normalFactor: opts.normalFactor,
    normalFactorDen: opts.normalFactorDen,
    normalWait: opts.normalWait,
    anomalyLimit: opts.anomalyLimit,
    tolerizeLimit: opts.tolerizeLimit,
  };
  const acting = [...plan.policies].some((p) => p !== "log") || plan.staticPolicy === "kill";
  const err = process.stderr;
  return {
    backend: plan.backend,
    ...(command.length > 0 ? { command } : {}),
    ...(opts.pid !== undefined ? { pid: opts.pid } : {}),
    store,
    settings,
    ...(opts.model !== undefined ? { model: opts.model } : {}),
    ...(acting
      ? {
          response: {
            policies: plan.policies,
            delayFactorMs: opts.delayFactor,
            maxDelayMs: opts.maxDelay,
            suspendExecveMs: opts.suspendExecveTime * 1000,
            allow: opts.allow,
            dryRun: opts.dryRun === true,
          },
        }
      : {}),
    ...(opts.execveLimit !== undefined ? { execveLimit: opts.execveLimit } : {}),
    staticModels: plan.staticPolicy,
    staticDigraph: opts.staticModel === "digraph",
    saveIntervalMs: opts.saveInterval * 1000,
    maxTasks: opts.maxTasks,
    maxProfiles: opts.maxProfiles,
    keepRecords: opts.keepAlerts,
    ...(opts.ringBufferPages !== undefined ? { ringBufferPages: opts.ringBufferPages } : {}),
    onAlert: printer.onAlert,
    onAction: printer.onAction,
    onWarning: (m) => err.write(`homeostat: warning: ${m}\n`),
    onMessage: (line) => {
      if (!opts.quiet) err.write(`${line}\n`);
    },
  };
}

function announce(command: string[], opts: WatchFlags, plan: WatchPlan, statePath: string): void {
  const what =
    plan.backend === "bpftrace" ? "the host (eBPF)" : command.length > 0 ? command.join(" ") : `pid ${opts.pid}`;
  const model = plan.staticPolicy === "off" ? "" : ` (${opts.staticModel})`;
  process.stderr.write(
    `homeostat: watching ${what}; state in ${statePath}; response ${[...plan.policies].join(",")}` +
      `${opts.dryRun ? " (dry run)" : ""}; static models ${plan.staticPolicy}${model}; Ctrl-C to stop\n`,
  );
}

function report(s: HostWatchSummary, opts: WatchFlags, interrupted: boolean): void {
  const body = summaryFields(s, interrupted);
  if (opts.json) printJsonSummary(s, body);
  else {
    printTotals(s, body);
    if (s.static.policy !== "off") printStaticTotals(s.static);
  }
}

type SummaryFields = ReturnType<typeof summaryFields>;

/** The summary's numbers: the JSON summary's output_fields, and what the text summary prints. */
function summaryFields(s: HostWatchSummary, interrupted: boolean) {
  const m = s.monitor;
  return {
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
}

/** A summary in the same Falco shape as the alerts, so that every line of the stream parses alike. */
function printJsonSummary(s: HostWatchSummary, body: SummaryFields): void {
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
}

function printTotals(s: HostWatchSummary, body: SummaryFields): void {
  const m = s.monitor;
  const lost = m.lost.kernel + m.lost.capture + m.lost.monitor;
  const err = process.stderr;
  err.write(
    `homeostat: ${num(body.captured)} events captured${body.kernelCounted !== undefined ? ` (${num(body.kernelCounted)} counted in the kernel)` : ""}, ` +
      `${num(body.processed)} scored, ${num(body.unattributed)} unattributed, ${num(body.ignored)} of homeostat ignored; ` +
      `${lost === 0 ? "none lost" : paint(`${num(lost)} lost (kernel ${m.lost.kernel}, capture ${m.lost.capture}, monitor ${m.lost.monitor})`, "red", err)}\n` +
      `homeostat: ${num(m.profiles)} profiles (${num(s.profilesSaved)} saves of profiles), ${num(m.alerts)} alerts, ` +
      `${num(s.responder.paused)} pauses (${num(s.responder.pausedMs)} ms), ${num(s.responder.killed)} kills, ` +
      `${num(s.responder.suspended)} suspended execve, ${num(s.responder.refused)} refused\n`,
  );
}

function printStaticTotals(st: HostWatchSummary["static"]): void {
  const err = process.stderr;
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
