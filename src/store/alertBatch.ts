// One batch of alerts into the state database, inside the caller's transaction: each alert's row (with its
// profile's kid, the small integer the alerts are indexed by), then, once per hour, rule and priority of the batch,
// the hourly count the console reads (alert_counts: n, and the first and last alert id it covers), and once per
// profile, its newest alert's id (alert_keys.last_id).
//
// Why counted here and not by a trigger: a trigger makes each INSERT a statement that writes two tables, which
// SQLite journals statement by statement so as to undo one halfway; with a batch of a thousand alerts that was most
// of the cost of storing them. A batch's alerts usually fall into a handful of (hour, rule, priority) cells, so a
// handful of upserts replaces a thousand.

import type { Database } from "./sqliteDatabase.js";

/** An alert as the batch needs it (the store's AlertRecord, its JSON already text). */
export interface AlertRow {
  time: number;
  rule: string;
  priority: string;
  pid: number | null;
  exe: string | null;
  key: string | null;
  output: string;
  json: string;
}

interface Cell {
  hour: number;
  rule: string;
  priority: string;
  n: number;
  first: number;
  last: number;
}

export const INSERT_ALERT = `INSERT INTO alerts (time, rule, priority, pid, exe, key, kid, output, json)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`;
export const FIND_KID = `SELECT kid FROM alert_keys WHERE key = ?`;
export const ADD_KEY = `INSERT INTO alert_keys (key) VALUES (?)`;
export const LAST_ID = `UPDATE alert_keys SET last_id = ? WHERE kid = ?`;
export const COUNT_CELL = `INSERT INTO alert_counts (hour, rule, priority, n, first_id, last_id) VALUES (?, ?, ?, ?, ?, ?)
  ON CONFLICT (hour, rule, priority) DO UPDATE SET n = n + excluded.n,
    first_id = coalesce(min(first_id, excluded.first_id), excluded.first_id),
    last_id = max(coalesce(last_id, excluded.last_id), excluded.last_id)`;

/** The hour an alert is counted in: as the schema's backfill computes it (CAST truncates). */
export function hourOf(time: number): number {
  return Math.trunc(time / 3600);
}

/**
 * Writes `alerts` and their counts with the statements `statement` prepares; `kids` are the profile keys known to
 * have a kid (committed). Returns the keys given a kid by this batch: the caller adds them to `kids` once the
 * transaction has committed (a rolled-back kid would otherwise be reused for another key).
 */
export function insertAlertBatch(
  statement: (sql: string) => Database.Statement,
  alerts: readonly AlertRow[],
  kids: ReadonlyMap<string, number>,
): Map<string, number> {
  const insert = statement(INSERT_ALERT);
  const fresh = new Map<string, number>();
  const kidOf = (key: string): number => {
    let kid = kids.get(key) ?? fresh.get(key);
    if (kid === undefined) {
      const row = statement(FIND_KID).get(key) as { kid: number } | undefined;
      kid = row?.kid ?? Number(statement(ADD_KEY).run(key).lastInsertRowid);
      fresh.set(key, kid);
    }
    return kid;
  };
  const cells = new Map<string, Cell>();
  const lastIds = new Map<number, number>();
  for (const a of alerts) {
    const kid = a.key === null ? null : kidOf(a.key);
    const id = Number(
      insert.run(a.time, a.rule, a.priority, a.pid, a.exe, a.key, kid, a.output, a.json).lastInsertRowid,
    );
    if (kid !== null) lastIds.set(kid, id);
    const hour = hourOf(a.time);
    const name = `${hour}\u0000${a.rule}\u0000${a.priority}`;
    const cell = cells.get(name);
    if (cell === undefined) cells.set(name, { hour, rule: a.rule, priority: a.priority, n: 1, first: id, last: id });
    else {
      cell.n++;
      cell.last = id;
    }
  }
  const count = statement(COUNT_CELL);
  for (const c of cells.values()) count.run(c.hour, c.rule, c.priority, c.n, c.first, c.last);
  const newest = statement(LAST_ID);
  for (const [kid, id] of lastIds) newest.run(id, kid);
  return fresh;
}
