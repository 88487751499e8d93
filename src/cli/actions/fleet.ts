// `homeostat fleet serve` (registered in ../commands/fleet.ts): the flags checked (the listen address and token
// before anything connects), the central side started (src/fleet/fleetServe.ts), what it does said on stderr (or
// as JSON lines on stdout), and served until SIGINT, SIGTERM or SIGHUP, then closed so that nothing is lost: the
// last batch stored and acknowledged before the connection is drained.

import path from "node:path";
import { isHomeostatError } from "../../errors.js";
import type { FleetServeOptions } from "../../fleet/fleetServe.js";
import { parseListen, requireTokenOffLoopback } from "../../serve/listenAddress.js";
import { defaultStateDir } from "../../store/stateStore.js";
import { onStopSignals } from "../commandArgs.js";
import type { CliContext } from "../context.js";
import { readToken } from "../../serve/tokenFile.js";

export interface FleetServeFlags {
  nats: string;
  natsCreds?: string;
  natsTlsCa?: string;
  state?: string;
  listen: string;
  console: boolean;
  tokenFile?: string;
  pool?: boolean;
  replicas: number;
  json?: boolean;
}

/** One line of --json output, or a line for people on stderr. */
function say(flags: FleetServeFlags, event: Record<string, unknown>, text: string): void {
  if (flags.json) process.stdout.write(`${JSON.stringify(event)}\n`);
  else process.stderr.write(`homeostat: ${text}\n`);
}

function why(err: unknown): string {
  return isHomeostatError(err) ? err.oneLine() : err instanceof Error ? err.message : String(err);
}

/** What fleet serve reports as it runs: errors it survives, the first refused messages, poolings. */
function reporters(flags: FleetServeFlags): Pick<FleetServeOptions, "onError" | "onRejected" | "onPooled"> {
  let rejected = 0;
  return {
    onError: (what, err) => say(flags, { event: "error", what, error: why(err) }, `fleet serve: ${what}: ${why(err)}`),
    onRejected: (what, err) => {
      // Said for the first ten; then counted (the status and the final line give the total).
      if (++rejected <= 10)
        say(flags, { event: "rejected", what, error: why(err) }, `fleet serve: refused ${what}: ${why(err)}`);
    },
    onPooled: (program, r) =>
      say(
        flags,
        {
          event: "pooled",
          program,
          ...(r !== undefined ? { state: r.state, hosts: r.hosts, version: r.version } : {}),
        },
        r === undefined
          ? `fleet serve: ${program} is on fewer than two hosts now; its pooled profile removed`
          : `fleet serve: pooled ${program} from ${r.hosts.join(", ")}: ${r.state} (version ${r.version})`,
      ),
  };
}

export async function runFleetServe(flags: FleetServeFlags, ctx: CliContext): Promise<void> {
  const address = flags.console ? parseListen(flags.listen) : undefined;
  if (address !== undefined) requireTokenOffLoopback(address, flags.tokenFile !== undefined);
  const token = flags.tokenFile !== undefined ? readToken(flags.tokenFile) : undefined;
  const stateDir = flags.state ?? path.join(defaultStateDir(), "fleet");
  const { startFleetServe } = await import("../../fleet/fleetServe.js");
  const running = await startFleetServe({
    nats: {
      url: flags.nats,
      ...(flags.natsCreds !== undefined ? { credsFile: flags.natsCreds } : {}),
      ...(flags.natsTlsCa !== undefined ? { tlsCaFile: flags.natsTlsCa } : {}),
    },
    stateDir,
    ...(address !== undefined ? { listen: address } : {}),
    ...(token !== undefined ? { token } : {}),
    pool: flags.pool === true,
    replicas: flags.replicas,
    ...reporters(flags),
  });
  say(
    flags,
    { event: "started", pid: process.pid, nats: running.nats, database: running.dbPath, console: running.url ?? null },
    `fleet serve: consuming ${running.nats} into ${running.dbPath}` +
      `${running.url !== undefined ? `; console at ${running.url}${token !== undefined ? " (token required)" : ""}` : ""}` +
      `${flags.pool ? "; pooling profiles" : ""}; Ctrl-C to stop`,
  );
  await new Promise<void>((resolve) => {
    const remove = onStopSignals(() => {
      remove();
      resolve();
    });
  });
  await running.close();
  const s = running.status();
  say(
    flags,
    { event: "stopped", ingest: s.ingest, profiles: s.profiles, pool: s.pool },
    `fleet serve: stopped; ${s.ingest.stored} messages stored, ${s.ingest.duplicates} already stored, ` +
      `${s.ingest.rejected} refused; ${s.profiles.applied} profile snapshots`,
  );
  ctx.exitCode = 0;
}
