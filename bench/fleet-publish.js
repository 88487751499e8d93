// What `watch --fleet` costs the engine (issue 13): the monitor bench's synthetic host (bench/monitor.js: bpftrace
// output through the parser into the pH engine, profiles cycling through pH's states, alerts by the thousands a
// second) run on the same input three ways: as it is; making each alert's JSON and nothing else (watch makes it for
// its store whether the fleet is on or not, and hands that same string to the fleet); and as a fleet host, every
// alert handed to the fleet observer (src/fleet/hostFleet.ts), which publishes it to a real nats-server with
// JetStream (another process, its store in a temporary folder) with its message id, at most `window` publishes
// waiting for their acknowledgements, heartbeats on the watch's 2 s tick. Chunks are fed one per turn of the event
// loop, as a live capture delivers them, so that acknowledgements are handled between them. The check: the median
// events/s as a fleet host drops by at most 5% from the JSON-only median (the drop from the bare engine is
// reported too). Method as bench/outputs.js: every variant warmed up, ROUNDS rounds in rotating order, a full GC
// before each run, medians compared; events per CPU second of the main thread reported too (less sensitive to
// other jobs on a shared machine), not checked. Each fleet run also reports how its messages went: published,
// spooled (the server could not keep up), dropped.

/* global clearInterval, setInterval */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { setImmediate as turn } from "node:timers/promises";
import { BpftraceOutputParser } from "../dist/capture/bpftraceCapture.js";
import { HostMonitor } from "../dist/engine/hostMonitor.js";
import { openHostFleet } from "../dist/fleet/hostFleet.js";
import { check, save } from "./lib.js";
import { startNats, until } from "./natsServer.js";
import { render, rng } from "./monitor.js";

const ROUNDS = Number(process.env.FLEET_PUBLISH_ROUNDS ?? 7);

const resolveExe = (_pid, dev, ino, filename) => ({ path: filename, dev, ino });

/** CPU seconds of this process's main thread (user + system), or NaN where /proc does not say. */
function mainThreadCpu() {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, "latin1");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

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

export async function run() {
  const input = render(rng(6));
  const dir = mkdtempSync(path.join(os.tmpdir(), "homeostat-bench-nats-"));
  const nats = await startNats(dir, { nice: process.env.FLEET_PUBLISH_NICE_SERVER === "1" });
  let hosts = 0;
  const variants = {
    base: () => measure(input, undefined),
    json: () => measure(input, undefined, undefined, true),
    withFleet: () => measure(input, nats.url, `bench-${++hosts}`),
  };
  const names = Object.keys(variants);
  const runs = Object.fromEntries(names.map((n) => [n, []]));
  try {
    // Warm-up: every variant, unmeasured. Then rounds, the order rotating, so that none always runs first.
    for (const n of names) await variants[n]();
    for (let i = 0; i < ROUNDS; i++) {
      for (let k = 0; k < names.length; k++) {
        const n = names[(i + k) % names.length];
        runs[n].push(await variants[n]());
      }
    }
  } finally {
    nats.child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  }
  const { base, json, withFleet } = runs;
  const median = (xs) => {
    const s = [...xs].sort((a, b) => a - b);
    const m = s.length >> 1;
    return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
  };
  const b = median(base.map((r) => r.eventsPerSecond));
  const w = median(withFleet.map((r) => r.eventsPerSecond));
  const j = median(json.map((r) => r.eventsPerSecond));
  const drop = (1 - w / b) * 100;
  // What publishing adds to a watch, where each alert's JSON is made for the store anyway: the figure checked.
  const dropFromJson = (1 - w / j) * 100;
  const bCpu = median(base.map((r) => r.eventsPerCpuSecond));
  const wCpu = median(withFleet.map((r) => r.eventsPerCpuSecond));
  const alertsPerSecond = median(withFleet.map((r) => r.alerts / r.seconds));
  // The engine thread's own price of an alert: extra CPU of the main thread per alert (its JSON, the ring copy).
  const mainMicrosPerAlert =
    ((median(withFleet.map((r) => r.mainThreadCpuSeconds)) - median(base.map((r) => r.mainThreadCpuSeconds))) /
      withFleet[0].alerts) *
    1e6;
  const checks = [
    check(
      `events/s lost with --fleet publishing to JetStream, against a watch making each alert's JSON for its store (median of ${ROUNDS} rotated runs each)`,
      Number(dropFromJson.toFixed(2)),
      "<=",
      5,
      "%",
    ),
  ];
  save("fleet-publish", {
    input: { calls: input.calls, bytes: input.bytes, chunks: input.chunks.length },
    rounds: ROUNDS,
    base: { medianEventsPerSecond: b, medianEventsPerCpuSecond: bCpu, runs: base },
    withFleet: {
      medianEventsPerSecond: w,
      medianEventsPerCpuSecond: wCpu,
      medianAlertsPerSecond: alertsPerSecond,
      runs: withFleet,
    },
    jsonOnly: { medianEventsPerSecond: j, runs: json, jsonChars },
    dropPercent: drop,
    dropFromJsonPercent: dropFromJson,
    mainThreadMicrosecondsPerAlert: mainMicrosPerAlert,
    mainThreadCpuDropPercent: (1 - wCpu / bCpu) * 100,
    checks,
  });
  return { checks };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { checks } = await run();
  for (const c of checks)
    console.log(`${c.pass ? "ok  " : "MISS"} fleet-publish: ${c.name}: ${c.value} ${c.unit} (target ${c.target})`);
}
