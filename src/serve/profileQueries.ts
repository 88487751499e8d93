// What the Profiles pages read: one page of the profile table, searched, filtered by state and sorted by a column
// chosen from a fixed list (never SQL from the request), with each row's last alert (alert_keys.last_id, which the
// store keeps per profile key); and for one profile, its history of state changes, its anomalies per hour (from its
// newest anomaly alerts, a bounded number) and its latest alerts.

import type { StateStore } from "../store/stateStore.js";
import { alertsOfKids, kidsOf } from "./alertReads.js";

export const PAGE_SIZE = 50;
/** Anomaly alerts of one profile its chart counts at most (the newest). */
export const ANOMALY_SAMPLE = 10_000;
export const ANOMALY_RULE = "Anomalous system calls";

/** Sortable columns: the name a link uses, and the SQL it stands for. */
export const PROFILE_SORTS = {
  program: "p.name",
  state: "p.state",
  training: "p.train_count",
  since: "p.last_mod_count",
  anomalies: "p.anomalies",
  lastAlert: "last_alert",
} as const;

export type ProfileSort = keyof typeof PROFILE_SORTS;

export interface ProfileListQuery {
  search?: string;
  state?: string;
  sort: ProfileSort;
  descending: boolean;
  page: number;
}

export interface ProfileRow {
  key: string;
  exe: string;
  name: string;
  state: string;
  trainCount: number;
  lastModCount: number;
  anomalies: number;
  lastAlertId: number | null;
  lastAlertTime: number | null;
  lastAlertRule: string | null;
}

/** `%`, `_` and `\` taken literally in a LIKE pattern. */
function likeLiteral(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

export function listProfiles(store: StateStore, q: ProfileListQuery): { rows: ProfileRow[]; total: number } {
  const where: string[] = [];
  const args: (string | number)[] = [];
  if (q.search !== undefined && q.search !== "") {
    where.push(`(p.exe LIKE ? ESCAPE '\\' OR p.key LIKE ? ESCAPE '\\')`);
    args.push(likeLiteral(q.search), likeLiteral(q.search));
  }
  if (q.state !== undefined && q.state !== "") {
    where.push(`p.state = ?`);
    args.push(q.state);
  }
  const filter = where.length > 0 ? `WHERE ${where.join(" AND ")}` : "";
  const order = `${PROFILE_SORTS[q.sort]} ${q.descending ? "DESC" : "ASC"}, p.key`;
  return store.snapshot(() => {
    const total = (store.select(`SELECT count(*) AS n FROM profiles p ${filter}`).get(...args) as { n: number }).n;
    const lastAlert = q.sort === "lastAlert" ? `(SELECT k.last_id FROM alert_keys k WHERE k.key = p.key)` : "NULL";
    const rows = store
      .select(
        `SELECT p.key, p.exe, p.name, p.state, p.train_count, p.last_mod_count, p.anomalies, ${lastAlert} AS last_alert
         FROM profiles p ${filter} ORDER BY ${order} LIMIT ? OFFSET ?`,
      )
      .all(...args, PAGE_SIZE, (q.page - 1) * PAGE_SIZE) as Record<string, string | number | null>[];
    return { total, rows: rows.map((r) => withLastAlert(store, r)) };
  });
}

function withLastAlert(store: StateStore, r: Record<string, string | number | null>): ProfileRow {
  const last = store
    .select(`SELECT a.id, a.time, a.rule FROM alert_keys k JOIN alerts a ON a.id = k.last_id WHERE k.key = ?`)
    .get(r.key) as { id: number; time: number; rule: string } | undefined;
  return {
    key: r.key as string,
    exe: r.exe as string,
    name: r.name as string,
    state: r.state as string,
    trainCount: r.train_count as number,
    lastModCount: r.last_mod_count as number,
    anomalies: r.anomalies as number,
    lastAlertId: last?.id ?? null,
    lastAlertTime: last?.time ?? null,
    lastAlertRule: last?.rule ?? null,
  };
}

export interface HistoryRow {
  time: number;
  before: string | null;
  after: string;
  cause: string;
  trainCount: number;
  anomalies: number;
}

/** The profile's state changes, newest first (at most `limit`). */
export function profileHistory(store: StateStore, key: string, limit = 200): HistoryRow[] {
  const rows = store
    .select(
      `SELECT time, before, after, cause, train_count, anomalies FROM profile_history
       WHERE key = ? ORDER BY id DESC LIMIT ?`,
    )
    .all(key, limit) as {
    time: number;
    before: string | null;
    after: string;
    cause: string;
    train_count: number;
    anomalies: number;
  }[];
  return rows.map((r) => ({ ...r, trainCount: r.train_count }));
}

/** Anomaly alerts of the profile per hour, over its newest ANOMALY_SAMPLE anomaly alerts. */
export function anomaliesPerHour(store: StateStore, key: string): { hour: number; n: number }[] {
  const rows = alertsOfKids<{ time: number }>(
    store,
    "time",
    kidsOf(store, [key]),
    { sql: ["rule = ?"], args: [ANOMALY_RULE] },
    ANOMALY_SAMPLE,
  );
  const perHour = new Map<number, number>();
  for (const r of rows) {
    const hour = Math.trunc(r.time / 3600);
    perHour.set(hour, (perHour.get(hour) ?? 0) + 1);
  }
  return [...perHour].sort((a, b) => a[0] - b[0]).map(([hour, n]) => ({ hour, n }));
}
