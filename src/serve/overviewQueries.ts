// What the Overview page reads, each an indexed or bounded query, so that it answers in milliseconds whatever the
// store holds (10,000 profiles and a million alerts in bench/serve.js): profiles counted by state (one pass over the
// profiles' small columns), alerts per hour by rule and priority from the rollup the store keeps (alert_counts, the
// last WINDOW_HOURS hours before the newest), the stored alerts' extent by their id (min and max on the key), losses
// from the overload alerts' counts and the newest loss alert, the newest runs (watch records its own), and the watch
// holding the writer lock.

import type { StateStore, StoredRun } from "../store/stateStore.js";
import { WriterLock } from "../store/writerLock.js";

/** Hours of alerts the overview's chart covers, ending at the newest. */
export const WINDOW_HOURS = 7 * 24;

/** Runs the overview lists. */
export const RUNS_SHOWN = 5;

export const LOST_RULE = "homeostat capture lost events";
export const DROPPED_RULE = "homeostat overload: events dropped";

export interface HourlyAlerts {
  hour: number;
  rule: string;
  priority: string;
  n: number;
}

export interface Overview {
  profiles: { total: number; byState: Record<string, number> };
  alerts: { stored: number; firstId: number | null; lastId: number | null; lastTime: number | null };
  hourly: HourlyAlerts[];
  losses: { lostAlerts: number; droppedAlerts: number; lastLost: Record<string, unknown> | null };
  /** The newest RUNS_SHOWN runs, newest first. */
  runs: StoredRun[];
  running: { pid: number; since: number } | null;
}

export function overview(store: StateStore): Overview {
  return store.snapshot(() => ({
    profiles: profileStates(store),
    alerts: alertExtent(store),
    hourly: hourlyAlerts(store),
    losses: losses(store),
    runs: store.recentRuns(RUNS_SHOWN),
    running: WriterLock.holder(store.dir) ?? null,
  }));
}

function profileStates(store: StateStore): Overview["profiles"] {
  const rows = store.select(`SELECT state, count(*) AS n FROM profiles GROUP BY state`).all() as {
    state: string;
    n: number;
  }[];
  const byState: Record<string, number> = { training: 0, frozen: 0, normal: 0 };
  for (const r of rows) byState[r.state] = r.n;
  return { total: rows.reduce((t, r) => t + r.n, 0), byState };
}

/** Stored alerts: ids are never reused and pruning removes the oldest, so the ids stored are max - min + 1. */
function alertExtent(store: StateStore): Overview["alerts"] {
  // Two subqueries: SQLite reads a lone min() or max() off the end of the table's b-tree, but min and max in one
  // SELECT would scan the whole of an index (a million alerts: most of the overview's time).
  const ids = store.select(`SELECT (SELECT min(id) FROM alerts) AS lo, (SELECT max(id) FROM alerts) AS hi`).get() as {
    lo: number | null;
    hi: number | null;
  };
  const last =
    ids.hi === null
      ? undefined
      : (store.select(`SELECT time FROM alerts WHERE id = ?`).get(ids.hi) as { time: number });
  return {
    stored: ids.hi === null || ids.lo === null ? 0 : ids.hi - ids.lo + 1,
    firstId: ids.lo,
    lastId: ids.hi,
    lastTime: last?.time ?? null,
  };
}

function hourlyAlerts(store: StateStore): HourlyAlerts[] {
  return store
    .select(
      `SELECT hour, rule, priority, n FROM alert_counts
       WHERE hour > (SELECT max(hour) FROM alert_counts) - ? ORDER BY hour`,
    )
    .all(WINDOW_HOURS) as HourlyAlerts[];
}

function losses(store: StateStore): Overview["losses"] {
  const sum = (rule: string) =>
    (store.select(`SELECT coalesce(sum(n), 0) AS n FROM alert_counts WHERE rule = ?`).get(rule) as { n: number }).n;
  const row = store.select(`SELECT json FROM alerts WHERE rule = ? ORDER BY id DESC LIMIT 1`).get(LOST_RULE) as
    { json: string } | undefined;
  let lastLost: Record<string, unknown> | null = null;
  if (row !== undefined) {
    const alert = JSON.parse(row.json) as { output_fields?: Record<string, unknown> };
    lastLost = alert.output_fields ?? null;
  }
  return { lostAlerts: sum(LOST_RULE), droppedAlerts: sum(DROPPED_RULE), lastLost };
}
