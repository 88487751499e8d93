// Start-up and whole-process cost of the CLI.
//
// 1. Start-up, side by side: `node -e 0`, `homeostat --version` and `homeostat profiles list --state DIR` run
//    interleaved (the order rotates each round), several rounds; the figure is the median wall time of each, and the
//    targets are homeostat <= 1.5x `node -e 0` for both commands.
// 2. stide against a plain C stide (bench/c/stide.c, compiled here with gcc -O2 into a temporary folder): train on
//    ADFA-LD's Training_Data_Master, score Validation_Data_Master and Attack_Data_Master, each side as whole processes
//    (homeostat: `train` then `score --json`), interleaved rounds, median. Both must give the same calls, windows,
//    mismatches and maximum locality frame count for every trace, or the comparison means nothing. Target:
//    homeostat <= 2.5x the C program. Beside them runs bench/js/stide.mjs, the C program ported line for line to plain
//    JavaScript (one process, same output): what Node itself costs on the task, so that homeostat's own overhead can
//    be told from the runtime's.
import { execFileSync, spawnSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { HOST_SYMBOLS } from "../dist/engine/hostMonitor.js";
import { profileRecord } from "../dist/watch/hostWatch.js";
import { PhProfile } from "../dist/lifecycle/phProfile.js";
import { StateStore } from "../dist/store/stateStore.js";
import { syscallTable } from "../dist/syscalls/abi.js";
import { ADFA, check, hasAdfa, ROOT, save } from "./lib.js";

const BIN = path.join(ROOT, "bin/homeostat");
const JS_STIDE = path.join(ROOT, "bench/js/stide.mjs");
const STARTUP_ROUNDS = 21;
const STIDE_ROUNDS = 5;

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Wall seconds of one process run to completion; throws unless it exits 0. `out` is a file for its stdout. */
function timed(argv, out) {
  const fd = out === undefined ? "ignore" : openSync(out, "w");
  try {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(argv[0], argv.slice(1), { stdio: ["ignore", fd, "pipe"], encoding: "utf8" });
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    if (r.status !== 0) throw new Error(`${argv.join(" ")} exited ${r.status}: ${r.stderr}`);
    return seconds;
  } finally {
    if (typeof fd === "number") closeSync(fd);
  }
}

/**
 * Runs every named command `rounds` times after `warmup` rounds, interleaved with the order rotated each round; a
 * command is called with whether its round is a warm-up. Returns the samples by name.
 */
function interleaved(commands, rounds, warmup = 1) {
  const names = Object.keys(commands);
  const samples = Object.fromEntries(names.map((n) => [n, []]));
  for (let r = -warmup; r < rounds; r++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(i + Math.max(0, r)) % names.length];
      const t = commands[name](r < 0);
      if (r >= 0) samples[name].push(t);
    }
  }
  return samples;
}

function summary(samples) {
  const s = [...samples].sort((a, b) => a - b);
  return { median: median(s), min: s[0], max: s[s.length - 1], runs: s.length };
}

/** A state folder with two profiles, as `watch` leaves it. */
function makeState(dir) {
  const nr = (name) => syscallTable("x86_64").numberOf(name);
  const calls = ["openat", "read", "write", "close", "exit_group"].map(nr);
  const store = StateStore.open(dir);
  const normal = new PhProfile(HOST_SYMBOLS);
  const s = normal.newStream();
  for (let i = 0; i < 50; i++) normal.step(s, calls[i % calls.length], i);
  normal.normalize();
  const training = new PhProfile(HOST_SYMBOLS);
  training.step(training.newStream(), nr("read"), 0);
  store.saveProfiles([
    profileRecord("/usr/bin/true@1:2", { path: "/usr/bin/true", dev: 1, ino: 2 }, normal),
    profileRecord("/usr/bin/false@1:3", { path: "/usr/bin/false", dev: 1, ino: 3 }, training),
  ]);
  store.close();
}

/** path -> [calls, windows, mismatches, max LFC] from the C program's TSV lines. */
function readC(file) {
  const out = new Map();
  for (const line of readFileSync(file, "utf8").split("\n")) {
    if (line === "") continue;
    const [p, ...n] = line.split("\t");
    out.set(path.resolve(p), n.map(Number));
  }
  return out;
}

/** The same from homeostat score --json. */
function readHomeostat(file) {
  const out = new Map();
  for (const line of readFileSync(file, "utf8").split("\n")) {
    if (line === "") continue;
    const o = JSON.parse(line);
    out.set(path.resolve(o.source), [o.calls, o.windows, o.anomalies, o.maxLfc]);
  }
  return out;
}

function compare(c, h) {
  let agree = 0;
  const differ = [];
  for (const [p, v] of c) {
    const w = h.get(p);
    if (w !== undefined && w.every((x, i) => x === v[i])) agree++;
    else if (differ.length < 5) differ.push({ trace: p, c: v, homeostat: w ?? null });
  }
  const onlyHomeostat = [...h.keys()].filter((p) => !c.has(p)).length;
  return { traces: c.size, agree, onlyHomeostat, differ };
}

