// How long the state database keeps alerts and actions: a long-running watch keeps the newest rows of each and
// deletes the rest, so that it stays bounded on disk. (The runs table keeps its own bound: runRecords.ts.)

import type { StoreConnection } from "./storeConnection.js";
import { HomeostatError } from "../errors.js";

/** StateStore.prune: keeps the newest `keep` alerts and the newest `keep` actions; returns how many rows went. */
export function pruneAlertsAndActions(conn: StoreConnection, keep: number): { alerts: number; actions: number } {
  if (!(Number.isInteger(keep) && keep >= 0))
    throw new HomeostatError("E_USAGE", `prune needs a count >= 0, got ${keep}`);
  return conn.write("cannot prune alerts and actions", () => {
    const cut = (table: string): number =>
      conn
        .statement(`DELETE FROM ${table} WHERE id <= (SELECT id FROM ${table} ORDER BY id DESC LIMIT 1 OFFSET ?)`)
        .run(keep).changes;
    return { alerts: cut("alerts"), actions: cut("actions") };
  });
}
