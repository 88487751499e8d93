// The fleet database (`<state dir>/fleet.db`), written by `homeostat fleet serve` alone: messages from the stream
// stored in batches, one IMMEDIATE transaction each, so that a batch is stored whole or not at all and only then
// acknowledged (fleetIngest.ts); profile snapshots from the profiles bucket; the pooled profiles. WAL with
// synchronous=FULL as the state store (src/store/stateStore.ts): a committed batch survives a kill or a power cut,
// and the console's reads run beside the writes. Every message is keyed by its id, so a redelivered or replayed one
// is ignored, not stored twice. Library code: failures are HomeostatError naming the file.

import { chmodSync, existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { type ErrorCode, HomeostatError } from "../errors.js";
import { type Database, openSqlite } from "../store/sqliteDatabase.js";
import { migrateFleet } from "./fleetSchema.js";
import type { ActionBody, AlertBody, DecodedMessage, HeartbeatBody } from "./fleetMessages.js";
import { heartbeatTime, type LastHeartbeat, newerHeartbeat } from "./heartbeatOrder.js";
import type { ProfileSnapshot } from "./profileSnapshot.js";

export const FLEET_DB_NAME = "fleet.db";
const BUSY_TIMEOUT_MS = 5000;

/** What one batch did: messages newly stored, and those ignored as already stored. */
export interface BatchOutcome {
  stored: number;
  duplicates: number;
}

/** A change of the profiles bucket: a snapshot put (at a revision), or a key removed. */
export type SnapshotChange =
  { snapshot: ProfileSnapshot; revision: number } | { remove: { program: string; host: string } };

/** A host's profile snapshot as the fleet database keeps it. */
export interface StoredSnapshot {
  program: string;
  host: string;
  path: string;
  model: string;
  state: string;
  trainCount: number;
  version: number;
  /** Epoch seconds of the snapshot. */
  time: number;
  revision: number;
  blob: Uint8Array;
  /** The pooled version the profile started from; null: learnt on its host alone. */
  base: number | null;
}

export interface PooledRecord {
  program: string;
  model: string;
  state: string;
  hosts: string[];
  /** The profiles bucket revision of each snapshot merged, in the order of `hosts`. */
  sources: number[];
  trainCount: number;
  version: number;
  /** Epoch seconds. */
  time: number;
  revision: number;
}

interface PooledRow {
  hosts: string;
  sources: string;
  train_count: number;
}

export class FleetStore {
  readonly path: string;
  private readonly statements = new Map<string, Database.Statement>();

  private constructor(
    private readonly db: Database.Database,
    file: string,
    private readonly now: () => number,
  ) {
    this.path = file;
  }

  /** Opens (creating the directory, mode 0700, and the file, 0600) `dir/fleet.db`. */
  static open(dir: string, options: { now?: () => number } = {}): FleetStore {
    const resolved = path.resolve(dir);
    const file = path.join(resolved, FLEET_DB_NAME);
    try {
      mkdirSync(resolved, { recursive: true, mode: 0o700 });
    } catch (err) {
      throw fleetError(err, resolved, "cannot create the fleet state directory");
    }
    const existed = existsSync(file);
    let db: Database.Database;
    try {
      db = openSqlite(file, { timeout: BUSY_TIMEOUT_MS });
    } catch (err) {
      throw fleetError(err, file, "cannot open the fleet database");
    }
    try {
      if (!existed) chmodSync(file, 0o600);
      const mode = db.pragma("journal_mode = WAL", { simple: true });
      if (mode !== "wal") {
        throw new HomeostatError("E_IO", `cannot use write-ahead logging (journal mode ${String(mode)})`, { file });
      }
      db.pragma("synchronous = FULL");
      migrateFleet(db, file, false);
    } catch (err) {
      db.close();
      throw fleetError(err, file, "cannot open the fleet database");
    }
    return new FleetStore(db, file, options.now ?? (() => Date.now() / 1000));
  }

  /** Stores a batch of decoded stream messages in ONE transaction; a message id already stored is ignored. */
  storeMessages(messages: readonly DecodedMessage[]): BatchOutcome {
    const touch = this.statement(
      `INSERT INTO hosts (id, first_seen, last_seen) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET
         first_seen = min(first_seen, excluded.first_seen), last_seen = max(last_seen, excluded.last_seen)`,
    );
    return this.write("cannot store fleet messages", () => {
      const stored = this.now();
      const seen = new Map<string, [number, number]>();
      for (const m of messages) {
        const t = m.body.time / 1000;
        const span = seen.get(m.body.host);
        seen.set(m.body.host, span === undefined ? [t, t] : [Math.min(span[0], t), Math.max(span[1], t)]);
      }
      // Hosts first: the triggers that count a host's alerts and actions update its row.
      for (const [host, [first, last]] of seen) touch.run(host, first, last);
      let n = 0;
      for (const m of messages) {
        if (m.kind === "alerts") n += this.insertAlert(m.id, m.body as AlertBody, stored);
        else if (m.kind === "actions") n += this.insertAction(m.id, m.body as ActionBody, stored);
        else n += this.heartbeat(m.body as HeartbeatBody);
      }
      return { stored: n, duplicates: messages.length - n };
    });
  }

  private insertAlert(id: string, b: AlertBody, stored: number): number {
    const a = b.alert;
    const exe = a.output_fields["proc.exepath"];
    const parsed = Date.parse(a.time);
    return this.statement(
      `INSERT INTO alerts (msg_id, host, exe, program, time, rule, priority, output, sent, stored, json)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (msg_id) DO NOTHING`,
    ).run(
      id,
      b.host,
      typeof exe === "string" ? exe : null,
      b.program ?? null,
      Number.isNaN(parsed) ? b.time / 1000 : parsed / 1000,
      a.rule,
      a.priority,
      a.output,
      b.time / 1000,
      stored,
      JSON.stringify(a),
    ).changes;
  }

  private insertAction(id: string, b: ActionBody, stored: number): number {
    const a = b.action;
    return this.statement(
      `INSERT INTO actions (msg_id, host, exe, time, pid, action, outcome, reason, sent, stored, json)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (msg_id) DO NOTHING`,
    ).run(
      id,
      b.host,
      a.exe === "" ? null : a.exe,
      a.time,
      a.pid,
      a.kind,
      a.outcome,
      a.reason,
      b.time / 1000,
      stored,
      JSON.stringify(a),
    ).changes;
  }

  /** A heartbeat newer than the host's last one (heartbeatOrder.ts) becomes its status; events/s from the two. */
  private heartbeat(b: HeartbeatBody): number {
    const t = heartbeatTime(b);
    const row = this.statement(
      `SELECT last_heartbeat, heartbeat_seq, run, started, counters FROM hosts WHERE id = ?`,
    ).get(b.host) as LastHeartbeat | undefined;
    if (row !== undefined && !newerHeartbeat(b, row)) return 0;
    const last = row?.last_heartbeat ?? null;
    let rate: number | null = null;
    if (last !== null && t > last && row?.run === b.run && row.counters !== null) {
      const before = (JSON.parse(row.counters) as { events?: unknown }).events;
      if (typeof before === "number") rate = Math.max(0, b.counters.events - before) / (t - last);
    }
    this.statement(
      `UPDATE hosts SET last_heartbeat = ?, heartbeat_seq = ?, run = ?, started = ?, version = ?, counters = ?,
         events_rate = ? WHERE id = ?`,
    ).run(t, b.seq, b.run, b.started / 1000, b.version, JSON.stringify(b.counters), rate, b.host);
    return 1;
  }

  /**
   * Keeps a host's snapshot from the profiles bucket unless a later revision is stored already (a watch that
   * restarts replays every key); returns whether it was stored.
   */
  saveSnapshot(s: ProfileSnapshot, revision: number): boolean {
    return this.applySnapshots([{ snapshot: s, revision }]).applied > 0;
  }

  /** Forgets a host's snapshot (its key was deleted or purged from the bucket). */
  deleteSnapshot(program: string, host: string): boolean {
    return this.applySnapshots([{ remove: { program, host } }]).applied > 0;
  }

  /**
   * Stores and removes snapshots in ONE transaction (the profiles bucket's changes of a moment: a fleet's hosts put
   * theirs every few seconds, and one fsync each would be the database's main cost); a snapshot is stored only over
   * an older revision. Returns how many changes were applied, and the programs whose snapshots they changed.
   */
  applySnapshots(changes: readonly SnapshotChange[]): { applied: number; programs: string[] } {
    const upsert = this.statement(
      `INSERT INTO profiles (program, host, path, name, model, state, train_count, version, time, revision,
         updated, blob, base) VALUES (@program, @host, @path, @name, @model, @state, @trainCount, @version, @time,
         @revision, @updated, @blob, @base)
       ON CONFLICT (program, host) DO UPDATE SET path = excluded.path, name = excluded.name, model = excluded.model,
         state = excluded.state, train_count = excluded.train_count, version = excluded.version, time = excluded.time,
         revision = excluded.revision, updated = excluded.updated, blob = excluded.blob, base = excluded.base
       WHERE excluded.revision > profiles.revision`,
    );
    const remove = this.statement(`DELETE FROM profiles WHERE program = ? AND host = ?`);
    return this.write("cannot store profile snapshots", () => {
      const changed = new Set<string>();
      const updated = this.now();
      let applied = 0;
      for (const c of changes) {
        if ("remove" in c) {
          if (remove.run(c.remove.program, c.remove.host).changes === 0) continue;
          applied++;
          changed.add(c.remove.program);
          continue;
        }
        const h = c.snapshot.header;
        const blob = c.snapshot.blob;
        const info = upsert.run({
          program: h.program,
          host: h.host,
          path: h.path,
          name: path.basename(h.path),
          model: h.model,
          state: h.state,
          trainCount: h.trainCount,
          version: h.version,
          time: h.time / 1000,
          revision: c.revision,
          updated,
          blob: Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength),
          base: h.base?.version ?? null,
        });
        if (info.changes === 0) continue;
        applied++;
        changed.add(h.program);
      }
      return { applied, programs: [...changed] };
    });
  }

  /** Every host's snapshot of `program`, blobs included, by host. */
  snapshotsOf(program: string): StoredSnapshot[] {
    const rows = this.read("cannot read profile snapshots", () =>
      this.statement(
        `SELECT program, host, path, model, state, train_count, version, time, revision, blob, base FROM profiles
         WHERE program = ? ORDER BY host`,
      ).all(program),
    ) as (Omit<StoredSnapshot, "trainCount" | "blob"> & { train_count: number; blob: Buffer })[];
    return rows.map(({ train_count, blob, ...r }) => ({
      ...r,
      trainCount: train_count,
      blob: new Uint8Array(blob.buffer, blob.byteOffset, blob.byteLength),
    }));
  }

  /** Programs with snapshots from at least `hosts` hosts. */
  programsOnHosts(hosts: number): string[] {
    return this.read("cannot list programs", () =>
      (
        this.statement(`SELECT program FROM profiles GROUP BY program HAVING count(*) >= ? ORDER BY program`).all(
          hosts,
        ) as { program: string }[]
      ).map((r) => r.program),
    );
  }

  savePooled(p: PooledRecord): void {
    this.write("cannot store a pooled profile", () =>
      this.statement(
        `INSERT OR REPLACE INTO pooled (program, model, state, hosts, sources, train_count, version, time, revision)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        p.program,
        p.model,
        p.state,
        JSON.stringify(p.hosts),
        JSON.stringify(p.sources),
        p.trainCount,
        p.version,
        p.time,
        p.revision,
      ),
    );
  }

  /** The last pooling of `program`, or undefined. */
  pooled(program: string): PooledRecord | undefined {
    const row = this.read("cannot read a pooled profile", () =>
      this.statement(`SELECT * FROM pooled WHERE program = ?`).get(program),
    ) as (Omit<PooledRecord, "hosts" | "sources" | "trainCount"> & PooledRow) | undefined;
    if (row === undefined) return undefined;
    const { hosts, sources, train_count, ...rest } = row;
    return {
      ...rest,
      hosts: JSON.parse(hosts) as string[],
      sources: JSON.parse(sources) as number[],
      trainCount: train_count,
    };
  }

  deletePooled(program: string): void {
    this.write("cannot delete a pooled profile", () =>
      this.statement(`DELETE FROM pooled WHERE program = ?`).run(program),
    );
  }

  /** A prepared read-only statement (cached), for the console's queries; one that would write is refused. */
  select(sql: string): Database.Statement {
    const stmt = this.statement(sql);
    if (!stmt.reader) throw new HomeostatError("E_USAGE", `not a read-only query: ${sql.slice(0, 60)}`);
    return stmt;
  }

  /** Runs `fn` (reads through `select`) in one read transaction: one snapshot of the database. */
  snapshot<T>(fn: () => T): T {
    return this.read("cannot read the fleet database", () => this.db.transaction(fn).deferred());
  }

  counts(): { hosts: number; alerts: number; actions: number; profiles: number } {
    return this.read("cannot count rows", () => {
      const n = (table: string) => (this.statement(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
      return { hosts: n("hosts"), alerts: n("alerts"), actions: n("actions"), profiles: n("profiles") };
    });
  }

  close(): void {
    if (!this.db.open) return;
    this.statements.clear();
    this.db.close();
  }

  private statement(sql: string): Database.Statement {
    let stmt = this.statements.get(sql);
    if (stmt === undefined) {
      try {
        stmt = this.db.prepare(sql);
      } catch (err) {
        throw fleetError(err, this.path, "cannot prepare a query");
      }
      this.statements.set(sql, stmt);
    }
    return stmt;
  }

  private read<T>(what: string, fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      throw fleetError(err, this.path, what);
    }
  }

  private write<T>(what: string, fn: () => T): T {
    try {
      return this.db.transaction(fn).immediate();
    } catch (err) {
      throw fleetError(err, this.path, what);
    }
  }
}

/** One HomeostatError naming the file, for whatever SQLite or the filesystem threw. */
function fleetError(err: unknown, file: string, what: string): HomeostatError {
  if (err instanceof HomeostatError) return err;
  const code = typeof (err as { code?: unknown }).code === "string" ? (err as { code: string }).code : "";
  const detail = err instanceof Error ? err.message : String(err);
  let ours: ErrorCode = "E_IO";
  if (code.startsWith("SQLITE_NOTADB") || code.startsWith("SQLITE_CORRUPT")) ours = "E_CHECKSUM";
  else if (code === "SQLITE_FULL" || code === "ENOSPC") ours = "E_NO_SPACE";
  else if (code.startsWith("SQLITE_READONLY") || code === "EACCES" || code === "EPERM") ours = "E_PERMISSION";
  else if (code.startsWith("SQLITE_CONSTRAINT")) ours = "E_USAGE";
  return new HomeostatError(ours, `${what}: ${detail}`, { file }, { cause: err });
}
