// Alert delivery and metrics under load (issue #12): the monitor bench's synthetic host (bench/monitor.js: bpftrace
// output through the parser into the pH engine, with profiles cycling through pH's states, so that alerts come by
// the tens of thousands a second) run in pairs, the same input each time: as it is, and with watch's outputs on:
// every alert turned into JSON, appended to the spool and posted to an HTTP receiver (another process, answering
// 200 as Falcosidekick does), the Prometheus registry counting alerts and scraped by another process every 250 ms.
// Chunks are fed one per turn of the event loop in both runs, as a live capture delivers them, so that delivery and
// scrapes run between them. The check: the median events/s with outputs on drops by at most 5% from the median
// without.
//
// The machine may be shared (other jobs, 2 cores), so one run says little: both variants are warmed up first (the
// JIT sees the outputs' code before a measured run), then ROUNDS pairs run with the order alternating (without,
// with; with, without; ...), a full GC before each run, and the medians are compared (the best of a few runs would
// favour whichever variant got a quiet moment). Each run also reports the main thread's own CPU time (from
// /proc/self/task/<pid>/stat, the thread that scores events), events per CPU second of it being far less sensitive
// to other jobs than events per wall second; that figure is reported, not checked.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { setTimeout } from "node:timers";
import { setImmediate as turn } from "node:timers/promises";
import { BpftraceOutputParser } from "../dist/capture/bpftraceCapture.js";
import { HostMonitor } from "../dist/engine/hostMonitor.js";
import { AlertOutputs } from "../dist/watch/outputs/alertOutputs.js";
import { WatchMetrics } from "../dist/watch/outputs/metricsRegistry.js";
import { startMetricsServer } from "../dist/watch/outputs/metricsServer.js";
import { check, save } from "./lib.js";
import { render, rng } from "./monitor.js";

const ROUNDS = Number(process.env.OUTPUTS_ROUNDS ?? 7);

const RECEIVER = `
const http = require("node:http");
let n = 0;
const s = http.createServer((req, res) => { req.resume(); req.on("end", () => { n++; res.end(); }); });
s.listen(0, "127.0.0.1", () => console.log(s.address().port));
process.on("SIGTERM", () => { console.log(n); process.exit(0); });
`;

const SCRAPER = `
const url = process.argv[1];
let n = 0;
setInterval(() => fetch(url).then((r) => r.text()).then(() => n++, () => {}), 250);
process.on("SIGTERM", () => { console.log(n); process.exit(0); });
`;

/** A helper process running `code`; resolves with it and its first line of output. */
function helper(code, args = []) {
  const child = spawn(process.execPath, ["-e", code, ...args], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (s) => (out += s));
  const first = new Promise((resolve) => {
    const poll = () => (out.includes("\n") ? resolve(out.split("\n")[0]) : setTimeout(poll, 5));
    poll();
  });
  const stop = () =>
    new Promise((resolve) => {
      child.on("exit", () => resolve(Number(out.trim().split("\n").at(-1))));
      child.kill("SIGTERM");
    });
  return { first, stop };
}

const resolveExe = (_pid, dev, ino, filename) => ({ path: filename, dev, ino });

/** One run over the input; with `port`, the outputs and metrics on. */
async function once(input, port) {
  let outputs;
  let metrics;
  const dir = mkdtempSync(path.join(os.tmpdir(), "homeostat-bench-outputs-"));
  if (port !== undefined) {
    metrics = new WatchMetrics();
    outputs = await AlertOutputs.open({}, { spoolDir: dir });
    outputs.startHttp({ url: new URL(`http://127.0.0.1:${port}/`), spoolMaxBytes: 64 * 1024 * 1024 });
  }
  const monitor = new HostMonitor({
    settings: { normalWait: 0, normalFactor: 4, normalFactorDen: 3 },
    onAlert: (a) => {
      outputs?.alert(a);
      metrics?.alert(a);
    },
    clock: () => 0,
  });
  metrics?.attach({
    monitor: () => monitor.stats(),
    profiles: () => monitor.profiles(),
    latestEventTime: () => monitor.latestEventTime,
    queues: () => ({ alert_spool: outputs.stats.http.spoolPending }),
    outputs: () => outputs.stats,
    store: () => ({ dropped: 0, saves: 0, profilesSaved: 0 }),
  });
  return { dir, monitor, outputs, metrics };
}

