// The actions of the state database: the responses watch took (delays, kills, suspensions) and its refusals, each
// with its outcome and reason, appended in one transaction per batch and the newest read back.

import type { StoreConnection } from "./storeConnection.js";
import { checkLimit, jsonText } from "./storeValues.js";

export interface ActionRecord {
  time: number;
  pid: number;
  exe: string | null;
  action: string;
  outcome: string;
  reason: string;
  json: unknown;
}

interface ActionRow {
  id: number;
  time: number;
  pid: number;
  exe: string | null;
  action: string;
  outcome: string;
  reason: string;
  json: string;
}

/** StateStore.addActions: appends response actions in one transaction. */
export function addActions(conn: StoreConnection, actions: readonly ActionRecord[]): void {
  const insert = conn.statement(
    `INSERT INTO actions (time, pid, exe, action, outcome, reason, json)
     VALUES (@time, @pid, @exe, @action, @outcome, @reason, @json)`,
  );
  conn.write("cannot save actions", () => {
    for (const a of actions) {
      insert.run({
        time: a.time,
        pid: a.pid,
        exe: a.exe,
        action: a.action,
        outcome: a.outcome,
        reason: a.reason,
        json: jsonText(a.json),
      });
    }
  });
}

/** StateStore.recentActions: the last `limit` actions, newest (highest id) first. */
export function recentActions(conn: StoreConnection, limit: number): (ActionRecord & { id: number })[] {
  const rows = conn.read("cannot read actions", () =>
    conn.statement(`SELECT * FROM actions ORDER BY id DESC LIMIT ?`).all(checkLimit(limit)),
  ) as ActionRow[];
  return rows.map((r) => ({ ...r, json: JSON.parse(r.json) as unknown }));
}
