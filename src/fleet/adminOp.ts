// An administrator's operation on one program across the fleet, the value of `<program>` in the admin KV bucket:
// every watch with --fleet applies it to its profiles of that program, once per id (pH-admin's operations, as
// `homeostat profiles` runs them on one host).

import { randomBytes } from "node:crypto";
import { z } from "zod";
import { parseJsonVersioned, parseWith } from "./fleetJson.js";

export const ADMIN_OPS = ["normalize", "tolerize", "sensitize", "reset"] as const;
export type AdminOpName = (typeof ADMIN_OPS)[number];

export interface AdminOp {
  v: 1;
  op: AdminOpName;
  /** Unique per operation: a host applies each id once. */
  id: string;
  /** Epoch milliseconds at which it was asked for. */
  time: number;
}

const adminOpSchema = z.looseObject({
  v: z.literal(1),
  op: z.enum(ADMIN_OPS),
  id: z.string().min(1).max(128),
  time: z.number().finite().nonnegative(),
});

/** A new operation with a random id. */
export function newAdminOp(op: AdminOpName, time: number): AdminOp {
  return { v: 1, op, id: randomBytes(12).toString("hex"), time };
}

export function encodeAdminOp(op: AdminOp): Uint8Array {
  return Buffer.from(JSON.stringify(op), "utf8");
}

export function decodeAdminOp(bytes: Uint8Array, what = "fleet admin operation"): AdminOp {
  return parseWith(adminOpSchema, parseJsonVersioned(bytes, what), what) as AdminOp;
}
