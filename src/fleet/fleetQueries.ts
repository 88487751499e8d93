// What the fleet console and its JSON API read, each query indexed or bounded: the hosts with their last heartbeat
// (how long ago, so whether they still report), their counters and the alerts stored per host; alerts filtered by
// host, rule, priority, program or path, a page at a time, newest first, continued by id (`before`); alerts per
// hour and host for the chart (the rollup the triggers keep); the programs seen in the profiles bucket and one
// program across hosts: which hosts run it, their profiles' states, and its pooled profile.

import type { HeartbeatCounters } from "./fleetMessages.js";
import { HEARTBEAT_INTERVAL_MS } from "./fleetNames.js";
import type { FleetStore } from "./fleetStore.js";

export const FLEET_PAGE_SIZE = 50;
/** Hours of alerts the Hosts page's chart covers, ending at the newest. */
export const CHART_HOURS = 7 * 24;

export type HostStatus = "reporting" | "late" | "silent" | "no heartbeat";

export interface HostView {
  id: string;
  firstSeen: number;
  lastSeen: number;
  lastHeartbeat: number | null;
  /** Seconds since the last heartbeat (null: none yet). */
  ago: number | null;
  status: HostStatus;
  run: string | null;
  started: number | null;
  version: string | null;
  eventsPerSecond: number | null;
  alerts: number;
  actions: number;
  counters: HeartbeatCounters | null;
}

/** Reporting within 3 heartbeat intervals; late up to 30; silent beyond. */
export function hostStatus(ago: number | null): HostStatus {
  if (ago === null) return "no heartbeat";
  const beats = ago / (HEARTBEAT_INTERVAL_MS / 1000);
  return beats <= 3 ? "reporting" : beats <= 30 ? "late" : "silent";
}

interface HostRow {
  id: string;
  first_seen: number;
  last_seen: number;
  last_heartbeat: number | null;
  run: string | null;
  started: number | null;
  version: string | null;
  counters: string | null;
  events_rate: number | null;
  alerts: number;
  actions: number;
}

function hostView(r: HostRow, now: number): HostView {
  const ago = r.last_heartbeat === null ? null : Math.max(0, now - r.last_heartbeat);
  return {
    id: r.id,
    firstSeen: r.first_seen,
    lastSeen: r.last_seen,
    lastHeartbeat: r.last_heartbeat,
    ago,
    status: hostStatus(ago),
    run: r.run,
    started: r.started,
    version: r.version,
    eventsPerSecond: r.events_rate,
    alerts: r.alerts,
    actions: r.actions,
    counters: r.counters === null ? null : (JSON.parse(r.counters) as HeartbeatCounters),
  };
}

/** Every host, by id; `now` in epoch seconds. */
export function hostViews(store: FleetStore, now: number): HostView[] {
  return (store.select(`SELECT * FROM hosts ORDER BY id`).all() as HostRow[]).map((r) => hostView(r, now));
}

export interface FleetAlertFilter {
  host?: string;
  rule?: string;
  priority?: string;
  /**
   * A program's content identity: the alerts its hosts sent with it, and those sent without it (before the host had
   * identified the file) from its path on every host that has a profile of it.
   */
  program?: string;
  /** An executable's path. */
  exe?: string;
}

export interface FleetAlertView {
  id: number;
  msgId: string;
  host: string;
  time: string;
  epoch: number;
  rule: string;
  priority: string;
  exe: string | null;
  name: string | null;
  output: string;
  /** The calls before the alerted one (output_fields["homeostat.window"]). */
  window: string[];
}

interface AlertRow {
  id: number;
  msg_id: string;
  host: string;
  exe: string | null;
  time: number;
  rule: string;
  priority: string;
  output: string;
  json: string;
}

/** A page of alerts older than `before` (newest first); `more` when another page follows. */
export function fleetAlertPage(
  store: FleetStore,
  f: FleetAlertFilter,
  before?: number,
  limit = FLEET_PAGE_SIZE,
): { rows: FleetAlertView[]; more: boolean } {
  const { sql, args } = alertConditions(f);
  if (before !== undefined) {
    sql.push("id < ?");
    args.push(before);
  }
  const where = sql.length > 0 ? `WHERE ${sql.join(" AND ")}` : "";
  const rows = store
    .select(`SELECT ${ALERT_COLUMNS} FROM alerts ${where} ORDER BY id DESC LIMIT ?`)
    .all(...args, limit + 1) as AlertRow[];
  return { rows: rows.slice(0, limit).map(alertView), more: rows.length > limit };
}

/** The alerts matching `f` newer than id `after`, oldest first (the console's live stream). */
export function fleetAlertsAfter(
  store: FleetStore,
  f: FleetAlertFilter,
  after: number,
  limit: number,
): FleetAlertView[] {
  const { sql, args } = alertConditions(f);
  sql.push("id > ?");
  args.push(after);
  const rows = store
    .select(`SELECT ${ALERT_COLUMNS} FROM alerts WHERE ${sql.join(" AND ")} ORDER BY id LIMIT ?`)
    .all(...args, limit) as AlertRow[];
  return rows.map(alertView);
}

