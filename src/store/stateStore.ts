// The durable state of `homeostat watch`: per-executable pH profiles (their lifecycle counters and the serialized
// model), the alerts raised and the responses taken, in one SQLite database, `<state dir>/homeostat.db`.
//
// Why it survives `kill -9` and power loss: the database runs in WAL mode with synchronous=FULL, and every batch
// (a flush of many profiles, a burst of alerts) is ONE transaction. SQLite's atomic commit then guarantees that a
// reader, or the next `watch` after a crash, sees every profile of a batch at its old version or every one at its
// new version, never a mix and never a torn row: an interrupted transaction is simply absent from the WAL when it
// is replayed. synchronous=FULL fsyncs the WAL at each commit, so a batch whose save returned also survives a power
// cut, not just a killed process. On top of that each model blob carries a CRC-32, checked on every load, against
// damage SQLite cannot see (a bad disk sector inside a blob, a hand-edited file).
//
// The static model of each executable (the system calls its binary can make, from src/static's analysis) is kept in
// its own table beside the profiles, keyed like them (path@dev:ino), each row written in one transaction with a
// CRC-32 over its content: it belongs to the file, not to what was learned, so administering a profile (reset,
// sensitize...) leaves it alone, and deleting the profile deletes it.
//
// `homeostat profiles ...` opens the same file read-only while `watch` writes it: WAL lets readers run beside the
// one writer, and a busy timeout makes either side wait for the other's short lock instead of failing.
// Library code: every failure is a HomeostatError naming the database file or the state directory.

import { accessSync, chmodSync, constants, existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";
import { createRequire } from "node:module";
import { type Database, openSqlite } from "./sqliteDatabase.js";
import { migrate } from "./stateSchema.js";
import { insertAlertBatch } from "./alertBatch.js";

export { ALERT_EPOCH, ALERT_EPOCH_BITS, STATE_SCHEMA_VERSION } from "./stateSchema.js";
import { HomeostatError, type ErrorCode } from "../errors.js";
import type { ProfileState } from "../lifecycle/lifecycleSettings.js";

export type { ProfileState } from "../lifecycle/lifecycleSettings.js";

/**
 * The schema this build writes; a database from a newer build is refused rather than misread. 1: profiles, alerts,
 * actions; 2: static_models; 3: profile_history, alert_counts, runs and the alert indexes the console reads; 4: alert
 * counts kept per batch, alerts indexed by rule and by profile (kid) only (an older database is migrated when opened
 * for writing, in one transaction; stateSchema.ts).
 */
export const STATE_DB_NAME = "homeostat.db";
/** How long one side waits for the other's lock before giving up (watch writing, profiles reading). */
export const STATE_BUSY_TIMEOUT_MS = 5000;

/** Watch runs the store keeps (a service restarted often would otherwise add rows without end). */
export const RUNS_KEPT = 1000;

/** Profile keys whose kid a writer remembers at most. */
const MAX_REMEMBERED_KIDS = 100_000;

const PROFILE_STATES: readonly ProfileState[] = ["training", "frozen", "normal"];

export interface ProfileRecord {
  /** "path@dev:ino", the executable's identity. */
  key: string;
  exe: string;
  dev: number;
  ino: number;
  /** Model spec, e.g. "ph:L=9". */
  model: string;
  state: ProfileState;
  trainCount: number;
  lastModCount: number;
  anomalies: number;
  /** Epoch seconds at which a frozen profile becomes normal. */
  normalTime: number | null;
  /** The serialized model, opaque to the store. */
  blob: Uint8Array;
}

export interface StoredProfile extends ProfileRecord {
  /** 1 on first save, +1 on every save. */
  version: number;
  /** CRC-32 (node:zlib crc32) of blob, verified on every load. */
  crc: number;
  /** Epoch seconds. */
  createdAt: number;
  updatedAt: number;
}

export type ProfileSummary = Omit<StoredProfile, "blob"> & { bytes: number };

/** The static model of an executable, as the store keeps it. */
export interface StaticModelRecord {
  /** The profile key of the analysed executable, "path@dev:ino". */
  key: string;
  exe: string;
  /** Whether the analysis says the set misses nothing (no unresolved site, no unanalysed dlopen). */
  complete: boolean;
  /** x86_64 system-call numbers the binary can make, sorted. */
  syscalls: number[];
  /** Everything else the analysis said (names, unresolved sites, objects, file stamps), opaque to the store. */
  detail: unknown;
}

export interface StoredStaticModel extends StaticModelRecord {
  /** Epoch seconds of the save. */
  analysedAt: number;
  /** CRC-32 of the row's content, verified on every load. */
  crc: number;
}

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

export interface ActionRecord {
  time: number;
  pid: number;
  exe: string | null;
  action: string;
  outcome: string;
  reason: string;
  json: unknown;
}

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

export interface StateStoreOptions {
  /**
   * Open an existing database for reading only: no directory or database is created (E_NOT_FOUND when there is
   * none). Like any WAL reader, SQLite may leave empty -wal and -shm files beside an existing database.
   */
  readonly?: boolean;
  /** The clock for createdAt/updatedAt, in epoch seconds; tests fix it. */
  now?: () => number;
}

/** `$XDG_STATE_HOME/homeostat`, else `~/.local/state/homeostat` (the XDG base directory rules). */
export function defaultStateDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_STATE_HOME;
  // The XDG spec says relative paths in these variables are invalid and must be ignored.
  if (xdg !== undefined && xdg !== "" && path.isAbsolute(xdg)) return path.join(xdg, "homeostat");
  const home = env.HOME !== undefined && env.HOME !== "" ? env.HOME : homedir();
  return path.join(home, ".local", "state", "homeostat");
}

