// `homeostat watch --fleet URL`: the fleet's flags checked and the fleet observer (src/fleet/hostFleet.ts) opened
// for the watch, and its figures in the summary. The fleet layer and the NATS client are loaded only when --fleet
// is given, so that a watch without it pays nothing for them.

import { HomeostatError } from "../../errors.js";
import type { WatchObserver } from "../../watch/watchObserver.js";
import { num, paint } from "../terminal.js";
import { VERSION } from "../version.js";

export interface WatchFleetFlags {
  fleet?: string;
  fleetCreds?: string;
  fleetTlsCa?: string;
  hostId?: string;
  fleetProfiles: string;
  fleetSpoolSize: number;
  fleetReplicas?: number;
  quiet?: boolean;
}

/** The fleet observer of a watch, or undefined without --fleet. E_USAGE for fleet flags without --fleet. */
export async function openWatchFleet(
  opts: WatchFleetFlags,
  stateDir: string,
): Promise<(WatchObserver & { close(drainMs: number): Promise<void> }) | undefined> {
  const fleetOnly = [opts.fleetCreds, opts.fleetTlsCa, opts.hostId, opts.fleetReplicas].some((v) => v !== undefined);
  if (opts.fleet === undefined) {
    if (fleetOnly || opts.fleetProfiles !== "push") {
      throw new HomeostatError(
        "E_USAGE",
        "--fleet-creds, --fleet-tls-ca, --host-id, --fleet-profiles and --fleet-replicas need --fleet URL",
      );
    }
    return undefined;
  }
  if (opts.fleetProfiles !== "push" && opts.fleetProfiles !== "pull") {
    throw new HomeostatError("E_USAGE", `unknown --fleet-profiles "${opts.fleetProfiles}" (push, pull)`);
  }
  const { openHostFleet } = await import("../../fleet/hostFleet.js");
  const err = process.stderr;
  return openHostFleet({
    url: opts.fleet,
    ...(opts.fleetCreds !== undefined ? { credsFile: opts.fleetCreds } : {}),
    ...(opts.fleetTlsCa !== undefined ? { tlsCaFile: opts.fleetTlsCa } : {}),
    ...(opts.hostId !== undefined ? { hostId: opts.hostId } : {}),
    ...(opts.fleetReplicas !== undefined ? { replicas: opts.fleetReplicas } : {}),
    name: `homeostat watch ${process.pid}`,
    stateDir,
    spoolMaxBytes: Math.round(opts.fleetSpoolSize * 1024 * 1024),
    pull: opts.fleetProfiles === "pull",
    version: VERSION,
    onMessage: (line) => {
      if (!opts.quiet || !line.startsWith("fleet: connected")) err.write(`homeostat: ${line}\n`);
    },
  });
}

interface FleetFigures {
  host: string;
  server: string;
  messages: { published: number; replayed: number; rejected: number; spooled: number; spoolDropped: number };
  profiles: { snapshotsPut: number; snapshotsWaiting: number; snapshotsTooLarge: number; pulled: number };
  adminApplied: number;
}

/** The fleet's line of the text summary. */
export function printFleetTotals(figures: unknown): void {
  if (figures === undefined) return;
  const f = figures as FleetFigures;
  const m = f.messages;
  const err = process.stderr;
  err.write(
    `homeostat: fleet ${f.server} as ${f.host}: ${num(m.published)} messages published (${num(m.replayed)} from the spool), ` +
      `${num(m.spooled)} waiting in the spool for the next start` +
      `${m.spoolDropped > 0 ? paint(`, ${num(m.spoolDropped)} did not fit the spool`, "red", err) : ""}` +
      `${m.rejected > 0 ? paint(`, ${num(m.rejected)} refused by the server`, "red", err) : ""}; ` +
      `${num(f.profiles.snapshotsPut)} profile snapshots sent (${num(f.profiles.snapshotsWaiting)} waiting` +
      `${f.profiles.snapshotsTooLarge > 0 ? paint(`, ${num(f.profiles.snapshotsTooLarge)} too large for the server`, "red", err) : ""}), ` +
      `${num(f.profiles.pulled)} profiles from the pool, ${num(f.adminApplied)} fleet operations applied\n`,
  );
}
