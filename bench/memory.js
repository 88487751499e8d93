// Memory and throughput on one very long trace (issue 15): `train` and `score` must stream, so that a trace of any
// length runs in memory bounded by the model, not by the trace.
//
// A trace of BENCH_MEMORY_CALLS calls (default 500 million; set the variable for a quicker run) is generated from
// phrases of realistic x86_64 syscall numbers picked by a seeded generator, written as ADFA-LD text through gzip to a
// temporary file chunk by chunk (never held whole). `homeostat train -m stide:k=6` and `homeostat score --frame 20`
// then run on it as whole processes; the kernel's peak resident memory of each (GNU time's %M, or VmHWM polled from
// /proc) and its throughput (calls per second of wall time, start-up included) are measured. Targets: peak RSS
// <= 300 MB for each, and throughput no more than 20% below the ADFA-LD figure of bench/startup.js, measured here the
// same way (stide k=6 trained on Training_Data_Master, scoring Validation_Data_Master + Attack_Data_Master, whole
// processes, median of rounds).
import { spawn } from "node:child_process";
import { createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { clearInterval, setInterval } from "node:timers";
import { createGzip } from "node:zlib";
import { ADFA, check, hasAdfa, ROOT, save } from "./lib.js";

const BIN = path.join(ROOT, "bin/homeostat");
const CALLS = Number(process.env.BENCH_MEMORY_CALLS ?? 500_000_000);
const ADFA_ROUNDS = 3;
const RSS_TARGET_MB = 300;
const THROUGHPUT_SHARE = 0.8;

// Phrases of a server's life, by x86_64 number: file reads, memory set-up, a network request, locking and
// timing, logging, polling, directory walks; the weights make reads and requests common, set-up rare.
const PHRASES = [
  [[257, 5, 0, 0, 3], 6], // openat fstat read read close
  [[9, 10, 11, 12], 1], // mmap mprotect munmap brk
  [[232, 288, 45, 44, 3], 8], // epoll_wait accept4 recvfrom sendto close
  [[202, 202, 228, 35], 4], // futex futex clock_gettime nanosleep
  [[1, 20, 8, 39], 3], // write writev lseek getpid
  [[7, 0, 1], 5], // poll read write
  [[4, 21, 217, 217, 3], 1], // stat access getdents64 getdents64 close
  [[0, 0, 0, 0, 0, 0, 0, 0], 2], // a run of reads
];

/** A seeded 32-bit generator (mulberry32), so that every run writes the same trace. */
function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** ADFA-LD text of `calls` calls, about 4 MiB per chunk, generated as it is consumed. */
async function* traceText(calls) {
  const texts = PHRASES.map(([p]) => `${p.join(" ")} `);
  const lengths = PHRASES.map(([p]) => p.length);
  const cumulative = [];
  let sum = 0;
  for (const [, w] of PHRASES) cumulative.push((sum += w));
  const next = random(15);
  let left = calls;
  while (left > 0) {
    const parts = [];
    let bytes = 0;
    while (bytes < 4 << 20 && left > 0) {
      const r = next() * sum;
      let i = 0;
      while (cumulative[i] <= r) i++;
      if (lengths[i] <= left) {
        parts.push(texts[i]);
        left -= lengths[i];
      } else {
        parts.push(`${PHRASES[i][0].slice(0, left).join(" ")} `);
        left = 0;
      }
      bytes += texts[i].length;
    }
    yield Buffer.from(parts.join(""));
  }
}

function peakFromStatus(pid) {
  try {
    const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m === null ? 0 : Number(m[1]);
  } catch {
    return 0;
  }
}

/**
 * Runs a homeostat command to its end: wall seconds, peak resident memory in MB, stdout. Peak memory is GNU time's
 * %M when /usr/bin/time exists, else the last VmHWM read from /proc while the process ran.
 */
function measured(args) {
  const gnuTime = existsSync("/usr/bin/time");
  const argv = gnuTime
    ? ["/usr/bin/time", "-f", "%M", process.execPath, BIN, ...args]
    : [process.execPath, BIN, ...args];
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(argv[0], argv.slice(1), { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let polledKb = 0;
    child.stdout.setEncoding("utf8").on("data", (d) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d) => (stderr += d));
    const poll = gnuTime
      ? undefined
      : setInterval(() => (polledKb = Math.max(polledKb, peakFromStatus(child.pid))), 100);
    child.on("error", reject);
    child.on("close", (code) => {
      if (poll !== undefined) clearInterval(poll);
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      const lines = stderr.trim().split("\n");
      if (code !== 0) return reject(new Error(`homeostat ${args.join(" ")} exited ${code}: ${stderr}`));
      const kb = gnuTime ? Number(lines[lines.length - 1]) : polledKb;
      resolve({ seconds, peakMB: kb / 1024, stdout });
    });
  });
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Calls per second of stide train and score on ADFA-LD, whole processes, as bench/startup.js times them. */
async function adfaThroughput(tmp) {
  const profile = path.join(tmp, "adfa.profile");
  const train = path.join(ADFA, "Training_Data_Master");
  const tests = [path.join(ADFA, "Validation_Data_Master"), path.join(ADFA, "Attack_Data_Master")];
  const trainArgs = ["train", "-m", "stide:k=6", "-o", profile, "--json", train];
  const scoreArgs = ["score", "-p", profile, "--frame", "20", "--json", ...tests];
  await measured(trainArgs); // warm-up: the file cache, as startup.js's warm-up round
  await measured(scoreArgs);
  const trainRuns = [];
  const scoreRuns = [];
  let trainCalls = 0;
  let scoreCalls = 0;
  for (let r = 0; r < ADFA_ROUNDS; r++) {
    const t = await measured(trainArgs);
    trainRuns.push(t.seconds);
    trainCalls = JSON.parse(t.stdout).calls;
    const s = await measured(scoreArgs);
    scoreRuns.push(s.seconds);
    scoreCalls = s.stdout
      .trim()
      .split("\n")
      .reduce((n, l) => n + JSON.parse(l).calls, 0);
  }
  const trainSeconds = median(trainRuns);
  const scoreSeconds = median(scoreRuns);
  return {
    trainCalls,
    trainSeconds,
    trainCallsPerSecond: trainCalls / trainSeconds,
    scoreCalls,
    scoreSeconds,
    scoreCallsPerSecond: scoreCalls / scoreSeconds,
  };
}

export async function run() {
  const checks = [];
  const figures = { calls: CALLS };
  const tmp = mkdtempSync(path.join(os.tmpdir(), "homeostat-bench-memory-"));
  try {
    const trace = path.join(tmp, "long.txt.gz");
    let t0 = process.hrtime.bigint();
    await pipeline(traceText(CALLS), createGzip({ level: 1 }), createWriteStream(trace));
    figures.generate = { seconds: Number(process.hrtime.bigint() - t0) / 1e9, gzipBytes: statSync(trace).size };

    const profile = path.join(tmp, "long.profile");
    const train = await measured(["train", "-m", "stide:k=6", "-o", profile, "--json", trace]);
    const trained = JSON.parse(train.stdout);
    const score = await measured(["score", "-p", profile, "--frame", "20", "--json", trace]);
    const scored = JSON.parse(score.stdout);
    if (trained.calls !== CALLS || scored.calls !== CALLS) {
      throw new Error(`expected ${CALLS} calls, train saw ${trained.calls} and score ${scored.calls}`);
    }
    const figure = (m) => ({ seconds: m.seconds, peakMB: m.peakMB, callsPerSecond: CALLS / m.seconds });
    figures.train = { ...figure(train), profileBytes: trained.profileBytes, modelBytes: trained.memoryBytes };
    figures.score = { ...figure(score), windows: scored.windows, anomalies: scored.anomalies };
    checks.push(check(`train on ${CALLS} calls: peak resident memory`, train.peakMB, "<=", RSS_TARGET_MB, "MB"));
    checks.push(check(`score of ${CALLS} calls: peak resident memory`, score.peakMB, "<=", RSS_TARGET_MB, "MB"));

    if (!hasAdfa()) {
      figures.adfa = { skipped: "ADFA-LD absent: the throughput comparison needs it" };
    } else {
      t0 = process.hrtime.bigint();
      const adfa = await adfaThroughput(tmp);
      figures.adfa = adfa;
      const trainRatio = figures.train.callsPerSecond / adfa.trainCallsPerSecond;
      const scoreRatio = figures.score.callsPerSecond / adfa.scoreCallsPerSecond;
      figures.throughputRatio = { train: trainRatio, score: scoreRatio };
      checks.push(check("long trace train throughput / ADFA-LD's", trainRatio, ">=", THROUGHPUT_SHARE, "x"));
      checks.push(check("long trace score throughput / ADFA-LD's", scoreRatio, ">=", THROUGHPUT_SHARE, "x"));
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return save("memory", { figures, checks });
}
