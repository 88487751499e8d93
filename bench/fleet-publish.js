// What `watch --fleet` costs the engine (issue 13): the monitor bench's synthetic host (bench/monitor.js: bpftrace
// output through the parser into the pH engine) run on the same input three ways: as it is; making each alert's
// JSON and nothing else (watch makes it for its store whether the fleet is on or not, and hands that same string to
// the fleet); and as a fleet host, every alert handed to the fleet observer (src/fleet/hostFleet.ts), which
// publishes it to a real nats-server with JetStream (another process, its store in a temporary folder) with its
// message id, at most `window` publishes waiting for their acknowledgements, heartbeats on the watch's 2 s tick.
// Chunks are fed one per turn of the event loop, as a live capture delivers them, so that acknowledgements are
// handled between them. Two inputs: the load (2,000 alerts a second for the whole fleet, put here on one
// host), whose drop is checked: the median events/s as a fleet host at most 5% below the JSON-only median; and the
// monitor bench's alert storm (profiles cycling through pH's states, alerts by the ten thousand a second), whose
// drop is reported. Method as bench/outputs.js: every variant warmed up, ROUNDS rounds in rotating order, a full GC
// before each run, medians compared; events per CPU second of the main thread reported too (less sensitive to
// other jobs on a shared machine), not checked. Each fleet run also reports how its messages went: published,
// spooled (the server could not keep up), dropped.

/* global clearInterval, setInterval */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { setImmediate as turn } from "node:timers/promises";
import { BpftraceOutputParser } from "../dist/capture/bpftraceCapture.js";
import { HostMonitor } from "../dist/engine/hostMonitor.js";
import { openHostFleet } from "../dist/fleet/hostFleet.js";
import { check, save } from "./lib.js";
import { startNats, until } from "./natsServer.js";
import { ANOMALY_EVERY, dropFigures, mainThreadCpu, reportedLine, rotatedRounds, WORKLOADS } from "./alertLoad.js";

const ROUNDS = Number(process.env.FLEET_PUBLISH_ROUNDS ?? 7);

const resolveExe = (_pid, dev, ino, filename) => ({ path: filename, dev, ino });

let jsonChars = 0;

/**
 * One run over the input; with `url`, as a fleet host publishing there; with `json` (and no url), each alert turned
 * into JSON and nothing more, as watch does for its store whether the fleet is on or not (it shares that JSON).
 */
async function measure(input, url, host, json = false) {
  globalThis.gc?.();
  const stateDir = mkdtempSync(path.join(os.tmpdir(), "homeostat-bench-fleet-"));
  const fleet = url !== undefined ? openHostFleet({ url, hostId: host, stateDir, version: "bench" }) : undefined;
  const monitor = new HostMonitor({
    settings: { normalWait: 0, normalFactor: 4, normalFactorDen: 3 },
    // As watch does: one JSON per alert when an observer wants alerts.
    onAlert:
      fleet !== undefined
        ? (a) => fleet.alert(a, JSON.stringify(a))
        : json
          ? (a) => {
              jsonChars += JSON.stringify(a).length;
            }
          : undefined,
    clock: () => 0,
  });
  if (fleet !== undefined) {
    fleet.attach(monitor);
    await until("the fleet link", () => fleet.figures().link.connected, 120_000, 20);
  }
  // watch's poll timer: the fleet's heartbeat is due every 10 s on it.
  const tick = fleet !== undefined ? setInterval(() => fleet.tick(false), 2000) : undefined;
  const parser = new BpftraceOutputParser({ sink: monitor, resolveExe });
  const c0 = mainThreadCpu();
  const p0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (const c of input.chunks) {
    parser.write(c, 0);
    await turn();
  }
  parser.end();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpuSeconds = mainThreadCpu() - c0;
  const p = process.cpuUsage(p0);
  clearInterval(tick);
  const result = {
    seconds,
    eventsPerSecond: input.calls / seconds,
    mainThreadCpuSeconds: cpuSeconds,
    eventsPerCpuSecond: input.calls / cpuSeconds,
    processCpuSeconds: (p.user + p.system) / 1e6,
    alerts: monitor.stats().alerts,
  };
  if (fleet !== undefined) {
    // What was sent while the events were fed, then what a watch's end sends (up to 30 s), outside the timing.
    const during = fleet.figures().messages;
    const t1 = Date.now();
    await fleet.close(30_000);
    result.fleet = { duringRun: during, afterClose: fleet.figures().messages, closeSeconds: (Date.now() - t1) / 1000 };
  }
  rmSync(stateDir, { recursive: true, force: true });
  return result;
}

/** Every variant on `input`, rounds rotating. */
function rounds(input, nats, hostPrefix) {
  let hosts = 0;
  return rotatedRounds(
    {
      base: () => measure(input, undefined),
      json: () => measure(input, undefined, undefined, true),
      withFleet: () => measure(input, nats.url, `${hostPrefix}-${++hosts}`),
    },
    ROUNDS,
  );
}

export async function run() {
  const dir = mkdtempSync(path.join(os.tmpdir(), "homeostat-bench-nats-"));
  const nats = await startNats(dir, { nice: process.env.FLEET_PUBLISH_NICE_SERVER === "1" });
  const workloads = {};
  try {
    for (const [name, make] of Object.entries(WORKLOADS)) {
      const input = make();
      workloads[name] = dropFigures(input, await rounds(input, nats, `bench-${name}`), "withFleet");
    }
  } finally {
    nats.child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  }
  const { steady, sparse, storm } = workloads;
  const checks = [
    check(
      `events/s lost with --fleet publishing to JetStream at ${Math.round(steady.withFleet.medianAlertsPerSecond)} alerts/s, ` +
        `against a watch making each alert's JSON for its store (median of ${ROUNDS} rotated runs each)`,
      Number(steady.dropFromJsonPercent.toFixed(2)),
      "<=",
      5,
      "%",
    ),
  ];
  save("fleet-publish", {
    rounds: ROUNDS,
    anomalyEvery: ANOMALY_EVERY,
    steady,
    sparse: { note: "reported, not checked: a few hundred alerts a second", ...sparse },
    storm: { note: "reported, not checked: an alert storm far above the issue's load", ...storm, jsonChars },
    checks,
  });
  const said = reportedLine(workloads, "withFleet");
  return { checks, said };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { checks, said } = await run();
  for (const c of checks)
    console.log(`${c.pass ? "ok  " : "MISS"} fleet-publish: ${c.name}: ${c.value} ${c.unit} (target ${c.target})`);
  console.log(`     fleet-publish: ${said}`);
}
