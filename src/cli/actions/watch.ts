// The work of `homeostat watch` (registered in ../commands/watch.ts): the flags checked and turned into the host
// watch's options (src/watch), alerts and actions printed as they happen (or as Falco JSON lines), the state store
// opened and closed around the run, and the summary at the end. Around the watch: the alert outputs (syslog opened
// first, the HTTP spool once the state directory is locked), the metrics endpoint, and the signals: SIGINT and
// SIGTERM stop (profiles saved, exit as usual), SIGHUP reloads (watchSettings.ts) and reopens --alerts.

import { closeSync, writeSync } from "node:fs";
import path from "node:path";
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
import { AlertOutputs, type AlertOutputStats } from "../../watch/outputs/alertOutputs.js";
import { WatchMetrics } from "../../watch/outputs/metricsRegistry.js";
import { type MetricsServer, parseMetricsAddress, startMetricsServer } from "../../watch/outputs/metricsServer.js";
import { refuseCommandAndPid } from "../commandArgs.js";
import type { CliContext } from "../context.js";
import { EXIT_ANOMALY } from "../errors.js";
import { num, paint } from "../terminal.js";
import { VERSION } from "../version.js";
import { openWatchFleet, printFleetTotals, type WatchFleetFlags } from "./watchFleet.js";
import { currentSettings, lifecycleOf, outputsOf } from "./watchSettings.js";

export interface WatchFlags extends WatchFleetFlags {
  backend?: string;
  model?: string;
  pid?: number;
  state?: string;
  response: string;
  static: string;
  staticModel: string;
  staticWait: number;
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
  metrics?: string;
  alertsHttp?: string;
  spoolSize: number;
  drainTime: number;
  alertsSyslog?: boolean;
  syslogSocket?: string;
  syslogFacility: string;
  config?: string;
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
  // Usage errors (a bad URL, facility or settings file) before anything is opened.
  const settings = currentSettings(opts, opts.config);
  const outputsConfig = outputsOf(settings);
  const metricsAddress = opts.metrics !== undefined ? parseMetricsAddress(opts.metrics) : undefined;
  const store = StateStore.open(opts.state ?? defaultStateDir());
  const printer = new WatchPrinter(opts);
  let services: Services | undefined;
  let fleet: Awaited<ReturnType<typeof openWatchFleet>>;
  let watch: ReturnType<typeof startHostWatch>;
  try {
    fleet = await openWatchFleet(opts, store.dir);
    services = await openServices(store, outputsConfig, metricsAddress);
    printer.openAlertsFile();
    watch = startHostWatch({
      ...watchOptions(command, settings, plan, store, printer, services),
      ...(fleet !== undefined ? { observers: [fleet] } : {}),
    });
  } catch (e) {
    await fleet?.close(0);
    await services?.outputs.close(0);
    await services?.server?.close();
    store.close();
    printer.closeAlertsFile();
    throw e;
  }
  let interrupted = false;
  const removeHandlers = onWatchSignals(
    () => {
      interrupted = true;
      watch.stop();
    },
    () => void reload(opts, watch, services, printer),
  );
  const timer = opts.duration !== undefined ? setTimeout(() => watch.stop(), opts.duration * 1000) : undefined;
  let summary: HostWatchSummary;
  try {
    await startHttpOutput(services, outputsConfig, watch);
    try {
      await watch.ready;
    } catch {
      // the capture failed to start: `done` rejects with the reason
    }
    if (!opts.quiet) announce(command, opts, plan, store.path, services);
    summary = await watch.done;
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    removeHandlers();
    await services.server?.close();
    store.close();
    printer.closeAlertsFile();
  }
  report(summary, opts, interrupted, services.outputs.stats);
  ctx.exitCode = printer.anomalies > 0 ? EXIT_ANOMALY : 0;
}

/** The alert outputs and the metrics endpoint of one watch. */
interface Services {
  outputs: AlertOutputs;
  metrics: WatchMetrics | undefined;
  server: MetricsServer | undefined;
}

/** Syslog and the metrics endpoint, which fail (exit 3) before watching starts; the HTTP output comes later. */
async function openServices(
  store: StateStore,
  config: ReturnType<typeof outputsOf>,
  address: ReturnType<typeof parseMetricsAddress> | undefined,
): Promise<Services> {
  const outputs = await AlertOutputs.open(config, {
    spoolDir: path.join(store.dir, "spool"),
    userAgent: `homeostat/${VERSION}`,
  });
  if (address === undefined) return { outputs, metrics: undefined, server: undefined };
  const metrics = new WatchMetrics();
  try {
    const server = await startMetricsServer(address, () => metrics.text(), metrics.registry.contentType);
    return { outputs, metrics, server };
  } catch (e) {
    await outputs.close(0);
    throw e;
  }
}

/**
 * The HTTP output's spool is opened once watch holds the state directory's lock (before any event reaches the
 * engine); when it cannot be, the watch is stopped (its profiles saved) and the error is the one reported.
 */
async function startHttpOutput(
  services: Services,
  config: ReturnType<typeof outputsOf>,
  watch: ReturnType<typeof startHostWatch>,
): Promise<void> {
  try {
    services.outputs.startHttp(config.http);
  } catch (e) {
    watch.stop();
    await watch.done.catch(() => {});
    throw e;
  }
}

/** SIGINT and SIGTERM stop the watch; SIGHUP reloads. Returns what removes the handlers. */
function onWatchSignals(stop: () => void, reload: () => void): () => void {
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  process.on("SIGHUP", reload);
  return () => {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
    process.off("SIGHUP", reload);
  };
}

