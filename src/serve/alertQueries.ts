// What the Alerts page and its live stream read: alerts filtered by rule, priority, program (its path or base
// name: its profiles' keys) and time, a page at a time, newest first, continued by id (`before`, a cursor: no OFFSET
// over a million rows); the live stream asks for those after an id, oldest first. Every filter is a bound parameter.
// The store indexes alerts by profile and by rule only, which keeps storing them cheap; a filter by priority or time
// is answered through the hourly counts (alertReads.ts). Also the rules and priorities there are, for the filter's
// choices (from the hourly counts, a small table).

import type { StateStore } from "../store/stateStore.js";
import { alertsOfKids, alertsThroughCounts, type Conditions, kidsOf } from "./alertReads.js";

export const ALERT_PAGE_SIZE = 50;

export interface AlertFilter {
  rule?: string;
  priority?: string;
  /** An executable's path, or its base name. */
  program?: string;
  /** A profile key. */
  key?: string;
  /** Epoch seconds, inclusive. */
  from?: number;
  to?: number;
}

export interface AlertView {
  id: number;
  time: string;
  epoch: number;
  rule: string;
  priority: string;
  pid: number | null;
  exe: string | null;
  key: string | null;
  program: string | null;
  output: string;
  /** The calls before the alerted one, oldest first (output_fields["homeostat.window"]). */
  window: string[];
}

/** The WHERE clauses of a filter's rule, priority and time (its profiles are handled apart: profileKeys). */
function conditions(f: AlertFilter): Conditions {
  const sql: string[] = [];
  const args: (string | number)[] = [];
  const add = (clause: string, value: string | number) => {
    sql.push(clause);
    args.push(value);
  };
  if (has(f.rule)) add("rule = ?", f.rule);
  if (has(f.priority)) add("priority = ?", f.priority);
  if (f.from !== undefined) add("time >= ?", f.from);
  if (f.to !== undefined) add("time <= ?", f.to);
  return { sql, args };
}

/**
 * The profile keys a filter names: its key, or a program's (a path, or a base name: found through the profiles' exe
 * and name indexes, at most 100); undefined when it names none.
 */
function profileKeys(store: StateStore, f: AlertFilter): string[] | undefined {
  if (has(f.key)) return [f.key];
  if (!has(f.program)) return undefined;
  const column = f.program.includes("/") ? "exe" : "name";
  return (
    store.select(`SELECT key FROM profiles WHERE ${column} = ? ORDER BY key LIMIT 100`).all(f.program) as {
      key: string;
    }[]
  ).map((r) => r.key);
}

const has = (v: string | undefined): v is string => v !== undefined && v !== "";

const COLUMNS = "id, time, rule, priority, pid, exe, key, output, json";

/**
 * A page of alerts older than `before` (all when undefined), newest first; `more` when another page follows. By
 * profile: through the profile index (alertReads.ts); by priority or time: through the hourly counts; otherwise
 * (all, or by rule) the table's id order or the (rule, id) index, read from the newest.
 */
export function alertPage(
  store: StateStore,
  f: AlertFilter,
  before?: number,
  limit = ALERT_PAGE_SIZE,
): { rows: AlertView[]; more: boolean } {
  const conds = conditions(f);
  if (before !== undefined) {
    conds.sql.push("id < ?");
    conds.args.push(before);
  }
  const keys = profileKeys(store, f);
  let rows: AlertRowRaw[];
  if (keys !== undefined) rows = alertsOfKids(store, COLUMNS, kidsOf(store, keys), conds, limit + 1);
  else if (has(f.priority) || f.from !== undefined || f.to !== undefined)
    rows = alertsThroughCounts(store, COLUMNS, f, conds, before, limit + 1);
  else {
    const where = conds.sql.length > 0 ? `WHERE ${conds.sql.join(" AND ")}` : "";
    rows = store
      .select(`SELECT ${COLUMNS} FROM alerts ${where} ORDER BY id DESC LIMIT ?`)
      .all(...conds.args, limit + 1) as AlertRowRaw[];
  }
  return { rows: rows.slice(0, limit).map(alertView), more: rows.length > limit };
}

/** Alerts after id `after` matching the filter, oldest first, at most `limit` (the live stream: few new rows). */
export function alertsAfter(store: StateStore, f: AlertFilter, after: number, limit = 100): AlertView[] {
  const { sql, args } = conditions(f);
  const keys = profileKeys(store, f);
  if (keys !== undefined) {
    const { kids } = kidsOf(store, keys);
    if (kids.length === 0) return [];
    sql.push(`kid IN (${kids.map(() => "?").join(", ")})`);
    args.push(...kids);
  }
  sql.push("id > ?");
  args.push(after);
  const rows = store
    .select(`SELECT ${COLUMNS} FROM alerts WHERE ${sql.join(" AND ")} ORDER BY id LIMIT ?`)
    .all(...args, limit) as AlertRowRaw[];
  return rows.map(alertView);
}

/** The highest alert id stored (0 when none). */
export function lastAlertId(store: StateStore): number {
  return (store.select(`SELECT coalesce(max(id), 0) AS id FROM alerts`).get() as { id: number }).id;
}

/** The rules and priorities alerts have had, for the filter's choices. */
export function alertChoices(store: StateStore): { rules: string[]; priorities: string[] } {
  const col = (c: "rule" | "priority") =>
    (store.select(`SELECT DISTINCT ${c} AS v FROM alert_counts ORDER BY v`).all() as { v: string }[]).map((r) => r.v);
  return { rules: col("rule"), priorities: col("priority") };
}

interface AlertRowRaw {
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

function alertView(r: AlertRowRaw): AlertView {
  let window: string[] = [];
  try {
    const fields = (JSON.parse(r.json) as { output_fields?: Record<string, unknown> }).output_fields;
    const w = fields?.["homeostat.window"];
    if (Array.isArray(w)) window = w.filter((x): x is string => typeof x === "string");
  } catch {
    // a row whose JSON cannot be read still shows its columns
  }
  return {
    id: r.id,
    time: new Date(r.time * 1000).toISOString().replace(/\.\d+Z$/, "Z"),
    epoch: r.time,
    rule: r.rule,
    priority: r.priority,
    pid: r.pid,
    exe: r.exe,
    key: r.key,
    program: r.exe === null ? null : r.exe.slice(r.exe.lastIndexOf("/") + 1),
    output: r.output,
    window,
  };
}
