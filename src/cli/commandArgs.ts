// What commands that run a program share (`record`, `detect`): the program comes after `--` so that its flags stay
// its own, and Ctrl-C / SIGTERM / SIGHUP stop the capture instead of killing homeostat before the output is whole.

import type { Command } from "commander";
import { HomeostatError } from "../errors.js";

/** Throws E_USAGE unless `command` is exactly what followed `--` on the command line. */
export function requireAfterDashes(program: Command, command: readonly string[], usage: string): void {
  const raw = (program as unknown as { rawArgs?: string[] }).rawArgs;
  if (command.length === 0 || raw === undefined) return;
  const dashes = raw.indexOf("--");
  const after = dashes < 0 ? [] : raw.slice(dashes + 1);
  if (dashes < 0 || after.length !== command.length || after.some((a, i) => a !== command[i])) {
    throw new HomeostatError("E_USAGE", `put the program after \`--\` (${usage}) so that its flags stay its own`);
  }
}

/** Throws E_USAGE when both a command (after `--`) and --pid were given. */
export function refuseCommandAndPid(command: readonly string[], pid: number | undefined): void {
  if (command.length > 0 && pid !== undefined) {
    throw new HomeostatError("E_USAGE", "give either --pid or a command after `--`, not both");
  }
}

/** Calls `stop` on SIGINT, SIGTERM and SIGHUP until the returned function removes the handlers. */
export function onStopSignals(stop: () => void): () => void {
  const signals = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
  for (const s of signals) process.on(s, stop);
  return () => {
    for (const s of signals) process.off(s, stop);
  };
}