function stide(tmp, figures, checks) {
  const gcc = spawnSync("gcc", ["--version"]);
  if (gcc.status !== 0) {
    figures.stide = { skipped: "gcc absent: the C comparison needs it" };
    return;
  }
  if (!hasAdfa()) {
    figures.stide = { skipped: "ADFA-LD absent: the stide comparison needs it" };
    return;
  }
  const exe = path.join(tmp, "stide");
  execFileSync("gcc", ["-O2", "-o", exe, path.join(ROOT, "bench/c/stide.c")]);
  const train = path.join(ADFA, "Training_Data_Master");
  const tests = [path.join(ADFA, "Validation_Data_Master"), path.join(ADFA, "Attack_Data_Master")];
  const cOut = path.join(tmp, "c.tsv");
  const hOut = path.join(tmp, "homeostat.jsonl");
  const parts = { train: [], score: [] };
  const homeostat = (format) => (warmup) => {
    const f = format === undefined ? [] : ["--format", format];
    const profile = path.join(tmp, `stide-${format ?? "detected"}.profile`);
    const out = format === undefined ? hOut : path.join(tmp, `homeostat-${format}.jsonl`);
    const a = timed([process.execPath, BIN, "train", "-m", "stide:k=6", "-o", profile, "--json", ...f, train]);
    const b = timed([process.execPath, BIN, "score", "-p", profile, "--frame", "20", "--json", ...f, ...tests], out);
    if (format === undefined && !warmup) {
      parts.train.push(a);
      parts.score.push(b);
    }
    return a + b;
  };
  const jsOut = path.join(tmp, "js.tsv");
  const samples = interleaved(
    {
      c: () => timed([exe, "-k", "6", "-f", "20", train, "--", ...tests], cOut),
      plainJs: () => timed([process.execPath, JS_STIDE, "-k", "6", "-f", "20", train, "--", ...tests], jsOut),
      homeostat: homeostat(undefined),
      homeostatFormatAdfa: homeostat("adfa"),
    },
    STIDE_ROUNDS,
  );
  const agreement = compare(readC(cOut), readHomeostat(hOut));
  const jsAgreement = compare(readC(cOut), readC(jsOut));
  const c = summary(samples.c);
  const js = summary(samples.plainJs);
  const h = summary(samples.homeostat);
  const forced = summary(samples.homeostatFormatAdfa);
  figures.stide = {
    task: "stide k=6: train on Training_Data_Master, score Validation_Data_Master + Attack_Data_Master (frame 20)",
    cSeconds: c,
    homeostatSeconds: h,
    homeostatTrainSeconds: summary(parts.train),
    homeostatScoreSeconds: summary(parts.score),
    homeostatWithFormatAdfaSeconds: forced,
    plainJsSeconds: js,
    ratio: h.median / c.median,
    plainJsRatio: js.median / c.median,
    homeostatToPlainJsRatio: h.median / js.median,
    ratioWithFormatAdfa: forced.median / c.median,
    agreement,
    plainJsAgreement: jsAgreement,
  };
  checks.push(check("stide on ADFA-LD: homeostat train + score vs C", h.median / c.median, "<=", 2.5, "x"));
  checks.push(
    check(
      "stide on ADFA-LD: traces whose results differ from C",
      agreement.traces - agreement.agree,
      "<=",
      0,
      "traces",
    ),
  );
  checks.push(
    check(
      "stide on ADFA-LD: traces whose plain-JS results differ from C",
      jsAgreement.traces - jsAgreement.agree,
      "<=",
      0,
      "traces",
    ),
  );
}

export async function run() {
  const checks = [];
  const figures = {};
  const tmp = mkdtempSync(path.join(os.tmpdir(), "homeostat-bench-startup-"));
  try {
    const state = path.join(tmp, "state");
    makeState(state);
    const samples = interleaved(
      {
        node: () => timed([process.execPath, "-e", "0"]),
        version: () => timed([process.execPath, BIN, "--version"]),
        profilesList: () => timed([process.execPath, BIN, "profiles", "list", "--state", state]),
      },
      STARTUP_ROUNDS,
      2,
    );
    const node = summary(samples.node);
    const version = summary(samples.version);
    const list = summary(samples.profilesList);
    figures.startup = {
      nodeSeconds: node,
      versionSeconds: version,
      profilesListSeconds: list,
      versionRatio: version.median / node.median,
      profilesListRatio: list.median / node.median,
      load: os.loadavg(),
    };
    checks.push(check("homeostat --version vs node -e 0 (median)", version.median / node.median, "<=", 1.5, "x"));
    checks.push(check("homeostat profiles list vs node -e 0 (median)", list.median / node.median, "<=", 1.5, "x"));
    stide(tmp, figures, checks);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return save("startup", { figures, checks });
}
