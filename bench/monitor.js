// The host monitor under load (issue #6): `homeostat watch`'s path from the capture's output to the store, on one
// core. A synthetic host (many processes of many programs, each program a Markov chain of system calls so that
// its profile converges as a real one does) is rendered as bpftrace's own output format (batch lines, exec, fork
// and exit lines) and fed through the bpftrace output parser into the pH engine, and every profile is then saved to
// the SQLite store: events/s must be >= 500,000, with every captured event processed (none lost in between).
// Lifecycle settings are small (normal_wait 0, freeze at a quarter), so that profiles turn normal, rare branches
// of the chains become anomalies, tasks cross tolerize_limit and profiles cycle through pH's states: the run
// measures the engine with detection, alerts and resets at work, not only training.
// Then memory per tracked process with 10,000 processes, and the overload path: past --max-tasks, events are
// dropped and counted and memory stays flat. Finally, where eBPF works here, a live capture of a syscall-bound
// program: what bpftrace delivered, what the kernel counted, what was lost.
import { spawn } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import {
  BATCH,
  BpftraceOutputParser,
  bpftraceUnavailableReason,
  startBpftraceCapture,
} from "../dist/capture/bpftraceCapture.js";
import { SeededRandom } from "../dist/models/random.js";
import { HostMonitor } from "../dist/engine/hostMonitor.js";
import { profileRecord } from "../dist/watch/hostWatch.js";
import { StateStore } from "../dist/store/stateStore.js";
import { check, save } from "./lib.js";

const PROGRAMS = 200;
const PROCESSES = 2_000;
const CALLS = 6_000_000;

/** A deterministic generator: the models' own seeded one. */
export function rng(seed) {
  const r = new SeededRandom(seed);
  return () => r.next();
}

/**
 * Each program: 24 of the x86_64 calls, each usually followed by the same one and now and then by one of two
 * others (a sparse chain, as real programs are), so that profiles stop learning and turn normal, and the rare
 * branches then and again produce anomalies.
 */
function programs(random) {
  return Array.from({ length: PROGRAMS }, () => {
    const calls = Array.from({ length: 24 }, () => Math.floor(random() * 300));
    const next = calls.map(() => [0, 1, 2].map(() => Math.floor(random() * 24)));
    return { calls, next };
  });
}

/**
 * bpftrace's output for the synthetic host, as chunks of 64 KiB (what a pipe delivers). `rare`: the share of calls
 * that take one of a chain's two rare branches. `anomalyEvery` (calls, 0 = none): how often one call is replaced by
 * a call no program makes (numbers 300 and up, each used once per program state), an anomaly at a rate the caller
 * sets rather than one the lifecycle's churn decides. `calls`: how many calls in all (about).
 */
export function render(random, { rare = 0.03, anomalyEvery = 0, calls: total = CALLS } = {}) {
  const progs = programs(random);
  const lines = ["Attaching 7 probes...", "R"];
  const state = [];
  for (let p = 0; p < PROCESSES; p++) {
    const pid = 10_000 + p;
    const prog = p % PROGRAMS;
    state.push({ pid, prog, at: 0 });
    lines.push(`E ${pid} ${pid} ${pid} ${1000 + prog} 2049 /usr/bin/prog${prog}`);
  }
  let calls = 0;
  while (calls < total) {
    const s = state[Math.floor(random() * state.length)];
    const prog = progs[s.prog];
    // A time slice: a few batches of this thread, as a scheduler would give it.
    const batches = 1 + Math.floor(random() * 4);
    for (let b = 0; b < batches; b++) {
      const w = Array.from({ length: BATCH / 4 }, () => 0n);
      for (let i = 0; i < BATCH; i++) {
        const foreign = anomalyEvery > 0 && (calls + i) % anomalyEvery === anomalyEvery - 1;
        const nr = foreign ? 300 + ((calls + i) % 150) : prog.calls[s.at];
        w[i >> 2] |= BigInt(nr) << BigInt(16 * (i & 3));
        s.at = prog.next[s.at][random() < 1 - rare ? 0 : 1 + Math.floor(random() * 2)];
      }
      lines.push(`B ${s.pid} ${s.pid} ${BATCH} ${w.map((x) => x.toString(16)).join(" ")}`);
      calls += BATCH;
    }
    if (random() < 0.001) {
      // A process forks a child of the same program and ends; the child takes its place.
      const child = s.pid + 100_000;
      lines.push(`F ${s.pid} ${s.pid} ${child} ${child}`);
      lines.push(`X ${s.pid} ${s.pid}`);
      s.pid = child;
    }
  }
  lines.push(`@kernel_syscalls: ${calls}`, "");
  const text = Buffer.from(lines.join("\n"), "latin1");
  const chunks = [];
  for (let i = 0; i < text.length; i += 65536) chunks.push(text.subarray(i, i + 65536));
  return { chunks, calls, bytes: text.length };
}

const resolveExe = (_pid, dev, ino, filename) => ({ path: filename, dev, ino });