export const DEFAULT_STATE_DIR: string = defaultStateDir();

const RECORD_COLUMNS = `key, exe, dev, ino, model, state, train_count, last_mod_count, anomalies, normal_time, version,
  crc, created_at, updated_at`;
const SUMMARY_COLUMNS = `${RECORD_COLUMNS}, length(blob) AS bytes`;
const PROFILE_COLUMNS = `${RECORD_COLUMNS}, blob`;

interface SummaryRow {
  key: string;
  exe: string;
  dev: number;
  ino: number;
  model: string;
  state: ProfileState;
  train_count: number;
  last_mod_count: number;
  anomalies: number;
  normal_time: number | null;
  version: number;
  crc: number;
  created_at: number;
  updated_at: number;
}

interface ProfileRow extends SummaryRow {
  blob: Buffer;
}

interface StaticRow {
  key: string;
  exe: string;
  complete: number;
  syscalls: string;
  analysed_at: number;
  crc: number;
  detail: string;
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

interface ActionRow {
  id: number;
  time: number;
  pid: number;
  exe: string | null;
  action: string;
  outcome: string;
  reason: string;
  json: string;
}

export class StateStore {
  /** The database file. */
  readonly path: string;
  readonly dir: string;
  readonly readonly: boolean;
  /** The schema version of the file (older than STATE_SCHEMA_VERSION only when opened read-only). */
  readonly schemaVersion: number;
  private readonly db: Database.Database;
  private readonly now: () => number;
  private readonly statements = new Map<string, Database.Statement>();
  /** Profile keys and their kid in alert_keys (which never changes once committed). */
  private readonly kids = new Map<string, number>();

  private constructor(
    db: Database.Database,
    dir: string,
    file: string,
    readonly: boolean,
    now: () => number,
    version: number,
  ) {
    this.db = db;
    this.schemaVersion = version;
    this.dir = dir;
    this.path = file;
    this.readonly = readonly;
    this.now = now;
  }

