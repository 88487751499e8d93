// `homeostat fleet serve --nats URL [...]`: the central side of fleet mode. It consumes the HOMEOSTAT stream of NATS
// JetStream that every `homeostat watch --fleet` publishes to, through a durable consumer, into a fleet database
// (every alert exactly once, also after a kill), keeps the hosts' profile snapshots, pools them with --pool, and
// serves a web console of the fleet (Hosts, Alerts, Programs) with a JSON API. The work is in ../actions/fleet.ts,
// loaded when the command runs.

import type { Command } from "commander";
import { defaultStateDir } from "../../store/stateStore.js";
import type { FleetServeFlags } from "../actions/fleet.js";
import type { CliContext } from "../context.js";
import { intOption } from "../numberOptions.js";

export function registerFleet(program: Command, ctx: CliContext): void {
  const fleet = program.command("fleet").description("the central side of fleet mode (NATS JetStream)");
  fleet
    .command("serve")
    .description(
      "consume every host's alerts, actions, heartbeats and profile snapshots into a fleet database and serve its console",
    )
    .requiredOption(
      "--nats <url>",
      "the NATS servers: nats://[user:password@]HOST:4222 or tls://...; several joined by commas (a cluster)",
    )
    .option("--nats-creds <file>", "NATS credentials: a creds file (JWT and nkey seed) or a user nkey seed")
    .option("--nats-tls-ca <file>", "the CA of the NATS servers' certificates (turns TLS on)")
    .option("--state <dir>", `state directory of the fleet database (default ${defaultStateDir()}/fleet)`)
    .option("--listen <host:port>", "address of the console (port 0: the system picks one)", "127.0.0.1:8471")
    .option("--no-console", "serve no console (consume and pool only)")
    .option(
      "--token-file <file>",
      "a file holding a secret token (16 characters or more): every console request must carry it; required to " +
        "listen on anything but loopback",
    )
    .option("--pool", "merge the profiles of each program seen on two hosts or more into the pooled bucket")
    .option(
      "--replicas <n>",
      "replicas of the stream and buckets when this side creates them",
      intOption("replicas", 1, 5),
      1,
    )
    .option("--json", "machine-readable lines on stdout (started, pooled, stopped with the figures)")
    .addHelpText(
      "after",
      "\nExamples:\n  homeostat fleet serve --nats nats://127.0.0.1:4222               # console at http://127.0.0.1:8471/\n" +
        "  homeostat fleet serve --nats nats://a:4222,nats://b:4222,nats://c:4222 --replicas 3 --pool\n" +
        "  homeostat fleet serve --nats tls://nats.example:4222 --nats-creds central.creds \\\n" +
        "      --listen 0.0.0.0:8471 --token-file token\n",
    )
    .action(async (flags: FleetServeFlags) => (await import("../actions/fleet.js")).runFleetServe(flags, ctx));
}
