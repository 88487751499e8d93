// `homeostat serve [--state DIR] [--listen HOST:PORT] [--token-file FILE]`: a web console over watch's state
// database, usable while watch runs (it reads through SQLite's WAL and never blocks the writer): an overview,
// the profiles with their history, learned calls, bigram heatmap, seccomp export and pH-admin's operations, the
// alerts (live), and the responses. Loopback only unless a token protects it. The work is in ../actions/serve.ts,
// loaded when the command runs.

import type { Command } from "commander";
import { defaultStateDir } from "../../store/stateStore.js";
import type { ServeFlags } from "../actions/serve.js";
import type { CliContext } from "../context.js";

export function registerServe(program: Command, ctx: CliContext): void {
  program
    .command("serve")
    .description("a web console over the state database: profiles, alerts (live), responses; usable while watch runs")
    .option("--state <dir>", `state directory (default ${defaultStateDir()})`)
    .option("--listen <host:port>", "address to serve on (port 0: the system picks one)", "127.0.0.1:8470")
    .option(
      "--token-file <file>",
      "a file holding a secret token (16 characters or more): every request must carry it (Authorization: Bearer, " +
        "or the cookie the login form sets); required to listen on anything but loopback",
    )
    .addHelpText(
      "after",
      "\nExamples:\n  homeostat serve                     # http://127.0.0.1:8470/ while `homeostat watch` runs\n" +
        "  head -c 32 /dev/urandom | base64 > token && chmod 600 token\n" +
        "  homeostat serve --listen 0.0.0.0:8470 --token-file token\n",
    )
    .action(async (flags: ServeFlags) => (await import("../actions/serve.js")).runServe(flags, ctx));
}
