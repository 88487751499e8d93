// The make + gcc scenario: a seeded build session over two small generated C projects (makeGccProjects.ts) in a
// driver shell under strace: builds, parallel builds, edits and rebuilds, tests, libraries, installs, cleans, debug
// rebuilds, dry runs and direct compiler calls. Attacks are GTFOBins' make entries and an argument injection, as a
// user (or CI job) that may only run make would use them: `eval-shell` (`make --eval` defines a target whose recipe
// runs a command: GTFOBins "Shell"), `version-injection` (a VERSION taken from an untrusted source, e.g. a tag name,
// holds `$(shell ...)`, which make expands while reading the Makefile), and `eval-file-write` (`$(file >F,...)`
// writes a file from make itself, no shell: GTFOBins "File write"; data-only).

import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { HomeostatError } from "../errors.js";
import type { SeededRandom } from "../models/random.js";
import { proofFile } from "./attackProof.js";
import { type CProject, planProjects, projectFiles } from "./makeGccProjects.js";
import { between, pick, planAttack, rngFor, weighted } from "./planning.js";
import { recordShellSession, type ShellAction } from "./shellRecording.js";
import type { ShellSession } from "./shellSession.js";
import { cleanEnv, missingTools, toolVersion } from "./tools.js";
import type { AttackReport, RecordedRun, RecordingPlan, RecordingSpec, RecordingTarget, Scenario } from "./types.js";

/** A make session's plan: its projects (written before it starts) and its commands. */
export interface MakeGccPlan extends RecordingPlan<ShellAction> {
  projects: CProject[];
}

export const MAKE_ATTACKS = ["eval-shell", "version-injection", "eval-file-write"] as const;

const MOVES = [
  ["build", 5],
  ["parallel", 2],
  ["touch", 4],
  ["edit", 3],
  ["test", 5],
  ["lib", 3],
  ["dry", 3],
  ["clean", 1],
  ["install", 2],
  ["debug", 0.5],
  ["compile", 3],
  ["version", 3],
  ["query", 2],
] as const;
type Move = (typeof MOVES)[number][0];

function makeMove(rng: SeededRandom, kind: Move, p: CProject, extra: number): ShellAction {
  const n = p.name;
  const mod = `${n}/src/mod${between(rng, 1, p.modules)}.c`;
  const cmd: Record<Move, string> = {
    build: `make -C ${n}`,
    parallel: `make -C ${n} -j2`,
    touch: `touch ${mod} && make -s -C ${n}`,
    edit: `printf '%s\\n' 'int ${n}_extra${extra}(int x) { return x * ${extra}; }' >> ${mod} && make -C ${n}`,
    test: `make -C ${n} test`,
    lib: `make -C ${n} lib`,
    dry: `make -C ${n} -n`,
    clean: `make -C ${n} clean`,
    install: `make -C ${n} install DESTDIR=../stage`,
    debug: `make -C ${n} clean all CFLAGS='-O0 -g'`,
    compile: pick(rng, [
      `cc -fsyntax-only -I${n}/include -DVERSION='"dev"' ${n}/src/main.c`,
      `cc -E -I${n}/include ${mod} -o /dev/null`,
      `cc -O2 -S -I${n}/include ${mod} -o ${n}.s`,
    ]),
    version: `make -C ${n} VERSION=1.${extra}`,
    query: `make -C ${n} -q all`,
  };
  return kind === "query" ? { command: cmd[kind], expect: "any" } : { command: cmd[kind] };
}

export function planMakeSession(spec: RecordingSpec): MakeGccPlan {
  const rng = rngFor(spec);
  const projects = planProjects(rng);
  const actions: ShellAction[] = [{ command: `make -C ${projects[0]!.name}` }];
  while (actions.length < spec.actions) {
    actions.push(makeMove(rng, weighted(rng, MOVES), pick(rng, projects), actions.length));
  }
  const attack = planAttack(spec);
  if (attack !== undefined) attack.at = Math.max(attack.at, 1);
  return { seed: spec.seed, projects, actions, ...(attack !== undefined ? { attack } : {}) };
}

export function makeAttackCommand(kind: string, project: string, proof: string): string {
  switch (kind) {
    case "eval-shell":
      return `make -s -C ${project} --eval='x:\n\t-id > ${proof}' x`;
    case "version-injection":
      return `make -C ${project} VERSION='$(shell id > ${proof})'`;
    case "eval-file-write":
      return `make -s -C ${project} --eval='$(file >${proof},ssh-ed25519 AAAAC3NzaC1lZDI1NTE5 attacker)' .`;
    default:
      throw new HomeostatError("E_USAGE", `unknown make attack ${kind}`);
  }
}

async function makeAttack(
  shell: ShellSession,
  kind: string,
  plan: MakeGccPlan,
  workDir: string,
): Promise<AttackReport> {
  const proof = path.join(workDir, "proof.txt");
  const command = makeAttackCommand(kind, plan.projects[0]!.name, proof);
  const time = Date.now() / 1000;
  await shell.run(command);
  if (kind !== "eval-file-write") return { kind, time, command, evidence: proofFile(proof, kind), dataOnly: false };
  if (!existsSync(proof) || !readFileSync(proof, "utf8").includes("attacker")) {
    throw new HomeostatError("E_IO", `the eval-file-write attack wrote no file ${proof}`);
  }
  return { kind, time, command, evidence: "make wrote the attacker's key file", dataOnly: true };
}

function writeProjects(dir: string, projects: readonly CProject[]): void {
  for (const p of projects) {
    for (const [rel, text] of projectFiles(p)) {
      const file = path.join(dir, p.name, rel);
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, text);
    }
  }
}

function recordMake(plan: MakeGccPlan, target: RecordingTarget): Promise<RecordedRun> {
  const dir = path.join(target.workDir, "projects");
  writeProjects(dir, plan.projects);
  return recordShellSession(plan, {
    target,
    cwd: dir,
    env: cleanEnv(target.workDir, { CC: "cc", MAKEFLAGS: "" }),
    attack: (shell, kind) => makeAttack(shell, kind, plan, target.workDir),
  });
}

export const makeGccScenario: Scenario<ShellAction> = {
  name: "make-gcc",
  attacks: MAKE_ATTACKS,
  dataOnlyAttacks: ["eval-file-write"],
  defaultActions: 10,
  unavailable: () => missingTools(["make", "cc"]),
  image: () =>
    `make/${toolVersion("make", ["--version"], /GNU Make (\S+)/)}+gcc/${toolVersion("cc", ["-dumpfullversion"], /(\d+(?:\.\d+)*)/)}`,
  plan: planMakeSession,
  describe: (a) => a.command.slice(0, 100),
  prepare: async () => ({ record: (plan, target) => recordMake(plan as MakeGccPlan, target), close: async () => {} }),
};
