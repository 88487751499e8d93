// `homeostat profiles normalize|tolerize|sensitize|reset PROGRAM --fleet URL` (registered in
// ../commands/profiles.ts): the operation put in the fleet's admin bucket for the program (src/fleet/
// adminRequest.ts), which every watch with --fleet applies to its profiles of it. The NATS client is loaded only
// here.

import type { AdminOperation } from "../../watch/profileAdmin.js";

export interface FleetAdminFlags {
  fleet?: string;
  fleetCreds?: string;
  fleetTlsCa?: string;
  json?: boolean;
  all?: boolean;
}

export async function runFleetAdmin(
  op: AdminOperation,
  selector: string,
  flags: FleetAdminFlags & { fleet: string },
): Promise<void> {
  const { requestFleetOperation } = await import("../../fleet/adminRequest.js");
  const sent = await requestFleetOperation(
    {
      url: flags.fleet,
      ...(flags.fleetCreds !== undefined ? { credsFile: flags.fleetCreds } : {}),
      ...(flags.fleetTlsCa !== undefined ? { tlsCaFile: flags.fleetTlsCa } : {}),
    },
    selector,
    op,
    flags.all === true,
  );
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(sent)}\n`);
    return;
  }
  for (const s of sent) {
    const where =
      s.hosts.length > 0
        ? `${s.hosts.length} host${s.hosts.length === 1 ? "" : "s"} report it (${s.paths.join(", ")})`
        : "no host reported it yet";
    process.stdout.write(`${op}: ${s.program}: sent to the fleet (operation ${s.id}); ${where}\n`);
  }
}