/** CPU seconds of this process's main thread (user + system), or NaN where /proc does not say. */
function mainThreadCpu() {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, "latin1");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100 on Linux)
  } catch {
    return Number.NaN;
  }
}

async function feed(input, run) {
  const parser = new BpftraceOutputParser({ sink: run.monitor, resolveExe });
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
  return {
    seconds,
    eventsPerSecond: input.calls / seconds,
    mainThreadCpuSeconds: cpuSeconds,
    eventsPerCpuSecond: input.calls / cpuSeconds,
    // All of this process's threads: the main one, the output worker, V8's GC helpers, libuv's pool (fsync).
    processCpuSeconds: (p.user + p.system) / 1e6,
    alerts: run.monitor.stats().alerts,
  };
}

async function measure(input, port, server) {
  globalThis.gc?.();
  const run = await once(input, port);
  let stopServer;
  if (run.metrics !== undefined) {
    const s = await startMetricsServer(
      { host: "127.0.0.1", port: server.port },
      () => run.metrics.text(),
      run.metrics.registry.contentType,
    );
    stopServer = () => s.close();
  }
  const r = await feed(input, run);
  await run.outputs?.close(0);
  // Read once closed: the alerts of the last turns have reached the spool (or been counted as overflow).
  const delivery = run.outputs?.stats.http;
  await stopServer?.();
  rmSync(run.dir, { recursive: true, force: true });
  return { ...r, ...(delivery !== undefined ? { delivery } : {}) };
}

export async function run() {
  const input = render(rng(6));
  const receiver = helper(RECEIVER);
  const port = Number(await receiver.first);
  const metricsPort = await new Promise((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
  const scraper = helper(SCRAPER, [`http://127.0.0.1:${metricsPort}/metrics`]);
  const base = [];
  const withOutputs = [];
  const without = () => measure(input, undefined);
  const withOn = () => measure(input, port, { port: metricsPort });
  // Warm-up: both variants, unmeasured.
  await without();
  await withOn();
  for (let i = 0; i < ROUNDS; i++) {
    if (i % 2 === 0) {
      base.push(await without());
      withOutputs.push(await withOn());
    } else {
      withOutputs.push(await withOn());
      base.push(await without());
    }
  }
  const received = await receiver.stop();
  const scrapes = await scraper.stop();
  const median = (xs) => {
    const s = [...xs].sort((a, b) => a - b);
    const m = s.length >> 1;
    return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
  };
  const b = median(base.map((r) => r.eventsPerSecond));
  const w = median(withOutputs.map((r) => r.eventsPerSecond));
  const drop = (1 - w / b) * 100;
  const bCpu = median(base.map((r) => r.eventsPerCpuSecond));
  const wCpu = median(withOutputs.map((r) => r.eventsPerCpuSecond));
  const checks = [
    check(
      `events/s lost with metrics and HTTP delivery on (median of ${ROUNDS} interleaved runs each)`,
      Number(drop.toFixed(2)),
      "<=",
      5,
      "%",
    ),
  ];
  save("outputs", {
    input: { calls: input.calls, bytes: input.bytes, chunks: input.chunks.length },
    rounds: ROUNDS,
    base: { medianEventsPerSecond: b, medianEventsPerCpuSecond: bCpu, runs: base },
    withOutputs: { medianEventsPerSecond: w, medianEventsPerCpuSecond: wCpu, runs: withOutputs },
    dropPercent: drop,
    mainThreadCpuDropPercent: (1 - wCpu / bCpu) * 100,
    receiver: { alertsReceived: received },
    scrapes,
    checks,
  });
  return { checks };
}
