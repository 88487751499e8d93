// What the Alerts page and its live stream read: alerts filtered by rule, priority, program (its path or base
// name: its profiles' keys) and time, a page at a time, newest first, continued by id (`before`, a cursor: no OFFSET over a million
// rows); the live stream asks for those after an id, oldest first. Every filter is a bound parameter; the indexes
// on (rule, id), (priority, id), (key, id) and (time) keep each page a short index walk. Also the rules and
// priorities there are, for the filter's choices (from the hourly counts, a small table).

import type { StateStore } from "../store/stateStore.js";

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

/**
 * The WHERE clauses of a filter. A program (a path, or a base name) is first turned into the keys of its profiles
 * (profiles' exe and name indexes), so that its alerts are read through the (key, id) index: one key is an index
 * range in id order; several are merged.
 */
function conditions(store: StateStore, f: AlertFilter): { sql: string[]; args: (string | number)[] } {
  const sql: string[] = [];
  const args: (string | number)[] = [];
  const add = (clause: string, ...values: (string | number)[]) => {
    sql.push(clause);
    args.push(...values);
  };
  if (f.rule !== undefined && f.rule !== "") add("rule = ?", f.rule);
  if (f.priority !== undefined && f.priority !== "") add("priority = ?", f.priority);
  if (f.key !== undefined && f.key !== "") add("key = ?", f.key);
  if (f.program !== undefined && f.program !== "") {
    const keys = programKeys(store, f.program);
    if (keys.length === 0) add("0");
    else add(`key IN (${keys.map(() => "?").join(", ")})`, ...keys);
  }
  if (f.from !== undefined) add("time >= ?", f.from);
  if (f.to !== undefined) add("time <= ?", f.to);
  return { sql, args };
}

/** The keys of the profiles of a program: its path, or its executable's base name (at most 100). */
function programKeys(store: StateStore, program: string): string[] {
  const column = program.includes("/") ? "exe" : "name";
  return (
    store.select(`SELECT key FROM profiles WHERE ${column} = ? ORDER BY key LIMIT 100`).all(program) as {
      key: string;
    }[]
  ).map((r) => r.key);
}

/** A page of alerts older than `before` (all when undefined), newest first; `more` when another page follows. */
export function alertPage(
  store: StateStore,
  f: AlertFilter,
  before?: number,
  limit = ALERT_PAGE_SIZE,
): { rows: AlertView[]; more: boolean } {
  const { sql, args } = conditions(store, f);
  if (before !== undefined) {
    sql.push("id < ?");
    args.push(before);
  }
  const where = sql.length > 0 ? `WHERE ${sql.join(" AND ")}` : "";
  const rows = store
    .select(`SELECT * FROM alerts ${where} ORDER BY id DESC LIMIT ?`)
    .all(...args, limit + 1) as AlertRowRaw[];
  return { rows: rows.slice(0, limit).map(alertView), more: rows.length > limit };
}

/** Alerts after id `after` matching the filter, oldest first, at most `limit` (the live stream). */
export function alertsAfter(store: StateStore, f: AlertFilter, after: number, limit = 100): AlertView[] {
  const { sql, args } = conditions(store, f);
  sql.push("id > ?");
  args.push(after);
  const rows = store
    .select(`SELECT * FROM alerts WHERE ${sql.join(" AND ")} ORDER BY id LIMIT ?`)
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