/**
 * SIGHUP: the settings file read again, the lifecycle settings given to every profile, the outputs reconfigured
 * (or reconnected, retried at once), --alerts reopened (after log rotation). A failure is a warning: watch goes on
 * with what it had.
 */
async function reload(
  opts: WatchFlags,
  watch: ReturnType<typeof startHostWatch>,
  services: Services,
  printer: WatchPrinter,
): Promise<void> {
  const err = process.stderr;
  try {
    const settings = currentSettings(opts, opts.config);
    const config = outputsOf(settings);
    watch.monitor.updateSettings(lifecycleOf(settings));
    printer.reopenAlertsFile();
    await services.outputs.reconfigure(config);
    if (!opts.quiet)
      err.write(`homeostat: settings reloaded${opts.config !== undefined ? ` from ${opts.config}` : ""}\n`);
  } catch (e) {
    const why = e instanceof HomeostatError ? e.oneLine() : String(e);
    err.write(`homeostat: warning: reload failed, going on with the settings before: ${why}\n`);
  }
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
  private alertsFd: number | undefined;
  private readonly err = process.stderr;

  constructor(private readonly opts: WatchFlags) {}

  /** Opens --alerts for appending (a regular file only). */
  openAlertsFile(): void {
    if (this.opts.alerts !== undefined) this.alertsFd = openRegularForAppending(this.opts.alerts);
  }

  /** SIGHUP: --alerts opened again by its name (a log rotation moved the old file away). */
  reopenAlertsFile(): void {
    if (this.opts.alerts === undefined) return;
    const next = openRegularForAppending(this.opts.alerts);
    this.closeAlertsFile();
    this.alertsFd = next;
  }

  closeAlertsFile(): void {
    if (this.alertsFd !== undefined) closeSync(this.alertsFd);
    this.alertsFd = undefined;
  }

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
  services: Services,
): HostWatchOptions {
  const settings: Partial<LifecycleSettings> = lifecycleOf(opts);
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
    staticDrainMs: opts.staticWait * 1000,
    saveIntervalMs: opts.saveInterval * 1000,
    maxTasks: opts.maxTasks,
    maxProfiles: opts.maxProfiles,
    keepRecords: opts.keepAlerts,
    ...(opts.ringBufferPages !== undefined ? { ringBufferPages: opts.ringBufferPages } : {}),
    outputs: services.outputs,
    drainMs: opts.drainTime * 1000,
    ...(services.metrics !== undefined ? { metrics: services.metrics } : {}),
    onAlert: printer.onAlert,
    onAction: printer.onAction,
    onWarning: (m) => err.write(`homeostat: warning: ${m}\n`),
    onMessage: (line) => {
      if (!opts.quiet) err.write(`${line}\n`);
    },
  };
}

function announce(command: string[], opts: WatchFlags, plan: WatchPlan, statePath: string, services: Services): void {
  const what =
    plan.backend === "bpftrace" ? "the host (eBPF)" : command.length > 0 ? command.join(" ") : `pid ${opts.pid}`;
  const model = plan.staticPolicy === "off" ? "" : ` (${opts.staticModel})`;
  const o = services.outputs.stats;
  const a = services.server?.address;
  const extras = [
    ...(o.http !== undefined ? [`alerts to ${o.http.url} (${o.http.replayed} spooled from before)`] : []),
    ...(o.syslog !== undefined ? [`alerts to syslog at ${o.syslog.path}`] : []),
    ...(a !== undefined
      ? [`metrics at http://${a.host.includes(":") ? `[${a.host}]` : a.host}:${a.port}/metrics`]
      : []),
  ];
  process.stderr.write(
    `homeostat: watching ${what}; state in ${statePath}; response ${[...plan.policies].join(",")}` +
      `${opts.dryRun ? " (dry run)" : ""}; static models ${plan.staticPolicy}${model}` +
      `${extras.map((e) => `; ${e}`).join("")}; Ctrl-C to stop\n`,
  );
}

function report(s: HostWatchSummary, opts: WatchFlags, interrupted: boolean, outputs: AlertOutputStats): void {
  const body = {
    ...summaryFields(s, interrupted),
    outputs,
    ...(s.observers.fleet !== undefined ? { fleet: s.observers.fleet } : {}),
  };
  if (opts.json) printJsonSummary(s, body);
  else {
    printTotals(s, body);
    if (s.static.policy !== "off") printStaticTotals(s.static);
    printOutputTotals(outputs);
    printFleetTotals(s.observers.fleet);
  }
}

/** What the alert outputs did, when there were any. */
function printOutputTotals(o: AlertOutputStats): void {
  const err = process.stderr;
  if (o.http !== undefined) {
    const h = o.http;
    err.write(
      `homeostat: alerts to ${h.url}: ${num(h.delivered)} delivered, ${num(h.rejected)} rejected, ` +
        `${num(h.spoolPending)} waiting in the spool for the next start` +
        `${h.overflowed > 0 ? paint(`, ${num(h.overflowed)} did not fit the spool`, "red", err) : ""}` +
        `${h.failures > 0 ? ` (${num(h.failures)} failed attempts; last: ${h.lastError})` : ""}\n`,
    );
  }
  if (o.syslog !== undefined) {
    const y = o.syslog;
    err.write(`homeostat: alerts to syslog ${y.path}: ${num(y.sent)} sent, ${num(y.dropped)} dropped\n`);
  }
}

type SummaryFields = ReturnType<typeof summaryFields> & { outputs: AlertOutputStats };

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
