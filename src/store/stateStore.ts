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
//
// StateStore is the one door: opening is stateDatabase.ts, each table's records their own module (profileRecords,
// staticModelRecords, alertRecords, actionRecords, runRecords, retention), all over one StoreConnection.

import type { Database } from "./sqliteDatabase.js";
import { addActions, type ActionRecord, recentActions } from "./actionRecords.js";
import { addAlerts, type AlertRecord, recentAlerts } from "./alertRecords.js";
import {
  deleteProfile,
  findProfiles,
  listProfiles,
  loadAllProfiles,
  loadProfile,
  type ProfileRecord,
  type ProfileSummary,
  saveProfiles,
  type StoredProfile,
} from "./profileRecords.js";
import { pruneAlertsAndActions } from "./retention.js";
import { beginRun, recentRuns, type RunFigures, RUNS_KEPT, type StoredRun, updateRun } from "./runRecords.js";
import { openStateDatabase } from "./stateDatabase.js";
import {
  loadStaticModel,
  saveStaticModels,
  type StaticModelRecord,
  type StoredStaticModel,
} from "./staticModelRecords.js";
import { StoreConnection } from "./storeConnection.js";
import { HomeostatError } from "../errors.js";

/**
 * The schema this build writes; a database from a newer build is refused rather than misread. 1: profiles, alerts,
 * actions; 2: static_models; 3: profile_history, alert_counts, runs and the alert indexes the console reads; 4: alert
 * counts kept per batch, alerts indexed by rule and by profile (kid) only (an older database is migrated when opened
 * for writing, in one transaction; stateSchema.ts).
 */
export { ALERT_EPOCH, ALERT_EPOCH_BITS, STATE_SCHEMA_VERSION } from "./stateSchema.js";
export type { ProfileState } from "../lifecycle/lifecycleSettings.js";
export { STATE_DB_NAME } from "./stateDatabase.js";
export { DEFAULT_STATE_DIR, defaultStateDir } from "./stateDir.js";
export { STATE_BUSY_TIMEOUT_MS } from "./storeConnection.js";
export type { ActionRecord } from "./actionRecords.js";
export type { AlertRecord } from "./alertRecords.js";
export type { ProfileRecord, ProfileSummary, StoredProfile } from "./profileRecords.js";
export { RUNS_KEPT, type RunFigures, type StoredRun } from "./runRecords.js";
export type { StaticModelRecord, StoredStaticModel } from "./staticModelRecords.js";

export interface StateStoreOptions {
  /**
   * Open an existing database for reading only: no directory or database is created (E_NOT_FOUND when there is
   * none). Like any WAL reader, SQLite may leave empty -wal and -shm files beside an existing database.
   */
  readonly?: boolean;
  /** The clock for createdAt/updatedAt, in epoch seconds; tests fix it. */
  now?: () => number;
}

export class StateStore {
  /** The database file. */
  readonly path: string;
  readonly dir: string;
  readonly readonly: boolean;
  /** The schema version of the file (older than STATE_SCHEMA_VERSION only when opened read-only). */
  readonly schemaVersion: number;
  private readonly conn: StoreConnection;
  /** Profile keys and their kid in alert_keys (which never changes once committed). */
  private readonly kids = new Map<string, number>();

  private constructor(conn: StoreConnection, dir: string, readonly: boolean) {
    this.conn = conn;
    this.schemaVersion = conn.schemaVersion;
    this.dir = dir;
    this.path = conn.file;
    this.readonly = readonly;
  }

  /**
   * Opens (creating when needed, unless read-only) `dir/homeostat.db`. The directory is created with mode 0700
   * and the database file with 0600: alerts carry command lines and paths of the watched host.
   */
  static open(dir: string, options: StateStoreOptions = {}): StateStore {
    const readonly = options.readonly === true;
    const now = options.now ?? (() => Date.now() / 1000);
    const opened = openStateDatabase(dir, readonly);
    return new StateStore(new StoreConnection(opened.db, opened.file, opened.version, now), opened.dir, readonly);
  }

  /**
   * Upserts every profile in ONE transaction: after a crash either all of them have their new version or none.
   * A record with `expectVersion` is written only if the stored version is still that one (0: not stored), checked
   * inside the transaction, so that `watch` never overwrites a change `homeostat profiles` made meanwhile; the keys
   * skipped for that reason are returned. A profile's first save, a change of its state, and any save with a
   * `cause` (an administrator's operation) add a row to its history, in the same transaction.
   */
  saveProfiles(records: readonly (ProfileRecord & { expectVersion?: number; cause?: string })[]): string[] {
    return saveProfiles(this.conn, records);
  }

