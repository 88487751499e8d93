// The alerts of the state database as watch writes and the CLI reads them: each batch appended in one transaction
// with its hourly counts (alertBatch.ts), in watch's order, and the newest read back. The kid of each profile key
// (the small integer alerts are indexed by) is remembered once committed, so that a batch looks up only new keys.

import { insertAlertBatch } from "./alertBatch.js";
import type { StoreConnection } from "./storeConnection.js";
import { checkLimit, jsonText } from "./storeValues.js";

/** Profile keys whose kid a writer remembers at most. */
const MAX_REMEMBERED_KIDS = 100_000;

export interface AlertRecord {
  time: number;
  rule: string;
  priority: string;
  pid: number | null;
  exe: string | null;
  key: string | null;
  output: string;
  /** The full alert object, stored as JSON text. */
  json: unknown;
  /** JSON.stringify(json), when the caller made it already (watch does, for its alert outputs): stored as it is. */
  jsonText?: string | undefined;
}

interface AlertRow {
  id: number;
  time: number;
  rule: string;
  priority: string;
  pid: number | null;
  exe: string | null;
  key: string | null;
  output: string;
  json: string;
}

/** StateStore.addAlerts: appends alerts in one transaction; `kids` is the store's memory of profile keys' kids. */
export function addAlerts(conn: StoreConnection, kids: Map<string, number>, alerts: readonly AlertRecord[]): void {
  const rows = alerts.map((a) => ({
    time: a.time,
    rule: a.rule,
    priority: a.priority,
    pid: a.pid,
    exe: a.exe,
    key: a.key,
    output: a.output,
    json: a.jsonText ?? jsonText(a.json),
  }));
  const fresh = conn.write("cannot save alerts", () => insertAlertBatch((sql) => conn.statement(sql), rows, kids));
  // Remembered once committed; bounded (a host with very many executables only looks the rest up).
  if (kids.size > MAX_REMEMBERED_KIDS) kids.clear();
  for (const [key, kid] of fresh) kids.set(key, kid);
}

/** StateStore.recentAlerts: the last `limit` alerts, newest (highest id) first. */
export function recentAlerts(conn: StoreConnection, limit: number): (AlertRecord & { id: number })[] {
  const rows = conn.read("cannot read alerts", () =>
    conn
      .statement(`SELECT id, time, rule, priority, pid, exe, key, output, json FROM alerts ORDER BY id DESC LIMIT ?`)
      .all(checkLimit(limit)),
  ) as AlertRow[];
  return rows.map((r) => ({ ...r, json: JSON.parse(r.json) as unknown }));
}
