// Static analysis (`homeostat static`, src/static): time and memory of `analyzeProgram` on real binaries, each
// analysis in a fresh child process, so that its peak memory (the child's maxRSS, and VmHWM from /proc) is that
// analysis alone (plus Node itself, measured too as `nodeBaseline`). Time is the wall time of analyzeProgram in
// the child (module loading excluded), best of RUNS for the libc programs.
//   cold: an empty temporary cache directory (every object analysed: the program, libc, ld.so, the vDSO);
//   warm: the same cache directory, second run (every summary read from the cache; only linking and the set);
//   python3 with its lib-dynload directory as plugins (the modules it dlopens), cold;
// and, for the comparison table, the set size (and completeness) of nginx (with /usr/lib/nginx/modules), sqlite3,
// ls, cat and python3, with the digraph's pair count and average branching factor for cat.
// A cold run also reports the size of the summary cache it left on disk (cacheMB). The machine's load average is
// recorded before and after (loadAverage), and each run's CPU time (cpuSeconds) beside its wall time: on a shared
// machine the wall time of the same analysis varies with the load.
// Targets: cold <= 3 s, warm <= 0.3 s, peak memory <= 300 MB, python3 with plugins cold <= 10 s. A program that is
// not installed is skipped with the reason printed and recorded (nginx: apt-get install nginx-light).
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { check, ROOT, save } from "./lib.js";

const RUNS = 3;
const SELF = fileURLToPath(import.meta.url);
/** A child that takes longer than this is stopped and reported as failed (so the bench always ends). */
const CHILD_TIMEOUT_MS = 30 * 60 * 1000;

const TARGET = { coldSeconds: 3, warmSeconds: 0.3, peakMB: 300, pythonSeconds: 10 };

function vmHwmKb() {
  const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync("/proc/self/status", "utf8"));
  return m === null ? Number.NaN : Number(m[1]);
}

/** The child: one analysis (or none, for the baseline), reported as one JSON line on stdout. */
async function child(job) {
  const { analyzeProgram, directoryCache } = await import(pathToFileURL(path.join(ROOT, "dist/static/index.js")).href);
  if (job.baseline) {
    process.stdout.write(`${JSON.stringify({ maxRssKb: process.resourceUsage().maxRSS, vmHwmKb: vmHwmKb() })}\n`);
    return;
  }
  const t0 = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  const model = analyzeProgram(job.program, {
    cache: directoryCache(job.cacheDir),
    ...(job.plugins ? { plugins: job.plugins } : {}),
    ...(job.digraph ? { digraph: true } : {}),
  });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const out = {
    seconds,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    reportedMilliseconds: model.stats.milliseconds,
    maxRssKb: process.resourceUsage().maxRSS,
    vmHwmKb: vmHwmKb(),
    syscalls: model.syscalls.length,
    complete: model.complete,
    unresolved: model.unresolved.length,
    dlopen: model.dlopen.length,
    objects: model.objects.length,
    cachedObjects: model.objects.filter((o) => o.cached).length,
    functions: model.stats.functions,
    reachableFunctions: model.stats.reachableFunctions,
    instructions: model.stats.instructions,
    ...(model.pairs ? { pairs: model.pairs.length, branchingFactor: model.branchingFactor } : {}),
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

/** Runs one analysis in a fresh Node process; returns its report, with the child's own wall time. */
function inChild(job) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [SELF, "--child", JSON.stringify(job)], {
    encoding: "utf8",
    timeout: CHILD_TIMEOUT_MS,
    maxBuffer: 16 * 1024 * 1024,
  });
  const processSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) {
    const why = r.error?.message ?? r.signal ?? `exit ${r.status}`;
    throw new Error(
      `analysing ${job.program ?? "nothing"} failed (${why}): ${(r.stderr ?? "").trim().split("\n").slice(-3).join(" | ")}`,
    );
  }
  const last = r.stdout.trim().split("\n").pop();
  const out = JSON.parse(last);
  out.processSeconds = processSeconds;
  out.peakMB = Math.max(out.maxRssKb, out.vmHwmKb || 0) / 1024;
  return out;
}

/** Megabytes of the files in a cache directory. */
function cacheMB(dir) {
  const files = existsSync(dir) ? readdirSync(dir) : [];
  return files.reduce((n, f) => n + statSync(path.join(dir, f)).size, 0) / 1e6;
}

/** A cold run in cacheDir, with the size of the cache it wrote. */
function coldRun(job) {
  const r = inChild(job);
  r.cacheMB = cacheMB(job.cacheDir);
  return r;
}

function tempCache() {
  return mkdtempSync(path.join(os.tmpdir(), "homeostat-bench-static-"));
}

/** Cold (empty cache) then warm (same cache) runs, each in a fresh child, RUNS times each. */
function coldAndWarm(program, extra = {}) {
  const cold = [];
  const warm = [];
  for (let i = 0; i < RUNS; i++) {
    const cacheDir = tempCache();
    try {
      cold.push(coldRun({ program, cacheDir, ...extra }));
      warm.push(inChild({ program, cacheDir, ...extra }));
    } finally {
      rmSync(cacheDir, { recursive: true, force: true });
    }
  }
  return { cold: summarise(cold), warm: summarise(warm) };
}

/** Best time, highest peak memory, and every run. */
function summarise(runs) {
  const best = runs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
  return {
    ...best,
    seconds: best.seconds,
    peakMB: Math.max(...runs.map((r) => r.peakMB)),
    runs: runs.map((r) => ({
      seconds: r.seconds,
      cpuSeconds: r.cpuSeconds,
      peakMB: r.peakMB,
      cachedObjects: r.cachedObjects,
    })),
  };
}

