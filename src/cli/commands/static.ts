// `homeostat static BINARY...`: what a program's code can call, found by analysing the binary and its libraries
// without running it (Wagner & Dean, "Intrusion Detection via Static Analysis", IEEE S&P 2001), printed with the
// evidence behind it; `--out` writes it as a `static` profile for `score` and `detect`, `--seccomp` as an OCI/Docker
// allow-list. An incomplete model says so, and why: it cannot promise zero false alarms. The work is in
// ../actions/static.ts, loaded when the command runs.

import type { Command } from "commander";
import type { StaticFlags } from "../actions/static.js";
import { defaultCacheDir } from "../../static/summaryCache.js";
import type { CliContext } from "../context.js";

export function registerStatic(program: Command, ctx: CliContext): void {
  program
    .command("static")
    .description("what a program's code can call, by static analysis of the binary and its libraries (Wagner & Dean)")
    .argument(
      "<binary...>",
      "executables (a name without '/' is searched in PATH; a script's #! interpreter is analysed)",
    )
    .option("--json", "the models as JSON: one object for one binary, else an array")
    .option("-o, --out <profile>", "write a `static` profile for `score` and `detect` (one binary)")
    .option("--seccomp <file>", "write an OCI/Docker seccomp allow-list of the set (one binary)")
    .option("--plugins <path...>", "plugins the program may dlopen: .so files or folders searched for them")
    .option("--digraph", "also find which call may follow which (Wagner & Dean's digraph model; --out writes it)")
    .option("--no-cache", "analyse every object afresh, without the build-id cache")
    .option(
      "--no-libc-plugins",
      "leave out the modules glibc itself would load on this host when reachable (NSS modules named in " +
        "/etc/nsswitch.conf, libgcc_s); the model is then only for hosts whose configuration loads none",
    )
    .option("--cache-dir <dir>", `build-id cache of per-object summaries (default ${defaultCacheDir()})`)
    .addHelpText(
      "after",
      "\nExamples:\n  homeostat static /bin/cat\n  homeostat static --digraph -o cat.profile /bin/cat && homeostat score -p cat.profile cat.hstr\n" +
        "  homeostat static --seccomp nginx-seccomp.json /usr/sbin/nginx --plugins /usr/lib/nginx/modules\n",
    )
    .action(async (binaries: string[], flags: StaticFlags) =>
      (await import("../actions/static.js")).runStatic(binaries, flags, ctx),
    );
}
