// The runs table of the state database: one row per `homeostat watch` run (its pid, capture backend, start, the
// figures it reports while it runs, and its end and summary), which the console's overview reads. The newest
// RUNS_KEPT runs are kept, since a service restarted often would otherwise add rows without end.

import type { StoreConnection } from "./storeConnection.js";
import { checkLimit, jsonText } from "./storeValues.js";

/** Watch runs the store keeps (a service restarted often would otherwise add rows without end). */
export const RUNS_KEPT = 1000;

/** What a watch run reports of itself while it runs, and at its end. */
export interface RunFigures {
  events: number;
  lost: number;
  alerts: number;
  /** Epoch seconds; set once, at the end. */
  endedAt?: number;
  /** The run's summary (JSON), at the end. */
  summary?: unknown;
}

export interface StoredRun {
  id: number;
  pid: number;
  backend: string;
  startedAt: number;
  updatedAt: number;
  /** null while running, or when the run ended without saying so (killed). */
  endedAt: number | null;
  events: number;
  lost: number;
  alerts: number;
  summary: unknown;
}

interface RunRow {
  id: number;
  pid: number;
  backend: string;
  started_at: number;
  updated_at: number;
  ended_at: number | null;
  events: number;
  lost: number;
  alerts: number;
  summary: string;
}

/** StateStore.beginRun: records the start of a run, keeping the newest `keep` runs; returns its id. */
export function beginRun(
  conn: StoreConnection,
  run: { pid: number; backend: string; startedAt: number },
  keep: number,
): number {
  const insert = conn.statement(
    `INSERT INTO runs (pid, backend, started_at, updated_at, ended_at, events, lost, alerts, summary)
     VALUES (?, ?, ?, ?, NULL, 0, 0, 0, 'null')`,
  );
  const prune = conn.statement(`DELETE FROM runs WHERE id <= (SELECT id FROM runs ORDER BY id DESC LIMIT 1 OFFSET ?)`);
  return conn.write("cannot record a run", () => {
    const id = Number(insert.run(run.pid, run.backend, run.startedAt, run.startedAt).lastInsertRowid);
    prune.run(checkLimit(keep));
    return id;
  });
}

/** StateStore.updateRun: a run's figures so far, and at its end its time and summary. */
export function updateRun(conn: StoreConnection, id: number, figures: RunFigures): void {
  const update = conn.statement(
    `UPDATE runs SET updated_at = @updatedAt, events = @events, lost = @lost, alerts = @alerts,
       ended_at = coalesce(@endedAt, ended_at), summary = coalesce(@summary, summary) WHERE id = @id`,
  );
  conn.write("cannot record a run", () =>
    update.run({
      id,
      updatedAt: figures.endedAt ?? conn.now(),
      events: figures.events,
      lost: figures.lost,
      alerts: figures.alerts,
      endedAt: figures.endedAt ?? null,
      summary: figures.summary === undefined ? null : jsonText(figures.summary),
    }),
  );
}

/** StateStore.recentRuns: the last `limit` runs, newest first (none before schema version 3). */
export function recentRuns(conn: StoreConnection, limit: number): StoredRun[] {
  if (conn.schemaVersion < 3) return [];
  const rows = conn.read("cannot read runs", () =>
    conn.statement(`SELECT * FROM runs ORDER BY id DESC LIMIT ?`).all(checkLimit(limit)),
  ) as RunRow[];
  return rows.map((r) => ({
    id: r.id,
    pid: r.pid,
    backend: r.backend,
    startedAt: r.started_at,
    updatedAt: r.updated_at,
    endedAt: r.ended_at,
    events: r.events,
    lost: r.lost,
    alerts: r.alerts,
    summary: JSON.parse(r.summary) as unknown,
  }));
}
