// `homeostat serve` (registered in ../commands/serve.ts): the token read from its file, the console started
// (src/serve), its URL printed, and served until SIGINT, SIGTERM or SIGHUP, then closed cleanly.

import { parseListen, readToken, requireTokenOffLoopback, startConsole } from "../../serve/index.js";
import { defaultStateDir } from "../../store/stateStore.js";
import { onStopSignals } from "../commandArgs.js";
import type { CliContext } from "../context.js";

export interface ServeFlags {
  state?: string;
  listen: string;
  tokenFile?: string;
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