  /**
   * Opens (creating when needed, unless read-only) `dir/homeostat.db`. The directory is created with mode 0700
   * and the database file with 0600: alerts carry command lines and paths of the watched host.
   */
  static open(dir: string, options: StateStoreOptions = {}): StateStore {
    const readonly = options.readonly === true;
    const now = options.now ?? (() => Date.now() / 1000);
    const resolved = path.resolve(dir);
    const file = path.join(resolved, STATE_DB_NAME);
    if (readonly) {
      // A read-only open must not create the directory or an empty database that a later `watch` would inherit.
      if (!existsSync(file)) {
        throw new HomeostatError("E_NOT_FOUND", `no state database (homeostat watch creates it)`, { file });
      }
    } else {
      prepareStateDir(resolved);
    }
    const existed = existsSync(file);
    let db: Database.Database;
    let version: number;
    try {
      db = openSqlite(file, { readonly, fileMustExist: readonly, timeout: STATE_BUSY_TIMEOUT_MS });
    } catch (err) {
      throw storeError(err, file, "cannot open the state database");
    }
    try {
      // Before SQLite writes a byte, so that the -wal and -shm files (created with the database's mode) are
      // private too.
      if (!existed) chmodSync(file, 0o600);
      if (!readonly) {
        // journal_mode is stored in the file, so read-only openers use WAL as well.
        const mode = db.pragma("journal_mode = WAL", { simple: true });
        if (mode !== "wal") {
          throw new HomeostatError(
            "E_IO",
            `cannot use write-ahead logging (journal mode stays ${String(mode)}); ` +
              `the state directory needs a local filesystem`,
            { file },
          );
        }
        db.pragma("synchronous = FULL");
      }
      version = migrate(db, file, readonly);
    } catch (err) {
      db.close();
      const snapshot = readonly && isReadOnlyFailure(err) ? readableSnapshot(file) : undefined;
      if (snapshot === undefined) throw storeError(err, file, "cannot open the state database");
      db = snapshot;
      version = migrate(db, file, readonly);
    }
    return new StateStore(db, resolved, file, readonly, now, version);
  }

