// `homeostat serve` (registered in ../commands/serve.ts): the token read from its file, the console started
// (src/serve), its URL printed, and served until SIGINT, SIGTERM or SIGHUP, then closed cleanly.

import { readFileSync, statSync } from "node:fs";
import { HomeostatError } from "../../errors.js";
import { parseListen, requireTokenOffLoopback, startConsole } from "../../serve/index.js";
import { defaultStateDir } from "../../store/stateStore.js";
import { onStopSignals } from "../commandArgs.js";
import type { CliContext } from "../context.js";

export interface ServeFlags {
  state?: string;
  listen: string;
  tokenFile?: string;
}

/** The token in `file` (surrounding white space removed): a regular file of 16 characters or more. */
export function readToken(file: string): string {
  let text: string;
  try {
    if (!statSync(file).isFile()) throw new HomeostatError("E_USAGE", `--token-file must be a regular file`, { file });
    text = readFileSync(file, "utf8").trim();
  } catch (err) {
    if (err instanceof HomeostatError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new HomeostatError("E_NOT_FOUND", `no such token file`, { file });
    throw new HomeostatError("E_PERMISSION", `cannot read the token file: ${(err as Error).message}`, { file });
  }
  if (text.length < 16 || /\s/.test(text)) {
    throw new HomeostatError("E_USAGE", `the token must be 16 characters or more, without white space`, { file });
  }
  return text;
}

export async function runServe(flags: ServeFlags, ctx: CliContext): Promise<void> {
  const address = parseListen(flags.listen);
  requireTokenOffLoopback(address, flags.tokenFile !== undefined);
  const token = flags.tokenFile !== undefined ? readToken(flags.tokenFile) : undefined;
  const stateDir = flags.state ?? defaultStateDir();
  const running = await startConsole({
    ...address,
    stateDir,
    ...(token !== undefined ? { token } : {}),
    onError: (err) => process.stderr.write(`homeostat: serve: ${(err as Error).stack ?? String(err)}\n`),
  });
  process.stderr.write(
    `homeostat: console at ${running.url} (state ${stateDir}${token !== undefined ? "; token required" : ""}); Ctrl-C to stop\n`,
  );
  await new Promise<void>((resolve) => {
    const remove = onStopSignals(() => {
      remove();
      resolve();
    });
  });
  await running.close();
  process.stderr.write(`homeostat: console closed\n`);
  ctx.exitCode = 0;
}
