// How the console reads alerts through what the store keeps for it (schema 4): alerts of given profiles through the
// (epoch, kid, id) index, one epoch of ids at a time, newest first, starting at the newest alert the profiles have
// (alert_keys.last_id); and alerts of a priority or a time span through the hourly counts, which say which id range
// each hour, rule and priority covers: only those ranges are read, newest first. Both stop once a page is full.

import { ALERT_EPOCH, ALERT_EPOCH_BITS, type StateStore } from "../store/stateStore.js";

/** WHERE clauses and their bound values (every value a parameter, never SQL from a request). */
export interface Conditions {
  sql: string[];
  args: (string | number)[];
}

/** The rule, priority and time span of a filter, for the hourly counts. */
export interface CountFilter {
  rule?: string | undefined;
  priority?: string | undefined;
  from?: number | undefined;
  to?: number | undefined;
}

/** The kids of the profile keys that have alerts, and the newest alert id among them. */
export function kidsOf(store: StateStore, keys: readonly string[]): { kids: number[]; newest: number } {
  if (keys.length === 0) return { kids: [], newest: 0 };
  const rows = store
    .select(`SELECT kid, last_id FROM alert_keys WHERE key IN (${keys.map(() => "?").join(", ")})`)
    .all(...keys) as { kid: number; last_id: number | null }[];
  return { kids: rows.map((r) => r.kid), newest: Math.max(0, ...rows.map((r) => r.last_id ?? 0)) };
}

/**
 * Up to `limit` alerts of the profiles `kids` (whose newest alert is `newest`) matching `conds`, newest first, read
 * epoch by epoch from the newest alert down to the oldest stored.
 */
export function alertsOfKids<T>(
  store: StateStore,
  columns: string,
  profiles: { kids: readonly number[]; newest: number },
  conds: Conditions,
  limit: number,
): T[] {
  const { kids, newest } = profiles;
  if (kids.length === 0 || limit <= 0) return [];
  const read = store.select(
    `SELECT ${columns} FROM alerts WHERE ${ALERT_EPOCH} = ? AND kid IN (${kids.map(() => "?").join(", ")})
     ${conds.sql.map((c) => `AND ${c} `).join("")} ORDER BY id DESC LIMIT ?`,
  );
  const oldest = (store.select(`SELECT coalesce(min(id), 0) AS id FROM alerts`).get() as { id: number }).id;
  const out: T[] = [];
  for (let e = newest >> ALERT_EPOCH_BITS; e >= oldest >> ALERT_EPOCH_BITS && out.length < limit; e--) {
    out.push(...(read.all(e, ...kids, ...conds.args, limit - out.length) as T[]));
  }
  return out;
}

/**
 * Up to `limit` alerts matching `conds` (which include the filter's), newest first, read only in the id ranges the
 * hourly counts of the filter's rule, priority and hours cover, newest range first.
 */
export function alertsThroughCounts<T>(
  store: StateStore,
  columns: string,
  f: CountFilter,
  conds: Conditions,
  before: number | undefined,
  limit: number,
): T[] {
  const out: T[] = [];
  const read = store.select(
    `SELECT ${columns} FROM alerts WHERE id BETWEEN ? AND ? ${conds.sql.map((c) => `AND ${c} `).join("")}
     ORDER BY id DESC LIMIT ?`,
  );
  for (const [lo, hi] of idRanges(store, f, before)) {
    if (out.length >= limit) break;
    out.push(...(read.all(lo, hi, ...conds.args, limit - out.length) as T[]));
  }
  return out;
}

const has = (v: string | undefined): v is string => v !== undefined && v !== "";

/** The disjoint id ranges that may hold alerts of the filter's rule, priority and hours (below `before`), newest first. */
export function idRanges(store: StateStore, f: CountFilter, before?: number): [number, number][] {
  const sql = ["last_id IS NOT NULL", "last_id >= (SELECT coalesce(min(id), 0) FROM alerts)"];
  const args: (string | number)[] = [];
  const add = (clause: string, value: string | number) => {
    sql.push(clause);
    args.push(value);
  };
  if (has(f.rule)) add("rule = ?", f.rule);
  if (has(f.priority)) add("priority = ?", f.priority);
  if (f.from !== undefined) add("hour >= ?", Math.trunc(f.from / 3600));
  if (f.to !== undefined) add("hour <= ?", Math.trunc(f.to / 3600));
  if (before !== undefined) add("first_id < ?", before);
  const cells = store
    .select(`SELECT first_id AS lo, last_id AS hi FROM alert_counts WHERE ${sql.join(" AND ")} ORDER BY hi DESC`)
    .all(...args) as { lo: number; hi: number }[];
  const ranges: [number, number][] = [];
  for (const c of cells) {
    const last = ranges.at(-1);
    // Sorted by their ends, newest first: a cell reaching into the previous range (or adjacent to it) widens it.
    if (last !== undefined && c.hi >= last[0] - 1) last[0] = Math.min(last[0], c.lo);
    else ranges.push([c.lo, c.hi]);
  }
  return ranges;
}