function throughput(input) {
  const dir = mkdtempSync(path.join(os.tmpdir(), "homeostat-bench-monitor-"));
  const store = StateStore.open(dir);
  let alerts = 0;
  const rules = {};
  // Small lifecycle settings, so that most profiles become normal early and calls are tested as well as learned.
  const monitor = new HostMonitor({
    settings: { normalWait: 0, normalFactor: 4, normalFactorDen: 3 },
    onAlert: (a) => {
      alerts++;
      rules[a.rule] = (rules[a.rule] ?? 0) + 1;
    },
    clock: () => 0,
  });
  const parser = new BpftraceOutputParser({ sink: monitor, resolveExe });
  const t0 = process.hrtime.bigint();
  for (const c of input.chunks) parser.write(c, 0);
  parser.end();
  const scored = Number(process.hrtime.bigint() - t0) / 1e9;
  const dirty = [...monitor.profiles()].filter((e) => e.dirty);
  store.saveProfiles(dirty.map((e) => profileRecord(e.key, e.exe, e.profile)));
  const total = Number(process.hrtime.bigint() - t0) / 1e9;
  const stats = monitor.stats();
  const stored = store.counts().profiles;
  store.close();
  rmSync(dir, { recursive: true, force: true });
  const states = {};
  for (const e of monitor.profiles()) states[e.profile.state] = (states[e.profile.state] ?? 0) + 1;
  return {
    seconds: total,
    scoreSeconds: scored,
    saveSeconds: total - scored,
    eventsPerSecond: input.calls / total,
    captured: parser.syscalls,
    kernelCounted: parser.kernelSyscalls,
    processed: stats.processed,
    unattributed: stats.unattributed,
    pending: stats.pending,
    ignored: stats.ignored,
    dropped: stats.dropped,
    skippedLines: parser.skippedLines,
    profiles: stats.profiles,
    profilesStored: stored,
    profileStates: states,
    alerts,
    alertsByRule: rules,
  };
}

function heap() {
  globalThis.gc?.();
  globalThis.gc?.();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/** Bytes per tracked process: 10,000 processes of 100 programs, 20 calls each. */
function perProcess(maxTasks) {
  const processes = 10_000;
  const exes = (pid) => ({ path: `/usr/bin/p${pid % 100}`, dev: 1, ino: pid % 100 });
  const monitor = new HostMonitor({ identify: exes, maxTasks, clock: () => 0 });
  // Profiles first, so that the difference measured is the tasks alone.
  for (let pid = 1; pid <= 100; pid++) for (let c = 0; c < 20; c++) monitor.syscall(pid, pid, c, 0);
  for (let pid = 1; pid <= 100; pid++) monitor.exit(pid, pid, 0);
  const before = heap();
  for (let pid = 1_000; pid < 1_000 + processes; pid++) {
    for (let c = 0; c < 20; c++) monitor.syscall(pid, pid, c, 0);
  }
  const after = heap();
  const stats = monitor.stats();
  return {
    processes,
    tasks: stats.tasks,
    dropped: stats.dropped,
    bytes: after - before,
    bytesPerTracked: (after - before) / stats.tasks,
  };
}

async function live() {
  const why = bpftraceUnavailableReason();
  if (why !== undefined) return { skipped: why };
  const monitor = new HostMonitor({ settings: { normalWait: 0 } });
  const capture = startBpftraceCapture({ sink: monitor });
  await capture.ready;
  const count = 400_000;
  const t0 = process.hrtime.bigint();
  await new Promise((resolve, reject) => {
    const dd = spawn("dd", ["if=/dev/zero", "of=/dev/null", "bs=1", `count=${count}`, "status=none"], {
      stdio: "ignore",
    });
    dd.on("error", reject);
    dd.on("exit", resolve);
  });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  await sleep(300);
  capture.stop();
  const stats = await capture.done;
  const m = monitor.stats();
  return {
    workload: `dd bs=1 count=${count} (${2 * count} read/write calls)`,
    seconds,
    delivered: stats.syscalls,
    kernelCounted: stats.kernelSyscalls,
    lostRecords: stats.lost,
    processed: m.processed,
    unattributed: m.unattributed,
    pending: m.pending,
    ignored: m.ignored,
    deliveredPerSecond: stats.syscalls / (stats.endedAt - stats.startedAt),
  };
}

export async function run() {
  const input = render(rng(6));
  const t = throughput(input);
  const memory = perProcess(65_536);
  const overload = perProcess(1_000);
  const eBPF = await live();
  const checks = [
    check(
      "events/s from bpftrace output through the engine to the store (one core)",
      t.eventsPerSecond,
      ">=",
      500_000,
      "events/s",
    ),
    check(
      "captured events not processed (lost between capture and store)",
      t.captured - t.processed - t.unattributed - t.pending - t.ignored - t.dropped,
      "<=",
      0,
      "events",
    ),
    check("memory per tracked process (10,000 processes)", memory.bytesPerTracked, "<=", 2048, "bytes"),
    check("tasks held under overload (max-tasks 1,000, 10,000 processes)", overload.tasks, "<=", 1_000, "tasks"),
    check("memory under overload (10,000 processes, 1,000 tracked)", overload.bytes, "<=", 1_000 * 2048, "bytes"),
  ];
  save("monitor", {
    input: { programs: PROGRAMS, processes: PROCESSES, calls: input.calls, bytes: input.bytes },
    throughput: t,
    memory,
    overload,
    eBPF,
    checks,
  });
  return { checks };
}
