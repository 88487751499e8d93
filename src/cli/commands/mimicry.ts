// `homeostat mimicry --profile P --goal execve[,CALL...] [--start CALLS]`: what an attacker who knows the model
// must inject to make the goal calls unseen (Wagner & Soto 2002), or a proof that nothing can. The work is in
// ../actions/mimicry.ts, loaded when the command runs.

import type { Command } from "commander";
import type { MimicryFlags } from "../actions/mimicry.js";
import type { CliContext } from "../context.js";
import { intOption } from "../numberOptions.js";

/** Search states explored at most: the search is a proof only when it ends before this. */
const MAX_STATES_LIMIT = 100_000_000;

export function registerMimicry(program: Command, ctx: CliContext): void {
  program
    .command("mimicry")
    .description("the shortest unseen sequence of calls that reaches goal calls under a profile, or a proof of none")
    .requiredOption("-p, --profile <file>", "profile of stide, tstide, lookahead, ngram or static")
    .requiredOption("--goal <calls>", "the calls the attacker needs, in order, comma-separated (e.g. execve)")
    .option("--start <calls>", "calls the process made before the attacker took over, comma-separated (default: none)")
    .option(
      "--max-states <n>",
      "search states explored before giving up without a proof (default 1000000)",
      intOption("max-states", 1, MAX_STATES_LIMIT),
    )
    .option("--json", "the result as one JSON object")
    .action(async (flags: MimicryFlags) => (await import("../actions/mimicry.js")).runMimicry(flags, ctx));
}