/** The highest alert id stored (0 when none). */
export function fleetLastAlertId(store: FleetStore): number {
  return (store.select(`SELECT coalesce(max(id), 0) AS id FROM alerts`).get() as { id: number }).id;
}

const ALERT_COLUMNS = "id, msg_id, host, exe, time, rule, priority, output, json";

function alertConditions(f: FleetAlertFilter): { sql: string[]; args: (string | number)[] } {
  const sql: string[] = [];
  const args: (string | number)[] = [];
  const add = (clause: string, value: string) => {
    sql.push(clause);
    args.push(value);
  };
  if (f.host !== undefined && f.host !== "") add("host = ?", f.host);
  if (f.rule !== undefined && f.rule !== "") add("rule = ?", f.rule);
  if (f.priority !== undefined && f.priority !== "") add("priority = ?", f.priority);
  if (f.exe !== undefined && f.exe !== "") add("exe = ?", f.exe);
  if (f.program !== undefined && f.program !== "") {
    // By the identity the host sent; an alert sent without one, by its path on a host with a profile of the program
    // (`+program`: found through the path's index, not among every alert without a program).
    sql.push(
      "(program = ? OR ((exe, host) IN (SELECT path, host FROM profiles WHERE program = ?) AND +program IS NULL))",
    );
    args.push(f.program, f.program);
  }
  return { sql, args };
}

function alertView(r: AlertRow): FleetAlertView {
  let window: string[] = [];
  try {
    const w = (JSON.parse(r.json) as { output_fields?: Record<string, unknown> }).output_fields?.["homeostat.window"];
    if (Array.isArray(w)) window = w.filter((x): x is string => typeof x === "string");
  } catch {
    // the row's columns are shown without its window
  }
  return {
    id: r.id,
    msgId: r.msg_id,
    host: r.host,
    time: new Date(r.time * 1000).toISOString().replace(/\.\d+Z$/, "Z"),
    epoch: r.time,
    rule: r.rule,
    priority: r.priority,
    exe: r.exe,
    name: r.exe === null ? null : r.exe.slice(r.exe.lastIndexOf("/") + 1),
    output: r.output,
    window,
  };
}

/** Alerts per hour and host over the CHART_HOURS before the newest hour. */
export function alertHoursByHost(store: FleetStore): { hour: number; host: string; n: number }[] {
  const last = (store.select(`SELECT max(hour) AS h FROM alert_hours`).get() as { h: number | null }).h;
  if (last === null) return [];
  return store
    .select(`SELECT hour, host, n FROM alert_hours WHERE hour > ? ORDER BY hour, host`)
    .all(last - CHART_HOURS) as { hour: number; host: string; n: number }[];
}

export interface PooledView {
  state: string;
  model: string;
  hosts: string[];
  trainCount: number;
  version: number;
  time: number;
}

export interface ProgramSummary {
  program: string;
  /** The executables' base names on the hosts. */
  names: string[];
  hosts: number;
  states: Record<string, number>;
  pooled: PooledView | null;
}

/** Every program in the profiles bucket, most hosts first. */
export function programSummaries(store: FleetStore): ProgramSummary[] {
  const rows = store
    .select(
      `SELECT program, group_concat(DISTINCT name) AS names, count(*) AS hosts,
         sum(state = 'training') AS training, sum(state = 'frozen') AS frozen, sum(state = 'normal') AS normal
       FROM profiles GROUP BY program ORDER BY hosts DESC, program`,
    )
    .all() as { program: string; names: string; hosts: number; training: number; frozen: number; normal: number }[];
  return rows.map((r) => ({
    program: r.program,
    names: r.names.split(",").sort(),
    hosts: r.hosts,
    states: { training: r.training, frozen: r.frozen, normal: r.normal },
    pooled: pooledView(store, r.program),
  }));
}

function pooledView(store: FleetStore, program: string): PooledView | null {
  const p = store.select(`SELECT * FROM pooled WHERE program = ?`).get(program) as
    { state: string; model: string; hosts: string; train_count: number; version: number; time: number } | undefined;
  if (p === undefined) return null;
  const { hosts, train_count, ...rest } = p;
  return { ...rest, hosts: JSON.parse(hosts) as string[], trainCount: train_count };
}

export interface ProgramHost {
  host: string;
  path: string;
  model: string;
  state: string;
  trainCount: number;
  version: number;
  /** The snapshot's time, epoch seconds. */
  time: number;
  /** Alerts stored from this host about this path. */
  alerts: number;
}

export interface ProgramDetail {
  program: string;
  hosts: ProgramHost[];
  pooled: PooledView | null;
}

/** One program across the fleet (undefined when no host has a profile of it). */
export function programDetail(store: FleetStore, program: string): ProgramDetail | undefined {
  const hosts = store
    .select(
      `SELECT host, path, model, state, train_count AS trainCount, version, time,
         (SELECT count(*) FROM alerts a WHERE a.program = p.program AND a.host = p.host)
           + (SELECT count(*) FROM alerts a WHERE a.exe = p.path AND a.host = p.host AND +a.program IS NULL) AS alerts
       FROM profiles p WHERE program = ? ORDER BY host`,
    )
    .all(program) as ProgramHost[];
  if (hosts.length === 0) return undefined;
  return { program, hosts, pooled: pooledView(store, program) };
}
