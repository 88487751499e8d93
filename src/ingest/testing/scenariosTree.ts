// Test helper: a tiny homeostat scenarios benchmark, recorded for real. Until `homeostat scenarios build` exists, the
// tests of the scenarios reader, protocol and `eval --dataset scenarios` need a tree in its fixed layout:
//   <root>/scenarios.json, <root>/<program>/{training,validation,test/normal,test/normal_and_attack}/<rec>.strace
//   with <rec>.json (a LID-DS 2021 recording json) beside each.
// Each recording runs a real small program under `strace -f -ttt -q -o FILE`: "shell" (a bash loop running ls, cat,
// echo and wc over a few files) and "python" (a /usr/bin/python3 one-liner listing, reading and hashing the same
// files). Normal recordings vary by seed (iterations, files, words); every recording writes a time mark half-way
// (bash's $EPOCHREALTIME, python's time.time(): no extra process, the same in normal and attack recordings); an
// attack recording then runs its attack (the shell spawns `id` and reads /etc/passwd; python runs os.system("id")),
// so the attack time in its sidecar is the mark taken just before the attack.

import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { straceUnavailableReason } from "./straceCapture.js";

export const PYTHON = "/usr/bin/python3";

export type ScenarioSplit = "training" | "validation" | "test/normal" | "test/normal_and_attack";
export type ProgramKind = "shell" | "python";

export interface GeneratedRecording {
  split: ScenarioSplit;
  name: string;
  stracePath: string;
  jsonPath: string;
  attack: boolean;
  /** Epoch seconds of the mark taken just before the attack (attack recordings). */
  attackTime?: number;
}

export interface GeneratedProgram {
  name: string;
  image: string;
  dir: string;
  recordings: GeneratedRecording[];
}

export interface ScenariosTree {
  root: string;
  programs: GeneratedProgram[];
}

export interface ScenariosTreeOptions {
  seed?: number;
  programs?: ProgramKind[];
  /** Recordings per split (default training 4, validation 2, test/normal 2, test/normal_and_attack 2). */
  counts?: Partial<Record<ScenarioSplit, number>>;
  /** Write scenarios.json (default true). */
  manifest?: boolean;
  /** Attack names the manifest lists as data-only, per program (labels only: the attacks stay what they are). */
  dataOnlyAttacks?: Partial<Record<ProgramKind, string[]>>;
}

const DEFAULT_COUNTS: Record<ScenarioSplit, number> = {
  training: 4,
  validation: 2,
  "test/normal": 2,
  "test/normal_and_attack": 2,
};
const WORDS = ["alpha", "beta", "gamma", "delta", "omega"];

/** A small seeded generator (mulberry32): the same seed, the same recordings' variations. */
function seeded(seed: number): (n: number) => number {
  let a = seed >>> 0;
  return (n) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
}

/** The shell program: `iterations` rounds of ls / cat / echo (and wc now and then), the mark, the attack, the rest. */
function shellScript(pick: (n: number) => number, files: readonly string[], attack: boolean): string {
  const iterations = 3 + pick(3);
  const half = Math.floor(iterations / 2);
  const lines: string[] = [];
  for (let i = 0; i < iterations; i++) {
    if (i === half) {
      lines.push('printf %s "$EPOCHREALTIME" > "$MARK"');
      if (attack) lines.push("id > /dev/null", "cat /etc/passwd > /dev/null");
    }
    lines.push(`ls "$DATA" > /dev/null`, `cat "$DATA/${files[pick(files.length)]}" > /dev/null`);
    lines.push(`echo ${WORDS[pick(WORDS.length)]} > /dev/null`);
    if (pick(3) === 0) lines.push(`wc -l "$DATA/${files[pick(files.length)]}" > /dev/null`);
  }
  return lines.join("\n");
}

/** The python program: the same rounds in one interpreter, the attack a shell spawned by os.system. */
function pythonScript(pick: (n: number) => number, files: readonly string[], attack: boolean): string {
  const iterations = 3 + pick(3);
  const half = Math.floor(iterations / 2);
  const lines = ["import os, sys, time, hashlib", 'data = os.environ["DATA"]'];
  for (let i = 0; i < iterations; i++) {
    if (i === half) {
      lines.push('open(os.environ["MARK"], "w").write(repr(time.time()))');
      if (attack) lines.push('os.system("id > /dev/null")');
    }
    lines.push("names = sorted(os.listdir(data))");
    lines.push(`h = hashlib.sha256(open(os.path.join(data, "${files[pick(files.length)]}"), "rb").read()).hexdigest()`);
    lines.push(`sys.stdout.write("${WORDS[pick(WORDS.length)]} " + h[:8] + "\\n")`);
  }
  return lines.join("\n");
}

const IMAGES: Record<ProgramKind, string> = { shell: "testing/bash-coreutils", python: "testing/python3" };