  /**
   * Upserts every profile in ONE transaction: after a crash either all of them have their new version or none.
   * A record with `expectVersion` is written only if the stored version is still that one (0: not stored), checked
   * inside the transaction, so that `watch` never overwrites a change `homeostat profiles` made meanwhile; the keys
   * skipped for that reason are returned. A profile's first save, a change of its state, and any save with a
   * `cause` (an administrator's operation) add a row to its history, in the same transaction.
   */
  saveProfiles(records: readonly (ProfileRecord & { expectVersion?: number; cause?: string })[]): string[] {
    for (const r of records) validateRecord(r, this.path);
    const upsert = this.statement(
      `INSERT INTO profiles (key, exe, name, dev, ino, model, state, train_count, last_mod_count, anomalies,
         normal_time, version, crc, created_at, updated_at, blob)
       VALUES (@key, @exe, @name, @dev, @ino, @model, @state, @trainCount, @lastModCount, @anomalies,
         @normalTime, 1, @crc, @time, @time, @blob)
       ON CONFLICT (key) DO UPDATE SET
         exe = excluded.exe, name = excluded.name, dev = excluded.dev, ino = excluded.ino, model = excluded.model,
         state = excluded.state, train_count = excluded.train_count, last_mod_count = excluded.last_mod_count,
         anomalies = excluded.anomalies, normal_time = excluded.normal_time, version = profiles.version + 1,
         crc = excluded.crc, updated_at = excluded.updated_at, blob = excluded.blob`,
    );
    const current = this.statement("SELECT version, state FROM profiles WHERE key = ?");
    const history = this.statement(
      `INSERT INTO profile_history (key, time, before, after, cause, train_count, anomalies)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
    const conflicts: string[] = [];
    const time = this.now();
    this.write("cannot save profiles", () => {
      conflicts.length = 0;
      for (const r of records) {
        const row = current.get(r.key) as { version: number; state: ProfileState } | undefined;
        if (r.expectVersion !== undefined && (row?.version ?? 0) !== r.expectVersion) {
          conflicts.push(r.key);
          continue;
        }
        if (row === undefined || row.state !== r.state || r.cause !== undefined) {
          const cause = r.cause ?? (row === undefined ? "created" : "lifecycle");
          history.run(r.key, time, row?.state ?? null, r.state, cause, r.trainCount, r.anomalies);
        }
        upsert.run({
          key: r.key,
          exe: r.exe,
          name: path.basename(r.exe),
          dev: r.dev,
          ino: r.ino,
          model: r.model,
          state: r.state,
          trainCount: r.trainCount,
          lastModCount: r.lastModCount,
          anomalies: r.anomalies,
          normalTime: r.normalTime,
          crc: crc32(r.blob),
          time,
          blob: Buffer.from(r.blob.buffer, r.blob.byteOffset, r.blob.byteLength),
        });
      }
    });
    return conflicts;
  }

  /** The profile with this key, its blob's CRC verified (E_CHECKSUM on mismatch); undefined when absent. */
  loadProfile(key: string): StoredProfile | undefined {
    const row = this.read("cannot load a profile", () =>
      this.statement(`SELECT ${PROFILE_COLUMNS} FROM profiles WHERE key = ?`).get(key),
    ) as ProfileRow | undefined;
    return row === undefined ? undefined : this.verified(row);
  }

  /** Every profile, each blob's CRC verified; ordered by exe, then key. */
  loadAllProfiles(): StoredProfile[] {
    const rows = this.read("cannot load profiles", () =>
      this.statement(`SELECT ${PROFILE_COLUMNS} FROM profiles ORDER BY exe, key`).all(),
    ) as ProfileRow[];
    return rows.map((row) => this.verified(row));
  }

  /** Every profile without its blob (so no CRC check), ordered by exe, then key. */
  listProfiles(): ProfileSummary[] {
    const rows = this.read("cannot list profiles", () =>
      this.statement(`SELECT ${SUMMARY_COLUMNS} FROM profiles ORDER BY exe, key`).all(),
    ) as (SummaryRow & { bytes: number })[];
    return rows.map(summaryOf);
  }

  /**
   * Profiles matching a selector, trying in turn: the exact key; the exact executable path (several when the
   * binary was replaced, each version being its own dev:ino); the executable's basename. The first rule that
   * matches anything wins, so a key never also returns its namesakes.
   */
  findProfiles(selector: string): ProfileSummary[] {
    return this.read("cannot find profiles", () => {
      for (const column of ["key", "exe", "name"]) {
        const rows = this.statement(
          `SELECT ${SUMMARY_COLUMNS} FROM profiles WHERE ${column} = ? ORDER BY exe, key`,
        ).all(selector) as (SummaryRow & { bytes: number })[];
        if (rows.length > 0) return rows.map(summaryOf);
      }
      return [];
    });
  }

  /** Deletes one profile, and the static model of its executable; false when there was no profile with this key. */
  deleteProfile(key: string): boolean {
    const stmt = this.statement(`DELETE FROM profiles WHERE key = ?`);
    const statics = this.statement(`DELETE FROM static_models WHERE key = ?`);
    const history = this.statement(`DELETE FROM profile_history WHERE key = ?`);
    return this.write("cannot delete a profile", () => {
      statics.run(key);
      history.run(key);
      return stmt.run(key).changes > 0;
    });
  }

  /** Upserts static models in ONE transaction (a row is its executable's newest analysis). */
  saveStaticModels(records: readonly StaticModelRecord[]): void {
    const rows = records.map((r) => {
      if (typeof r.key !== "string" || r.key === "") {
        throw new HomeostatError("E_USAGE", `invalid static model record: empty key`, { file: this.path });
      }
      if (!Array.isArray(r.syscalls) || !r.syscalls.every((n) => Number.isInteger(n) && n >= 0)) {
        throw new HomeostatError(
          "E_USAGE",
          `invalid static model record ${JSON.stringify(r.key)}: syscalls must be numbers`,
          { file: this.path },
        );
      }
      const syscalls = JSON.stringify(r.syscalls);
      const detail = jsonText(r.detail);
      const complete = r.complete ? 1 : 0;
      return { key: r.key, exe: r.exe, complete, syscalls, detail, crc: staticCrc(complete, syscalls, detail) };
    });
    const upsert = this.statement(
      `INSERT INTO static_models (key, exe, complete, syscalls, analysed_at, crc, detail)
       VALUES (@key, @exe, @complete, @syscalls, @time, @crc, @detail)
       ON CONFLICT (key) DO UPDATE SET
         exe = excluded.exe, complete = excluded.complete, syscalls = excluded.syscalls,
         analysed_at = excluded.analysed_at, crc = excluded.crc, detail = excluded.detail`,
    );
    const time = this.now();
    this.write("cannot save static models", () => {
      for (const r of rows) upsert.run({ ...r, time });
    });
  }

  /**
   * The static model of the executable with this profile key, its CRC verified (E_CHECKSUM on mismatch); undefined
   * when there is none (or the database predates static models).
   */
  loadStaticModel(key: string): StoredStaticModel | undefined {
    if (this.schemaVersion < 2) return undefined;
    const row = this.read("cannot load a static model", () =>
      this.statement(`SELECT * FROM static_models WHERE key = ?`).get(key),
    ) as StaticRow | undefined;
    if (row === undefined) return undefined;
    const actual = staticCrc(row.complete, row.syscalls, row.detail);
    if (actual !== row.crc) {
      throw new HomeostatError(
        "E_CHECKSUM",
        `the static model of ${row.key} is damaged: its CRC-32 is ${hex(actual)}, ${hex(row.crc)} was stored; ` +
          `homeostat watch analyses the binary again`,
        { file: this.path },
      );
    }
    let syscalls: unknown;
    let detail: unknown;
    try {
      syscalls = JSON.parse(row.syscalls);
      detail = JSON.parse(row.detail);
    } catch {
      syscalls = undefined;
    }
    if (!Array.isArray(syscalls) || !syscalls.every((n) => Number.isInteger(n))) {
      throw new HomeostatError("E_FORMAT", `the static model of ${row.key} is not readable`, { file: this.path });
    }
    return {
      key: row.key,
      exe: row.exe,
      complete: row.complete === 1,
      syscalls: syscalls as number[],
      detail,
      analysedAt: row.analysed_at,
      crc: row.crc,
    };
  }

  /**
   * Appends alerts in one transaction, with their hourly counts (alertBatch.ts). Alerts are stored in the order given
   * (ids ascending), so a batch keeps watch's order.
   */
  addAlerts(alerts: readonly AlertRecord[]): void {
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
    const fresh = this.write("cannot save alerts", () =>
      insertAlertBatch((sql) => this.statement(sql), rows, this.kids),
    );
    // Remembered once committed; bounded (a host with very many executables only looks the rest up).
    if (this.kids.size > MAX_REMEMBERED_KIDS) this.kids.clear();
    for (const [key, kid] of fresh) this.kids.set(key, kid);
  }

  /** Appends response actions in one transaction. */
  addActions(actions: readonly ActionRecord[]): void {
    const insert = this.statement(
      `INSERT INTO actions (time, pid, exe, action, outcome, reason, json)
       VALUES (@time, @pid, @exe, @action, @outcome, @reason, @json)`,
    );
    this.write("cannot save actions", () => {
      for (const a of actions) {
        insert.run({
          time: a.time,
          pid: a.pid,
          exe: a.exe,
          action: a.action,
          outcome: a.outcome,
          reason: a.reason,
          json: jsonText(a.json),
        });
      }
    });
  }

  /** The last `limit` alerts, newest (highest id) first. */
  recentAlerts(limit: number): (AlertRecord & { id: number })[] {
    const rows = this.read("cannot read alerts", () =>
      this.statement(
        `SELECT id, time, rule, priority, pid, exe, key, output, json FROM alerts ORDER BY id DESC LIMIT ?`,
      ).all(checkLimit(limit)),
    ) as AlertRow[];
    return rows.map((r) => ({ ...r, json: JSON.parse(r.json) as unknown }));
  }

  /** The last `limit` actions, newest (highest id) first. */
  recentActions(limit: number): (ActionRecord & { id: number })[] {
    const rows = this.read("cannot read actions", () =>
      this.statement(`SELECT * FROM actions ORDER BY id DESC LIMIT ?`).all(checkLimit(limit)),
    ) as ActionRow[];
    return rows.map((r) => ({ ...r, json: JSON.parse(r.json) as unknown }));
  }

  /** Keeps the newest `keep` alerts and the newest `keep` actions, so that a long-running watch stays bounded on
   * disk; returns how many rows were deleted. */
  prune(keep: number): { alerts: number; actions: number } {
    if (!(Number.isInteger(keep) && keep >= 0))
      throw new HomeostatError("E_USAGE", `prune needs a count >= 0, got ${keep}`);
    return this.write("cannot prune alerts and actions", () => {
      const cut = (table: string): number =>
        this.statement(
          `DELETE FROM ${table} WHERE id <= (SELECT id FROM ${table} ORDER BY id DESC LIMIT 1 OFFSET ?)`,
        ).run(keep).changes;
      return { alerts: cut("alerts"), actions: cut("actions") };
    });
  }

  /** Records the start of a watch run, keeping the newest `keep` runs; returns its id, for updateRun. */
  beginRun(run: { pid: number; backend: string; startedAt: number }, keep = RUNS_KEPT): number {
    const insert = this.statement(
      `INSERT INTO runs (pid, backend, started_at, updated_at, ended_at, events, lost, alerts, summary)
       VALUES (?, ?, ?, ?, NULL, 0, 0, 0, 'null')`,
    );
    const prune = this.statement(
      `DELETE FROM runs WHERE id <= (SELECT id FROM runs ORDER BY id DESC LIMIT 1 OFFSET ?)`,
    );
    return this.write("cannot record a run", () => {
      const id = Number(insert.run(run.pid, run.backend, run.startedAt, run.startedAt).lastInsertRowid);
      prune.run(checkLimit(keep));
      return id;
    });
  }

  /** A run's figures so far (events captured, lost, alerts), and at its end its time and summary. */
  updateRun(id: number, figures: RunFigures): void {
    const update = this.statement(
      `UPDATE runs SET updated_at = @updatedAt, events = @events, lost = @lost, alerts = @alerts,
         ended_at = coalesce(@endedAt, ended_at), summary = coalesce(@summary, summary) WHERE id = @id`,
    );
    this.write("cannot record a run", () =>
      update.run({
        id,
        updatedAt: figures.endedAt ?? this.now(),
        events: figures.events,
        lost: figures.lost,
        alerts: figures.alerts,
        endedAt: figures.endedAt ?? null,
        summary: figures.summary === undefined ? null : jsonText(figures.summary),
      }),
    );
  }

  /** The last `limit` runs, newest first (none before schema version 3). */
  recentRuns(limit: number): StoredRun[] {
    if (this.schemaVersion < 3) return [];
    const rows = this.read("cannot read runs", () =>
      this.statement(`SELECT * FROM runs ORDER BY id DESC LIMIT ?`).all(checkLimit(limit)),
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

  /**
   * A prepared read-only statement on this connection (cached by its text), for the queries of the layers above
   * (the web console's aggregates and pages); a statement that would write is refused (E_USAGE).
   */
  select(sql: string): Database.Statement {
    const stmt = this.statement(sql);
    if (!stmt.reader) throw new HomeostatError("E_USAGE", `not a read-only query: ${sql.slice(0, 60)}`);
    return stmt;
  }

  /** Runs `fn` (reads through `select`) in one read transaction, so that its queries see one snapshot. */
  snapshot<T>(fn: () => T): T {
    return this.read("cannot read the state database", () => this.db.transaction(fn).deferred());
  }

  counts(): { profiles: number; alerts: number; actions: number; staticModels: number } {
    return this.read("cannot count rows", () => {
      const count = (table: string) => (this.statement(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
      return {
        profiles: count("profiles"),
        alerts: count("alerts"),
        actions: count("actions"),
        staticModels: this.schemaVersion >= 2 ? count("static_models") : 0,
      };
    });
  }

  /** SQLite's own consistency check of every page and index: ["ok"] when the file is sound. */
  integrityCheck(): string[] {
    return this.read("cannot check the state database", () =>
      (this.db.pragma("integrity_check") as { integrity_check: string }[]).map((r) => r.integrity_check),
    );
  }

  /** Closes the database (a writer's close checkpoints the WAL into the main file). Idempotent. */
  close(): void {
    if (!this.db.open) return;
    this.statements.clear();
    try {
      this.db.close();
    } catch (err) {
      throw storeError(err, this.path, "cannot close the state database");
    }
  }

  private statement(sql: string): Database.Statement {
    let stmt = this.statements.get(sql);
    if (stmt === undefined) {
      try {
        stmt = this.db.prepare(sql);
      } catch (err) {
        throw storeError(err, this.path, "cannot prepare a query");
      }
      this.statements.set(sql, stmt);
    }
    return stmt;
  }

  private read<T>(what: string, fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      throw storeError(err, this.path, what);
    }
  }

  /** Runs fn in one IMMEDIATE transaction: the write lock is taken up front, so a busy database waits here. */
  private write<T>(what: string, fn: () => T): T {
    try {
      return this.db.transaction(fn).immediate();
    } catch (err) {
      throw storeError(err, this.path, what);
    }
  }

  private verified(row: ProfileRow): StoredProfile {
    const blob = new Uint8Array(row.blob.buffer, row.blob.byteOffset, row.blob.byteLength);
    const actual = crc32(blob);
    if (actual !== row.crc) {
      throw new HomeostatError(
        "E_CHECKSUM",
        `profile ${row.key} (version ${row.version}) is damaged: its model's CRC-32 is ${hex(actual)}, ` +
          `${hex(row.crc)} was stored; delete the profile to let it train again`,
        { file: this.path },
      );
    }
    const { bytes: _bytes, ...summary } = summaryOf({ ...row, bytes: blob.length });
    return { ...summary, blob };
  }
}

function prepareStateDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === "ENOTDIR" || code === "EEXIST"
        ? "a part of the path is a file, not a directory"
        : code === "EROFS"
          ? "the filesystem is read-only"
          : code === "EACCES" || code === "EPERM"
            ? "permission denied"
            : (err as Error).message;
    throw new HomeostatError(
      "E_PERMISSION",
      `cannot create the state directory: ${why}`,
      { file: dir },
      {
        cause: err,
      },
    );
  }
  try {
    // mkdir succeeds on an existing directory we cannot write; find out now, not at the first save.
    accessSync(dir, constants.W_OK | constants.X_OK);
  } catch (err) {
    throw new HomeostatError(
      "E_PERMISSION",
      `cannot write in the state directory: permission denied`,
      { file: dir },
      {
        cause: err,
      },
    );
  }
}

// node:zlib (and the streams it pulls in) is loaded the first time a checksum is needed, not by every read-only
// command that opens the store.
const requireBuiltin = createRequire(import.meta.url);
let zlibCrc32: ((data: string | Uint8Array) => number) | undefined;

function crc32(data: string | Uint8Array): number {
  zlibCrc32 ??= (requireBuiltin("node:zlib") as typeof import("node:zlib")).crc32;
  return zlibCrc32(data);
}

/** The CRC-32 of a static model row's content. */
function staticCrc(complete: number, syscalls: string, detail: string): number {
  return crc32(`${complete}\n${syscalls}\n${detail}`);
}