  /** The profile with this key, its blob's CRC verified (E_CHECKSUM on mismatch); undefined when absent. */
  loadProfile(key: string): StoredProfile | undefined {
    return loadProfile(this.conn, key);
  }

  /** Every profile, each blob's CRC verified; ordered by exe, then key. */
  loadAllProfiles(): StoredProfile[] {
    return loadAllProfiles(this.conn);
  }

  /** Every profile without its blob (so no CRC check), ordered by exe, then key. */
  listProfiles(): ProfileSummary[] {
    return listProfiles(this.conn);
  }

  /**
   * Profiles matching a selector, trying in turn: the exact key; the exact executable path (several when the
   * binary was replaced, each version being its own dev:ino); the executable's basename. The first rule that
   * matches anything wins, so a key never also returns its namesakes.
   */
  findProfiles(selector: string): ProfileSummary[] {
    return findProfiles(this.conn, selector);
  }

  /** Deletes one profile, and the static model of its executable; false when there was no profile with this key. */
  deleteProfile(key: string): boolean {
    return deleteProfile(this.conn, key);
  }

  /** Upserts static models in ONE transaction (a row is its executable's newest analysis). */
  saveStaticModels(records: readonly StaticModelRecord[]): void {
    saveStaticModels(this.conn, records);
  }

  /**
   * The static model of the executable with this profile key, its CRC verified (E_CHECKSUM on mismatch); undefined
   * when there is none (or the database predates static models).
   */
  loadStaticModel(key: string): StoredStaticModel | undefined {
    return loadStaticModel(this.conn, key);
  }

  /**
   * Appends alerts in one transaction, with their hourly counts (alertBatch.ts). Alerts are stored in the order given
   * (ids ascending), so a batch keeps watch's order.
   */
  addAlerts(alerts: readonly AlertRecord[]): void {
    addAlerts(this.conn, this.kids, alerts);
  }

  /** Appends response actions in one transaction. */
  addActions(actions: readonly ActionRecord[]): void {
    addActions(this.conn, actions);
  }

  /** The last `limit` alerts, newest (highest id) first. */
  recentAlerts(limit: number): (AlertRecord & { id: number })[] {
    return recentAlerts(this.conn, limit);
  }

  /** The last `limit` actions, newest (highest id) first. */
  recentActions(limit: number): (ActionRecord & { id: number })[] {
    return recentActions(this.conn, limit);
  }

  /** Keeps the newest `keep` alerts and the newest `keep` actions, so that a long-running watch stays bounded on
   * disk; returns how many rows were deleted. */
  prune(keep: number): { alerts: number; actions: number } {
    return pruneAlertsAndActions(this.conn, keep);
  }

  /** Records the start of a watch run, keeping the newest `keep` runs; returns its id, for updateRun. */
  beginRun(run: { pid: number; backend: string; startedAt: number }, keep = RUNS_KEPT): number {
    return beginRun(this.conn, run, keep);
  }

  /** A run's figures so far (events captured, lost, alerts), and at its end its time and summary. */
  updateRun(id: number, figures: RunFigures): void {
    updateRun(this.conn, id, figures);
  }

  /** The last `limit` runs, newest first (none before schema version 3). */
  recentRuns(limit: number): StoredRun[] {
    return recentRuns(this.conn, limit);
  }

  /**
   * A prepared read-only statement on this connection (cached by its text), for the queries of the layers above
   * (the web console's aggregates and pages); a statement that would write is refused (E_USAGE).
   */
  select(sql: string): Database.Statement {
    const stmt = this.conn.statement(sql);
    if (!stmt.reader) throw new HomeostatError("E_USAGE", `not a read-only query: ${sql.slice(0, 60)}`);
    return stmt;
  }

  /** Runs `fn` (reads through `select`) in one read transaction, so that its queries see one snapshot. */
  snapshot<T>(fn: () => T): T {
    return this.conn.read("cannot read the state database", () => this.conn.db.transaction(fn).deferred());
  }

  counts(): { profiles: number; alerts: number; actions: number; staticModels: number } {
    return this.conn.read("cannot count rows", () => {
      const count = (table: string) =>
        (this.conn.statement(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
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
    return this.conn.read("cannot check the state database", () =>
      (this.conn.db.pragma("integrity_check") as { integrity_check: string }[]).map((r) => r.integrity_check),
    );
  }

  /** Closes the database (a writer's close checkpoints the WAL into the main file). Idempotent. */
  close(): void {
    this.conn.close();
  }
}
