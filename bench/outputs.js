// Alert delivery and metrics under load (issue #12): the monitor bench's synthetic host (bench/monitor.js: bpftrace
// output through the parser into the pH engine) run on the same input three ways: as it is; with watch's outputs on:
// every alert turned into JSON, appended to the spool and posted to an HTTP receiver (another process, answering
// 200 as Falcosidekick does), sent to syslog as an RFC 5424 message (the same process listening on a unix stream
// socket; OUTPUTS_SYSLOG=datagram: a python3 process on a datagram socket, as journald's /dev/log is, reached
// through watch's helper process; OUTPUTS_SYSLOG=off: none), the Prometheus registry counting alerts and scraped by
// another process every 250 ms; and turning each alert into JSON and nothing else (watch does that for its store
// whether outputs are on or not, and shares the JSON with them, so the drop from it is what the outputs add to a
// watch; the drop from the bare engine is reported too). Chunks are fed one per turn of the event loop, as a live
// capture delivers them, so that delivery and scrapes run between them. Two inputs (bench/alertLoad.js): a steady
// host at about 2,000 alerts a second, whose drop is checked (at most 5%), and an alert storm of tens of thousands
// a second, whose drop is reported.
//
// The machine may be shared (other jobs, 2 cores), so one run says little: every variant is warmed up first (the
// JIT sees the outputs' code before a measured run), then ROUNDS rounds run each variant once, the order rotating
// from round to round, a full GC before each run, and the medians are compared (the best of a few runs would
// favour whichever variant got a quiet moment); the load average is recorded around each run. Each run also reports
// the main thread's own CPU time (from /proc/self/task/<pid>/stat, the thread that scores events), events per CPU
// second of it being far less sensitive to other jobs than events per wall second; that figure is reported, not
// checked.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
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
import { ANOMALY_EVERY, dropFigures, mainThreadCpu, reportedLine, rotatedRounds, WORKLOADS } from "./alertLoad.js";

const ROUNDS = Number(process.env.OUTPUTS_ROUNDS ?? 7);

const SYSLOG = process.env.OUTPUTS_SYSLOG ?? "stream";

const RECEIVER = `
const http = require("node:http");
const net = require("node:net");
let n = 0;
let lines = 0;
const s = http.createServer((req, res) => { req.resume(); req.on("end", () => { n++; res.end(); }); });
const path = process.argv[1];
const count = (d) => { for (let i = d.indexOf(10); i !== -1; i = d.indexOf(10, i + 1)) lines++; };
if (path) net.createServer((c) => c.on("data", count)).listen(path);
s.listen(0, "127.0.0.1", () => console.log(s.address().port));
process.on("SIGTERM", () => { console.log(lines); console.log(n); process.exit(0); });
`;

const DATAGRAM_RECEIVER = `
import signal, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
n = 0
def stop(*_):
    print(n, flush=True); sys.exit(0)
signal.signal(signal.SIGTERM, stop)
print("ready", flush=True)
while True:
    s.recv(65536); n += 1
`;

const SCRAPER = `
const url = process.argv[1];
let n = 0;
setInterval(() => fetch(url).then((r) => r.text()).then(() => n++, () => {}), 250);
process.on("SIGTERM", () => { console.log(n); process.exit(0); });
`;

/** A helper process running `code`; resolves with it and its first line of output. */
function helper(code, args = [], program = process.execPath, flag = "-e") {
  const child = spawn(program, [flag, code, ...args], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (s) => (out += s));
  const first = new Promise((resolve) => {
    const poll = () => (out.includes("\n") ? resolve(out.split("\n")[0]) : setTimeout(poll, 5));
    poll();
  });
  // Every line it printed, as numbers (its figures, said on SIGTERM, are the last).
  const stop = () =>
    new Promise((resolve) => {
      child.on("exit", () => resolve(out.trim().split("\n").map(Number)));
      child.kill("SIGTERM");
    });
  return { first, stop };
}

const resolveExe = (_pid, dev, ino, filename) => ({ path: filename, dev, ino });

/** What the JSON-only variant made (kept, so that the work is not optimised away). */
let jsonChars = 0;

/**
 * One run over the input; with `port`, the outputs and metrics on (syslog to `syslogPath` when given); with `json`
 * (and no port), each alert turned into JSON and nothing more, as watch does for its store whether outputs are on
 * or not (it shares that JSON with them).
 */
