// Asking the whole fleet for one of pH-admin's operations on a program (`homeostat profiles <op> PROGRAM --fleet
// URL`, and the fleet console's Program page): the operation, with a fresh id, put in the admin bucket under the
// program's content identity, where every watch with --fleet applies it to its profiles of that program once. A
// program may be named by its identity (b-... or s-...), or by a path or base name, which is looked up in the
// snapshots' headers of the profiles bucket (what the hosts say their profiles' executables are).

import type { KV } from "@nats-io/kv";
import { HomeostatError, isHomeostatError } from "../errors.js";
import { type AdminOpName, encodeAdminOp, newAdminOp } from "./adminOp.js";
import { connectCentral, settled } from "./centralNats.js";
import { isProgramId, parseProfileKey } from "./fleetNames.js";
import { ensureBucket } from "./fleetSetup.js";
import type { FleetConnectFlags } from "./natsOptions.js";
import { decodeSnapshot } from "./profileSnapshot.js";

export interface AdminRequest {
  program: string;
  op: AdminOpName;
  /** The operation's id (each host applies it once). */
  id: string;
  /** The admin bucket's revision of the put. */
  revision: number;
}

/** Puts `op` for `program` in the admin bucket. */
export async function requestAdminOp(
  admin: KV,
  program: string,
  op: AdminOpName,
  now = Date.now(),
): Promise<AdminRequest> {
  if (!isProgramId(program)) throw new HomeostatError("E_USAGE", `not a program identity: ${program}`);
  const o = newAdminOp(op, now);
  const revision = await admin.put(program, encodeAdminOp(o));
  return { program, op, id: o.id, revision };
}

export interface FleetProgram {
  program: string;
  /** Hosts with a snapshot of it, and the paths they give. */
  hosts: string[];
  paths: string[];
}

/**
 * The programs `selector` names: itself when it is a program identity; else those whose snapshots give it as their
 * path, or else as their path's base name (the first rule that matches anything wins, as for `profiles`).
 */
export async function resolveFleetPrograms(profiles: KV, selector: string): Promise<FleetProgram[]> {
  const found = new Map<string, { byPath: FleetProgram; byName: FleetProgram }>();
  const keys: string[] = [];
  for await (const k of await profiles.keys()) keys.push(k);
  for (const key of keys) {
    let program: string;
    let host: string;
    try {
      ({ program, host } = parseProfileKey(key));
    } catch {
      continue;
    }
    if (isProgramId(selector) && program !== selector) continue;
    const e = await profiles.get(key);
    if (e === null || e.operation !== "PUT") continue;
    let path: string;
    try {
      path = decodeSnapshot(e.value, key).header.path;
    } catch (err) {
      if (isHomeostatError(err)) continue;
      throw err;
    }
    const f = found.get(program) ?? { byPath: blank(program), byName: blank(program) };
    found.set(program, f);
    const exact = isProgramId(selector) || path === selector;
    const named = path.slice(path.lastIndexOf("/") + 1) === selector;
    if (exact) add(f.byPath, host, path);
    if (named) add(f.byName, host, path);
  }
  const byPath = [...found.values()].map((f) => f.byPath).filter((p) => p.hosts.length > 0);
  const pick = byPath.length > 0 ? byPath : [...found.values()].map((f) => f.byName).filter((p) => p.hosts.length > 0);
  return pick.sort((a, b) => (a.program < b.program ? -1 : 1));
}

function blank(program: string): FleetProgram {
  return { program, hosts: [], paths: [] };
}

function add(p: FleetProgram, host: string, path: string): void {
  p.hosts.push(host);
  if (!p.paths.includes(path)) p.paths.push(path);
}

/**
 * `homeostat profiles <op> SELECTOR --fleet URL`: connects, resolves the programs `selector` names (one, or every
 * one with `all`; a program identity no host reported yet is still asked for, for the hosts that will), puts the
 * operation for each, and disconnects. E_NOT_FOUND when nothing matches, E_USAGE when several do without `all`.
 */
export async function requestFleetOperation(
  nats: FleetConnectFlags,
  selector: string,
  op: AdminOpName,
  all = false,
): Promise<(AdminRequest & { hosts: string[]; paths: string[] })[]> {
  const { nc } = await connectCentral({ name: "homeostat profiles", ...nats });
  try {
    const { Kvm } = await import("@nats-io/kv");
    const kvm = new Kvm(nc);
    const open = async (name: "homeostat_profiles" | "homeostat_admin") => {
      const kv = await settled(`cannot open the KV bucket ${name}`, () => ensureBucket(kvm, name));
      if (kv === undefined) throw new HomeostatError("E_PERMISSION", `not permitted to open the KV bucket ${name}`);
      return kv;
    };
    let programs = await resolveFleetPrograms(await open("homeostat_profiles"), selector);
    if (programs.length === 0 && isProgramId(selector)) programs = [blank(selector)];
    if (programs.length === 0) {
      throw new HomeostatError("E_NOT_FOUND", `no host of the fleet reported a profile of "${selector}"`);
    }
    if (programs.length > 1 && !all) {
      throw new HomeostatError(
        "E_USAGE",
        `"${selector}" names ${programs.length} programs (${programs.map((p) => p.program).join(", ")}): ` +
          `give one identity, or --all`,
      );
    }
    const admin = await open("homeostat_admin");
    const out = [];
    for (const p of programs)
      out.push({ ...(await requestAdminOp(admin, p.program, op)), hosts: p.hosts, paths: p.paths });
    return out;
  } finally {
    await nc.drain().catch(() => nc.close());
  }
}