function validateRecord(r: ProfileRecord, file: string): void {
  const bad = (why: string) =>
    new HomeostatError("E_USAGE", `invalid profile record ${JSON.stringify(r.key)}: ${why}`, { file });
  if (typeof r.key !== "string" || r.key === "") throw bad("empty key");
  if (!PROFILE_STATES.includes(r.state)) throw bad(`unknown state ${JSON.stringify(r.state)}`);
  if (!(r.blob instanceof Uint8Array)) throw bad("blob is not a Uint8Array");
}

function summaryOf(row: SummaryRow & { bytes: number }): ProfileSummary {
  return {
    key: row.key,
    exe: row.exe,
    dev: row.dev,
    ino: row.ino,
    model: row.model,
    state: row.state,
    trainCount: row.train_count,
    lastModCount: row.last_mod_count,
    anomalies: row.anomalies,
    normalTime: row.normal_time,
    version: row.version,
    crc: row.crc,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    bytes: row.bytes,
  };
}

function jsonText(value: unknown): string {
  // JSON.stringify(undefined) is undefined, which the NOT NULL column would refuse.
  return JSON.stringify(value) ?? "null";
}

function checkLimit(limit: number): number {
  if (!Number.isInteger(limit) || limit < 0) {
    throw new HomeostatError("E_USAGE", `limit must be a non-negative integer, not ${limit}`);
  }
  return limit;
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, "0")}`;
}

/** One HomeostatError, naming the database file, for whatever SQLite or the filesystem threw. */
/** SQLite could not set up a WAL reader (it must create or write the -shm file beside the database). */
function isReadOnlyFailure(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === "string" && (code.startsWith("SQLITE_READONLY") || code.startsWith("SQLITE_CANTOPEN"));
}

/** Largest database a reader without write access copies into memory. */
const SNAPSHOT_MAX_BYTES = 1 << 30;

/**
 * A reader who may read the database but not write its directory (an operator's group, say) cannot open a WAL
 * database in place: SQLite needs to create its -shm file. When no -wal file holds pending pages (no watch is
 * writing, or it checkpointed), the database file alone is the whole state: read into memory, marked as a rollback-
 * journal file (header bytes 18-19) since an in-memory copy has no WAL. Otherwise undefined (the caller's error).
 */
function readableSnapshot(file: string): Database.Database | undefined {
  try {
    if (existsSync(`${file}-wal`) && statSync(`${file}-wal`).size > 0) return undefined;
    if (statSync(file).size > SNAPSHOT_MAX_BYTES) return undefined;
    const bytes = readFileSync(file);
    if (bytes.length >= 100 && bytes[18] === 2 && bytes[19] === 2) {
      bytes[18] = 1;
      bytes[19] = 1;
    }
    return openSqlite(bytes, { readonly: true });
  } catch {
    return undefined;
  }
}

function storeError(err: unknown, file: string, what: string): HomeostatError {
  if (err instanceof HomeostatError) return err;
  const code = typeof (err as { code?: unknown }).code === "string" ? (err as { code: string }).code : "";
  const detail = err instanceof Error ? err.message : String(err);
  let ours: ErrorCode = "E_IO";
  let message = `${what}: ${detail}`;
  if (code.startsWith("SQLITE_NOTADB") || code.startsWith("SQLITE_CORRUPT")) {
    ours = "E_CHECKSUM";
    message = `not a SQLite database, or a damaged one (${detail}); move it aside and homeostat watch starts afresh`;
  } else if (code.startsWith("SQLITE_READONLY") || code === "SQLITE_PERM" || code === "SQLITE_AUTH") {
    ours = "E_PERMISSION";
    message = `${what}: the state database is read-only here (${detail})`;
  } else if (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED")) {
    message = `${what}: the state database stayed locked by another process for ${STATE_BUSY_TIMEOUT_MS} ms`;
  } else if (code.startsWith("SQLITE_CONSTRAINT")) {
    // A record the schema refuses (a missing field) is the caller's bug, not an I/O failure.
    ours = "E_USAGE";
  } else if (code === "SQLITE_FULL") {
    message = `${what}: the disk is full`;
  } else if (code === "EACCES" || code === "EPERM") {
    ours = "E_PERMISSION";
  }
  return new HomeostatError(ours, message, { file }, { cause: err });
}
