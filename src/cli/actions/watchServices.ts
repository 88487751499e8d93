// The services around one watch: the alert outputs (syslog opened before watching starts, the HTTP spool once the
// state directory is locked) and the Prometheus metrics endpoint. Each fails (exit 3) with what it opened closed.

import path from "node:path";
import type { StateStore } from "../../store/stateStore.js";
import type { HostWatch } from "../../watch/hostWatch.js";
import { AlertOutputs } from "../../watch/outputs/alertOutputs.js";
import { WatchMetrics } from "../../watch/outputs/metricsRegistry.js";
import { type MetricsServer, type parseMetricsAddress, startMetricsServer } from "../../watch/outputs/metricsServer.js";
import { VERSION } from "../version.js";
import type { outputsOf } from "./watchSettings.js";

/** The alert outputs and the metrics endpoint of one watch. */
export interface Services {
  outputs: AlertOutputs;
  metrics: WatchMetrics | undefined;
  server: MetricsServer | undefined;
}

/** Syslog and the metrics endpoint, which fail (exit 3) before watching starts; the HTTP output comes later. */
export async function openServices(
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
export async function startHttpOutput(
  services: Services,
  config: ReturnType<typeof outputsOf>,
  watch: HostWatch,
): Promise<void> {
  try {
    services.outputs.startHttp(config.http);
  } catch (e) {
    watch.stop();
    await watch.done.catch(() => {});
    throw e;
  }
}
