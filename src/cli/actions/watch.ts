// The work of `homeostat watch` (registered in ../commands/watch.ts): the flags checked and turned into the host
// watch's options (src/watch), alerts and actions printed as they happen (or as Falco JSON lines), the state store
// opened and closed around the run, and the summary at the end. Around the watch: the alert outputs (syslog opened
// first, the HTTP spool once the state directory is locked), the metrics endpoint, and the signals: SIGINT and
// SIGTERM stop (profiles saved, exit as usual), SIGHUP reloads (watchSettings.ts) and reopens --alerts. The flags'
// checks are watchPlan.ts, the live output watchPrinter.ts, the outputs and metrics watchServices.ts, the start line
// and the summary watchReport.ts; this file wires them around the host watch.

import { HomeostatError } from "../../errors.js";
import type { LifecycleSettings } from "../../lifecycle/phProfile.js";
import { defaultStateDir, StateStore } from "../../store/stateStore.js";
import { type HostWatch, type HostWatchOptions, type HostWatchSummary, startHostWatch } from "../../watch/hostWatch.js";
import { parseMetricsAddress } from "../../watch/outputs/metricsServer.js";
import type { CliContext } from "../context.js";
import { EXIT_ANOMALY } from "../errors.js";
import { openWatchFleet } from "./watchFleet.js";
import { planWatch, type WatchFlags, type WatchPlan } from "./watchPlan.js";
import { WatchPrinter } from "./watchPrinter.js";
import { announce, report } from "./watchReport.js";
import { openServices, type Services, startHttpOutput } from "./watchServices.js";
import { currentSettings, lifecycleOf, outputsOf } from "./watchSettings.js";

export { parsePolicies, type WatchFlags } from "./watchPlan.js";

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
async function reload(opts: WatchFlags, watch: HostWatch, services: Services, printer: WatchPrinter): Promise<void> {
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
