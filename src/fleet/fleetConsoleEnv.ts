// What the fleet console's routes share: the fleet database (the one connection `fleet serve` writes through:
// better-sqlite3 is synchronous, so a page's queries run between two batches), the clock, the running parts'
// figures, the administrator's operation (a put in the admin bucket) and the POST check of serve's security.

import type { Context } from "hono";
import type { ConsoleEnv } from "../serve/consoleEnv.js";
import type { AdminOpName } from "./adminOp.js";
import type { FleetStore } from "./fleetStore.js";

/** What `fleet serve`'s parts report of themselves (the /api/fleet/status answer). */
export interface FleetStatus {
  /** Whether the NATS connection is up now. */
  connected: boolean;
  ingest: Record<string, number>;
  profiles: Record<string, number>;
  /** null when pooling is off. */
  pool: Record<string, number> | null;
}

export interface FleetConsoleContext {
  store: FleetStore;
  /** Epoch seconds (tests fix it). */
  now: () => number;
  status: () => FleetStatus;
  /** Puts an operation for every host's profiles of `program` in the admin bucket; undefined: read-only console. */
  admin?: (program: string, op: AdminOpName) => Promise<{ id: string; revision: number }>;
  allowPost: (c: Context<ConsoleEnv>, csrf: unknown) => boolean;
}