/** Runs one recording under strace; returns the mark's time (epoch seconds) and the run's length. */
function record(kind: ProgramKind, script: string, out: string, work: string): { mark: number; seconds: number } {
  const mark = join(work, "mark");
  const command = kind === "shell" ? ["/bin/bash", "-c", script] : [PYTHON, "-I", "-S", "-c", script];
  const t0 = performance.now();
  const r = spawnSync("strace", ["-f", "-ttt", "-q", "-o", out, "--", ...command], {
    cwd: work,
    env: { PATH: "/usr/bin:/bin", LC_ALL: "C", DATA: join(work, "data"), MARK: mark },
    stdio: ["ignore", "ignore", "pipe"],
    timeout: 60_000,
  });
  if (r.error !== undefined) throw r.error;
  if (r.status !== 0) throw new Error(`recording ${out} failed (${r.status}): ${r.stderr.toString().slice(0, 300)}`);
  const time = Number(readFileSync(mark, "utf8").trim());
  rmSync(mark);
  if (!Number.isFinite(time)) throw new Error(`recording ${out}: no time mark`);
  return { mark: time, seconds: (performance.now() - t0) / 1000 };
}

/** The LID-DS 2021-shaped sidecar of one recording. */
function sidecar(program: string, image: string, rec: GeneratedRecording, seconds: number, seed: number): string {
  const json = {
    exploit: rec.attack,
    ...(rec.attack ? { exploit_name: "spawn-id" } : {}),
    image,
    recording_time: Math.max(1, Math.round(seconds)),
    time: {
      exploit: rec.attack ? [{ absolute: rec.attackTime, name: "spawn-id", source: "testing/scenariosTree" }] : [],
    },
    homeostat: { program, split: rec.split, seed },
  };
  return `${JSON.stringify(json, null, 2)}\n`;
}

/** Files the programs read: a few small text files in their own folder. */
function writeData(work: string): string[] {
  const files = ["notes.txt", "numbers.txt", "words.txt"];
  mkdirSync(join(work, "data"), { recursive: true });
  files.forEach((f, i) => writeFileSync(join(work, "data", f), `${WORDS.slice(0, i + 2).join("\n")}\n`));
  return files;
}

/** One program's scenario: every split's recordings with their sidecars. */
function buildProgram(root: string, kind: ProgramKind, options: ScenariosTreeOptions, work: string): GeneratedProgram {
  const seed = options.seed ?? 1;
  const pick = seeded(seed * 31 + (kind === "shell" ? 1 : 2));
  const files = writeData(work);
  const program: GeneratedProgram = { name: kind, image: IMAGES[kind], dir: join(root, kind), recordings: [] };
  const counts = { ...DEFAULT_COUNTS, ...options.counts };
  for (const split of Object.keys(DEFAULT_COUNTS) as ScenarioSplit[]) {
    mkdirSync(join(program.dir, split), { recursive: true });
    for (let i = 1; i <= counts[split]; i++) {
      const attack = split === "test/normal_and_attack";
      const name = `${split.replace("/", "-")}-${String(i).padStart(2, "0")}`;
      const base = join(program.dir, split, name);
      const script = kind === "shell" ? shellScript(pick, files, attack) : pythonScript(pick, files, attack);
      const rec: GeneratedRecording = { split, name, stracePath: `${base}.strace`, jsonPath: `${base}.json`, attack };
      const run = record(kind, script, rec.stracePath, work);
      if (attack) rec.attackTime = run.mark;
      writeFileSync(rec.jsonPath, sidecar(kind, program.image, rec, run.seconds, seed));
      program.recordings.push(rec);
    }
  }
  return program;
}

/** Why a tree cannot be recorded here (no strace, ptrace refused, no bash or python3), or undefined when it can. */
export function scenariosTreeUnavailable(): string | undefined {
  const strace = straceUnavailableReason();
  if (strace !== undefined) return strace;
  for (const tool of ["/bin/bash", PYTHON]) if (!existsSync(tool)) return `${tool} is missing`;
  return undefined;
}

/** Records a scenarios tree under `root` (created if needed). Needs strace, bash and, for "python", /usr/bin/python3. */
export function buildScenariosTree(root: string, options: ScenariosTreeOptions = {}): ScenariosTree {
  const kinds = options.programs ?? ["shell", "python"];
  const work = mkdtempSync(join(tmpdir(), "homeostat-scenario-work-"));
  try {
    mkdirSync(root, { recursive: true });
    const programs = kinds.map((k) => buildProgram(root, k, options, work));
    if (options.manifest !== false) {
      const manifest = {
        schema: "homeostat-scenarios/1",
        seed: options.seed ?? 1,
        programs: programs.map((p) => {
          const dataOnly = options.dataOnlyAttacks?.[p.name as ProgramKind];
          return { name: p.name, image: p.image, ...(dataOnly !== undefined ? { dataOnlyAttacks: dataOnly } : {}) };
        }),
        skipped: [],
      };
      writeFileSync(join(root, "scenarios.json"), `${JSON.stringify(manifest, null, 2)}\n`);
    }
    return { root, programs };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
