// `homeostat demo` (what `npm start` runs): the main job end to end on the intentionally vulnerable demo server.
// Prints a short story; --json prints one JSON object as the last line of stdout; --report writes the timeline
// page. Exit 0 when the exploit was caught with no false alarm on held-out normal sessions, 1 otherwise, 3 when
// strace or a C compiler is missing. One line says what the static model of the server binary (no training) says
// about the exploit: the calls its code cannot make that the exploited processes made. The work is in
// ../actions/demo.ts, loaded when the command runs.

import type { Command } from "commander";
import type { DemoFlags } from "../actions/demo.js";
import type { CliContext } from "../context.js";
import { intOption, SEED_MAX } from "../numberOptions.js";

/** Normal sessions to train on at most: each is a client run against the server. */
const SESSIONS_MAX = 10_000;

export function registerDemo(program: Command, ctx: CliContext): void {
  program
    .command("demo")
    .description("build a deliberately vulnerable server, learn its normal behaviour, and catch a real exploit")
    .option("--json", "print the result as one JSON object, the last line of stdout")
    .option("--report <file>", "write the per-call anomaly timeline as an HTML page", "homeostat-demo.html")
    .option("--sessions <n>", "normal sessions to train on", intOption("sessions", 4, SESSIONS_MAX), 64)
    .option("--seed <n>", "seed of the normal workloads", intOption("seed", 0, SEED_MAX), 1)
    .action(async (flags: DemoFlags) => (await import("../actions/demo.js")).runDemoCommand(flags, ctx));
}
