// A recording of a command-line session (git, make + gcc, openssl): the planned commands run one by one in a driver
// shell under strace (shellSession.ts), each checked for the exit status the plan expects; the attack, when there
// is one, runs between two planned commands, its time taken just before its command is written to the shell.

import { HomeostatError } from "../errors.js";
import { waitForPort } from "./readiness.js";
import { ShellSession } from "./shellSession.js";
import type { AttackReport, RecordedRun, RecordingPlan, RecordingTarget } from "./types.js";

/** One planned command of a session. */
export interface ShellAction {
  command: string;
  /** `ok`: exit status 0 (the default); `any`: any status (grep-like commands). */
  expect?: "ok" | "any";
  /** Once it returns, wait until 127.0.0.1:{PORT} listens (a server started in the background). */
  waitPort?: boolean;
}

export interface ShellRecordingOptions {
  target: RecordingTarget;
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Replaces placeholders of the plan (a port, a folder) with this run's values. */
  substitute?: (command: string) => string;
  /** The port `waitPort` actions wait for. */
  port?: number;
  /** Runs the planned attack in the session. */
  attack?: (shell: ShellSession, kind: string) => Promise<AttackReport>;
}

/** Runs `plan` in a driver shell under strace; the trace goes to the target's path. */
export async function recordShellSession(
  plan: RecordingPlan<ShellAction>,
  options: ShellRecordingOptions,
): Promise<RecordedRun> {
  const { target } = options;
  const started = Date.now() / 1000;
  const shell = ShellSession.start(target.groups, target.tracePath, options.cwd, options.env);
  let attack: AttackReport | undefined;
  try {
    for (let i = 0; i < plan.actions.length; i++) {
      if (plan.attack?.at === i) {
        if (options.attack === undefined) throw new HomeostatError("E_USAGE", "this session has no attack");
        attack = await options.attack(shell, plan.attack.kind);
      }
      await runAction(shell, plan.actions[i]!, options);
    }
    await shell.close();
  } finally {
    target.groups.killAll();
  }
  return { started, ended: Date.now() / 1000, ...(attack !== undefined ? { attack } : {}) };
}

async function runAction(shell: ShellSession, action: ShellAction, options: ShellRecordingOptions): Promise<void> {
  const command = options.substitute ? options.substitute(action.command) : action.command;
  if (action.expect === "any") await shell.run(command);
  else await shell.must(command);
  if (action.waitPort && options.port !== undefined) {
    await waitForPort(options.port, shell.traced.child, "the session's server");
  }
}