function once(program, extra = {}) {
  const cacheDir = tempCache();
  try {
    return coldRun({ program, cacheDir, ...extra });
  } finally {
    rmSync(cacheDir, { recursive: true, force: true });
  }
}

/** python3's lib-dynload directory, from the interpreter itself (Debian: /usr/lib/python3.X/lib-dynload). */
function pythonDynload(python) {
  const r = spawnSync(python, ["-c", "import sysconfig; print(sysconfig.get_config_var('DESTSHARED') or '')"], {
    encoding: "utf8",
  });
  const dir = r.status === 0 ? r.stdout.trim() : "";
  return dir !== "" && existsSync(dir) ? dir : undefined;
}

/** The commit measured, and whether src/static differs from it (the analysis is under active work). */
function revision() {
  const git = (args) => spawnSync("git", args, { cwd: ROOT, encoding: "utf8" });
  const head = git(["rev-parse", "HEAD"]);
  if (head.status !== 0) return { commit: "unknown" };
  const dirty = git(["status", "--porcelain", "--", "src/static"]).stdout.trim() !== "";
  return { commit: head.stdout.trim(), srcStaticModified: dirty };
}

function skip(figures, key, reason) {
  console.log(`static: skipping ${key}: ${reason}`);
  figures.skipped[key] = reason;
}

function row(r, extra = {}) {
  return {
    syscalls: r.syscalls,
    complete: r.complete,
    unresolvedSites: r.unresolved,
    dlopenSites: r.dlopen,
    objects: r.objects,
    functions: r.functions,
    reachableFunctions: r.reachableFunctions,
    instructions: r.instructions,
    coldSeconds: r.seconds,
    peakMB: r.peakMB,
    cacheMB: r.cacheMB,
    ...extra,
  };
}

export async function run() {
  const figures = { revision: revision(), skipped: {}, loadAverage: { before: os.loadavg() } };
  const checks = [];
  const baseline = inChild({ baseline: true });
  figures.nodeBaseline = {
    peakMB: baseline.peakMB,
    note: "a child that loads the analysis module and analyses nothing",
  };
  const table = {};

  const libcPrograms = [
    { key: "cat", program: "/usr/bin/cat" },
    { key: "sqlite3", program: "/usr/bin/sqlite3" },
  ];
  for (const { key, program } of libcPrograms) {
    if (!existsSync(program)) {
      skip(figures, key, `${program} is not installed`);
      continue;
    }
    const r = coldAndWarm(program);
    figures[key] = { program, cold: r.cold, warm: r.warm };
    table[key] = row(r.cold, { warmSeconds: r.warm.seconds });
    checks.push(check(`cold analysis (empty cache), ${program}`, r.cold.seconds, "<=", TARGET.coldSeconds, "s"));
    checks.push(check(`warm analysis (libc cached), ${program}`, r.warm.seconds, "<=", TARGET.warmSeconds, "s"));
    checks.push(check(`peak memory, cold analysis of ${program}`, r.cold.peakMB, "<=", TARGET.peakMB, "MB"));
    checks.push(check(`peak memory, warm analysis of ${program}`, r.warm.peakMB, "<=", TARGET.peakMB, "MB"));
  }

  if (existsSync("/usr/bin/cat")) {
    // The digraph of cat (warm: the set's summaries from the cache; the digraph itself is built every time).
    const cacheDir = tempCache();
    try {
      inChild({ program: "/usr/bin/cat", cacheDir });
      const d = inChild({ program: "/usr/bin/cat", cacheDir, digraph: true });
      figures.catDigraph = {
        program: "/usr/bin/cat",
        seconds: d.seconds,
        peakMB: d.peakMB,
        syscalls: d.syscalls,
        pairs: d.pairs,
        branchingFactor: d.branchingFactor,
      };
      Object.assign(table.cat, {
        digraphPairs: d.pairs,
        digraphBranchingFactor: d.branchingFactor,
        digraphSeconds: d.seconds,
      });
    } finally {
      rmSync(cacheDir, { recursive: true, force: true });
    }
  }

  if (existsSync("/usr/bin/ls")) {
    table.ls = row(once("/usr/bin/ls"));
  } else {
    skip(figures, "ls", "/usr/bin/ls is not installed");
  }

  const nginx = "/usr/sbin/nginx";
  if (existsSync(nginx)) {
    const modules = "/usr/lib/nginx/modules";
    const plugins = existsSync(modules) ? [modules] : undefined;
    table.nginx = row(once(nginx, plugins ? { plugins } : {}), { plugins: plugins ?? [] });
  } else {
    skip(figures, "nginx", `${nginx} is not installed (apt-get install nginx-light)`);
  }

  const python = "/usr/bin/python3";
  const dynload = existsSync(python) ? pythonDynload(python) : undefined;
  if (!existsSync(python)) {
    skip(figures, "python3", `${python} is not installed`);
  } else if (dynload === undefined) {
    skip(figures, "python3", `${python} has no lib-dynload directory`);
  } else {
    const p = once(python, { plugins: [dynload] });
    figures.python3 = { program: python, plugins: [dynload], cold: p };
    table.python3 = row(p, { plugins: [dynload] });
    checks.push(check(`cold analysis, ${python} with plugins ${dynload}`, p.seconds, "<=", TARGET.pythonSeconds, "s"));
    checks.push(check(`peak memory, cold analysis of ${python} with plugins`, p.peakMB, "<=", TARGET.peakMB, "MB"));
  }

  figures.table = table;
  figures.loadAverage.after = os.loadavg();
  return save("static", { targets: TARGET, figures, checks });
}

if (process.argv[2] === "--child" && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await child(JSON.parse(process.argv[3]));
} else if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = await run();
  console.log(JSON.stringify(r, null, 2));
}
