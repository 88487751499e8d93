// Reading the protocol's JSON: parse, refuse another protocol version (E_VERSION), validate against a schema and
// name the first bad field (E_PARSE). Shared by every decoder of the protocol.

import type { z } from "zod";
import { HomeostatError } from "../errors.js";
import { FLEET_PROTOCOL_VERSION } from "./fleetNames.js";

/** Throws the zod failure as E_PARSE naming the first bad field and `what`. */
export function parseWith<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const path = issue.path.length > 0 ? issue.path.join(".") : "(root)";
  throw new HomeostatError("E_PARSE", `${what}: ${path}: ${issue.message}`);
}

/** Parses JSON bytes: E_PARSE when not JSON; E_VERSION when an object says another `v`. */
export function parseJsonVersioned(data: Uint8Array | string, what: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(typeof data === "string" ? data : Buffer.from(data).toString("utf8"));
  } catch {
    throw new HomeostatError("E_PARSE", `${what}: not JSON`);
  }
  const v = (value as { v?: unknown } | null)?.v;
  if (typeof v === "number" && v !== FLEET_PROTOCOL_VERSION) {
    throw new HomeostatError(
      "E_VERSION",
      `${what}: version ${v}, this homeostat reads version ${FLEET_PROTOCOL_VERSION}`,
    );
  }
  return value;
}
