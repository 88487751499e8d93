// `homeostat profiles list|show|normalize|tolerize|sensitize|reset|export`: the administration of watch's stored
// profiles, as pH-admin and ebpH's admin tool do it. A profile is named by its key (path@dev:ino), its executable's
// path, or the executable's base name. Changes are saved as a new version in the store; a running `watch` picks
// them up within seconds instead of overwriting them. `export` turns a normal profile into a seccomp allow-list.
// `show` puts the static model of the binary (what its code can call, derived by watch --static) beside what the
// profile learned, and lists what the program can call but was never seen calling: what training has not covered.
// With --fleet, an operation goes to every watch of a fleet instead (../actions/profilesFleet.ts). The work is in
// ../actions/profilesList.ts (list: the store only) and ../actions/profiles.ts (the rest, with the profile models),
// each loaded when its command runs.

import type { Command } from "commander";
import { defaultStateDir } from "../../store/stateStore.js";
import type { AdminOperation, ExportFlags } from "../actions/profiles.js";
import type { CommonFlags } from "../actions/profilesList.js";
import type { FleetAdminFlags } from "../actions/profilesFleet.js";
import type { CliContext } from "../context.js";

/** pH-admin's operations on a profile, with their help. */
export const ADMIN_HELP = {
  normalize: "start normal monitoring now: the training data becomes the normal profile",
  tolerize: "stop normal monitoring and keep training (accept what the program does now)",
  sensitize: "forget the training data, so that recent behaviour is not learned",
  reset: "forget everything: the profile starts training from nothing",
} as const satisfies Record<AdminOperation, string>;

export function registerProfiles(program: Command, ctx: CliContext): void {
  const profiles = program
    .command("profiles")
    .description("list, inspect, administer and export the profiles `homeostat watch` learned");
  const common = (c: Command): Command =>
    c
      .option("--state <dir>", `state directory (default ${defaultStateDir()})`)
      .option("--json", "machine-readable output on stdout");
  const admin = async () => import("../actions/profiles.js");

  common(profiles.command("list").description("every stored profile, one line each")).action(
    async (flags: CommonFlags) => (await import("../actions/profilesList.js")).runList(flags),
  );

  common(
    profiles.command("show").description("one profile in detail").argument("<profile>", "key, executable path or name"),
  ).action(async (selector: string, flags: CommonFlags) => (await admin()).runShow(selector, flags));

  for (const [name, help] of Object.entries(ADMIN_HELP) as [AdminOperation, string][]) {
    common(
      profiles
        .command(name)
        .description(help)
        .argument("<profile>", "key, executable path or name (with --fleet: a program identity b-…/s-…, path or name)"),
    )
      .option("--all", "apply to every profile the name matches")
      .option(
        "--fleet <url>",
        "instead of this host's store: ask every watch of the fleet at this NATS URL (nats://… or tls://…) to apply " +
          "it to its profiles of the program",
      )
      .option("--fleet-creds <file>", "NATS credentials for --fleet: a creds file or a user nkey seed")
      .option("--fleet-tls-ca <file>", "the CA of the NATS servers' certificates for --fleet (turns TLS on)")
      .action(async (selector: string, flags: CommonFlags & FleetAdminFlags & { all?: boolean }) =>
        flags.fleet !== undefined
          ? (await import("../actions/profilesFleet.js")).runFleetAdmin(name, selector, {
              ...flags,
              fleet: flags.fleet,
            })
          : (await admin()).runAdmin(name, selector, flags),
      );
  }

  common(
    profiles
      .command("export")
      .description("write a seccomp allow-list (OCI/Docker JSON) of the system calls a normal profile has seen")
      .argument("<profile>", "key, executable path or name"),
  )
    .option("-o, --out <file>", "write the policy to this regular file (default or -: stdout; a symlink is refused)")
    .option(
      "--mode <mode>",
      "enforce (refuse other calls with EPERM) or log (only log them, to try a policy first)",
      "enforce",
    )
    .option("--training", "export a profile that is not normal yet (what it has seen so far)")
    .action(async (selector: string, flags: ExportFlags) => (await admin()).runExport(selector, flags));
  void ctx;
}
