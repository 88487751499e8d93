// The Prometheus endpoint during a real watch (strace backend on a small shell command): scraped while it runs, and
// after it ended, when every counter must equal the run's summary.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { straceUnavailableReason } from "../../ingest/testing/straceCapture.js";
import { until } from "../../response/testing/waits.js";
import { StateStore } from "../../store/stateStore.js";
import { startHostWatch } from "../hostWatch.js";
import { WatchMetrics } from "./metricsRegistry.js";
import { parseMetricsAddress, startMetricsServer } from "./metricsServer.js";

const unavailable = straceUnavailableReason();
if (unavailable !== undefined) console.log(`skipping the metrics test: ${unavailable}`);

/** Samples of the exposition text: `name{labels}` -> value. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const sp = line.lastIndexOf(" ");
    out.set(line.slice(0, sp), Number(line.slice(sp + 1)));
  }
  return out;
}

const sum = (s: Map<string, number>, prefix: string) =>
  [...s].filter(([k]) => k === prefix || k.startsWith(`${prefix}{`)).reduce((a, [, v]) => a + v, 0);

describe("metrics address", () => {
  it("takes HOST:PORT, [v6]:PORT, :PORT and PORT, loopback by default", () => {
    expect(parseMetricsAddress("9464")).toEqual({ host: "127.0.0.1", port: 9464 });
    expect(parseMetricsAddress(":9464")).toEqual({ host: "127.0.0.1", port: 9464 });
    expect(parseMetricsAddress("0.0.0.0:80")).toEqual({ host: "0.0.0.0", port: 80 });
    expect(parseMetricsAddress("[::1]:9464")).toEqual({ host: "::1", port: 9464 });
    expect(() => parseMetricsAddress("localhost:99999")).toThrow(/--metrics/);
  });

  it("a port in use is an environment error (E_LOCKED: exit 3)", async () => {
    const m = new WatchMetrics({ defaultMetrics: false });
    const first = await startMetricsServer({ host: "127.0.0.1", port: 0 }, () => m.text(), m.registry.contentType);
    const err = await startMetricsServer(first.address, () => m.text(), m.registry.contentType).catch(
      (e: unknown) => e,
    );
    await first.close();
    expect(err).toMatchObject({ code: "E_LOCKED" });
  });
});

describe.skipIf(unavailable !== undefined)("metrics of a real watch (strace backend)", () => {
  const dir = mkdtempSync(join(tmpdir(), "homeostat-metrics-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("are served while watch runs, and equal the run's summary at its end", async () => {
    const store = StateStore.open(join(dir, "state"));
    const metrics = new WatchMetrics();
    const server = await startMetricsServer(
      { host: "127.0.0.1", port: 0 },
      () => metrics.text(),
      metrics.registry.contentType,
    );
    const url = `http://127.0.0.1:${server.address.port}/metrics`;
    const released = join(dir, "released");
    const watch = startHostWatch({
      backend: "strace",
      command: [
        "/bin/sh",
        "-c",
        `for i in 1 2 3; do /bin/cat /etc/hostname; done; while [ ! -e '${released}' ]; do sleep 0.02; done`,
      ],
      store,
      metrics,
      settings: { normalWait: 0, normalFactor: 4, normalFactorDen: 3 },
      programOutput: "ignore",
    });
    try {
      await until("events to be processed", () => watch.monitor.stats().processed > 100);
      const res = await fetch(url);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toContain("text/plain");
      const during = samples(await res.text());
      expect(during.get("homeostat_events_captured_total")).toBeGreaterThan(100);
      expect(during.get("homeostat_tasks")).toBeGreaterThanOrEqual(1);
      expect(during.get("process_cpu_seconds_total")).toBeGreaterThan(0);
      expect(during.get("process_resident_memory_bytes")).toBeGreaterThan(1e6);
      expect((await fetch(url.replace("/metrics", "/other"))).status).toBe(404);
    } finally {
      writeFileSync(released, "");
    }
    const summary = await watch.done;
    const after = samples(await (await fetch(url)).text());
    await server.close();
    store.close();
    const m = summary.monitor;
    expect(after.get("homeostat_events_captured_total")).toBe(summary.capture.syscalls);
    expect(after.get("homeostat_events_processed_total")).toBe(m.processed);
    expect(sum(after, "homeostat_events_lost_total")).toBe(m.lost.kernel + m.lost.capture + m.lost.monitor);
    expect(after.get('homeostat_events_skipped_total{reason="unattributed"}')).toBe(m.unattributed);
    expect(sum(after, "homeostat_alerts_total")).toBe(m.alerts);
    expect(m.alerts).toBeGreaterThan(0);
    expect(
      after.get('homeostat_alerts_total{rule="homeostat profile frozen",priority="Informational"}'),
    ).toBeGreaterThan(0);
    expect(sum(after, "homeostat_profiles")).toBe(m.profiles);
    expect(after.get("homeostat_profile_saves_total")).toBe(summary.profilesSaved);
    expect(after.get('homeostat_queue_depth{queue="store_alerts"}')).toBe(0);
  });
});