async function once(input, port, syslogPath, json = false) {
  let outputs;
  let metrics;
  const dir = mkdtempSync(path.join(os.tmpdir(), "homeostat-bench-outputs-"));
  if (port !== undefined) {
    metrics = new WatchMetrics();
    const syslog = syslogPath !== undefined ? { path: syslogPath, facility: 3 } : undefined;
    outputs = await AlertOutputs.open({ ...(syslog !== undefined ? { syslog } : {}) }, { spoolDir: dir });
    outputs.startHttp({ url: new URL(`http://127.0.0.1:${port}/`), spoolMaxBytes: 64 * 1024 * 1024 });
  }
  const monitor = new HostMonitor({
    settings: { normalWait: 0, normalFactor: 4, normalFactorDen: 3 },
    onAlert: (a) => {
      if (json) jsonChars += JSON.stringify(a).length;
      outputs?.alert(a);
      metrics?.alert(a);
    },
    clock: () => 0,
  });
  metrics?.attach({
    monitor: () => monitor.stats(),
    profiles: () => monitor.profiles(),
    latestEventTime: () => monitor.latestEventTime,
    queues: () => ({ alert_spool: outputs.stats.http.spoolPending, syslog: outputs.stats.syslog?.queued ?? 0 }),
    outputs: () => outputs.stats,
    store: () => ({ dropped: 0, saves: 0, profilesSaved: 0 }),
  });
  return { dir, monitor, outputs, metrics };
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

async function measure(input, port, server, json = false) {
  globalThis.gc?.();
  const loadBefore = os.loadavg()[0];
  const run = await once(input, port, server?.syslogPath, json);
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
  const syslog = run.outputs?.stats.syslog;
  await stopServer?.();
  rmSync(run.dir, { recursive: true, force: true });
  const load = [loadBefore, os.loadavg()[0]];
  return { ...r, load, ...(delivery !== undefined ? { delivery } : {}), ...(syslog !== undefined ? { syslog } : {}) };
}

export async function run() {
  const socketDir = mkdtempSync(path.join(os.tmpdir(), "homeostat-bench-syslog-"));
  const syslogPath = SYSLOG === "off" ? undefined : path.join(socketDir, "log.sock");
  const receiver = helper(RECEIVER, SYSLOG === "stream" ? [syslogPath] : []);
  const dgram = SYSLOG === "datagram" ? helper(DATAGRAM_RECEIVER, [syslogPath], "python3", "-c") : undefined;
  await dgram?.first;
  const port = Number(await receiver.first);
  const metricsPort = await new Promise((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
  const scraper = helper(SCRAPER, [`http://127.0.0.1:${metricsPort}/metrics`]);
  const workloads = {};
  for (const [name, make] of Object.entries(WORKLOADS)) {
    const input = make();
    const runs = await rotatedRounds(
      {
        base: () => measure(input, undefined),
        json: () => measure(input, undefined, undefined, true),
        withOutputs: () => measure(input, port, { port: metricsPort, syslogPath }),
      },
      ROUNDS,
    );
    workloads[name] = dropFigures(input, runs, "withOutputs");
  }
  const [syslogLines, received] = (await receiver.stop()).slice(-2);
  const datagrams = dgram !== undefined ? (await dgram.stop()).at(-1) : undefined;
  const scrapes = (await scraper.stop()).at(-1);
  rmSync(socketDir, { recursive: true, force: true });
  const { steady, sparse, storm } = workloads;
  const checks = [
    check(
      `events/s lost with metrics, HTTP delivery and syslog (${SYSLOG}) on at ${Math.round(steady.withOutputs.medianAlertsPerSecond)} alerts/s, ` +
        `against a watch making each alert's JSON for its store (median of ${ROUNDS} rotated runs each)`,
      Number(steady.dropFromJsonPercent.toFixed(2)),
      "<=",
      5,
      "%",
    ),
  ];
  save("outputs", {
    rounds: ROUNDS,
    anomalyEvery: ANOMALY_EVERY,
    syslog: SYSLOG,
    steady,
    sparse: { note: "reported, not checked: a few hundred alerts a second", ...sparse },
    storm: { note: "reported, not checked: an alert storm far above a host's usual load", ...storm },
    jsonChars,
    receiver: {
      alertsReceived: received,
      syslogMessagesReceived: SYSLOG === "datagram" ? datagrams : SYSLOG === "stream" ? syslogLines : 0,
    },
    scrapes,
    checks,
  });
  const said = reportedLine(workloads, "withOutputs");
  return { checks, said };
}
