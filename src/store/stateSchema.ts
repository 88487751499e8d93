// The state database's schema and its migrations: what tables a homeostat state database holds, how an older file
// is brought up to date (in one IMMEDIATE transaction, so a crash leaves the old schema whole or the new one), and
// the refusal of a file that is not a state database or is newer than this build reads.
//
// Versions: 1 profiles, alerts, actions; 2 static_models; 3 what the web console (`homeostat serve`) reads without
// scanning: each profile's state changes (profile_history, written by saveProfiles in the saving transaction),
// alerts counted per hour, rule and priority (alert_counts, kept by a trigger on every insert, so it also counts
// alerts pruned since), indexes of alerts by profile, rule, priority and time and of profiles by state, and watch
// runs (runs). The alert indexes and the count cost inserts: about 25,000 alerts/s in batches of 1,000 instead of
// about 100,000 (bench/serve.js), far above what watch's rate-limited alerts need.

import type { Database } from "./sqliteDatabase.js";
import { HomeostatError } from "../errors.js";

/** The schema version this build writes and reads. */
export const STATE_SCHEMA_VERSION = 3;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS profiles (
  key            TEXT PRIMARY KEY,
  exe            TEXT NOT NULL,
  name           TEXT NOT NULL, -- basename of exe, so that a profile can be found by program name
  dev            INTEGER NOT NULL,
  ino            INTEGER NOT NULL,
  model          TEXT NOT NULL,
  state          TEXT NOT NULL CHECK (state IN ('training', 'frozen', 'normal')),
  train_count    INTEGER NOT NULL,
  last_mod_count INTEGER NOT NULL,
  anomalies      INTEGER NOT NULL,
  normal_time    REAL,
  version        INTEGER NOT NULL,
  crc            INTEGER NOT NULL,
  created_at     REAL NOT NULL,
  updated_at     REAL NOT NULL,
  blob           BLOB NOT NULL -- last, so that listing the other columns never reads its overflow pages
);
CREATE INDEX IF NOT EXISTS profiles_exe ON profiles (exe);
CREATE INDEX IF NOT EXISTS profiles_name ON profiles (name);
CREATE TABLE IF NOT EXISTS alerts (
  id       INTEGER PRIMARY KEY AUTOINCREMENT,
  time     REAL NOT NULL,
  rule     TEXT NOT NULL,
  priority TEXT NOT NULL,
  pid      INTEGER,
  exe      TEXT,
  key      TEXT,
  output   TEXT NOT NULL,
  json     TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS static_models (
  key         TEXT PRIMARY KEY, -- the profile key (path@dev:ino) of the analysed executable
  exe         TEXT NOT NULL,
  complete    INTEGER NOT NULL CHECK (complete IN (0, 1)),
  syscalls    TEXT NOT NULL, -- JSON array of x86_64 numbers
  analysed_at REAL NOT NULL,
  crc         INTEGER NOT NULL, -- CRC-32 of complete, syscalls and detail (staticCrc)
  detail      TEXT NOT NULL -- JSON
);
CREATE TABLE IF NOT EXISTS actions (
  id      INTEGER PRIMARY KEY AUTOINCREMENT,
  time    REAL NOT NULL,
  pid     INTEGER NOT NULL,
  exe     TEXT,
  action  TEXT NOT NULL,
  outcome TEXT NOT NULL,
  reason  TEXT NOT NULL,
  json    TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS profile_history (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  key         TEXT NOT NULL,
  time        REAL NOT NULL,
  before      TEXT, -- null when the profile was first stored
  after       TEXT NOT NULL,
  cause       TEXT NOT NULL, -- 'created', 'lifecycle' (watch's rules), or an administrator's operation
  train_count INTEGER NOT NULL,
  anomalies   INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS profile_history_key ON profile_history (key, id);
CREATE INDEX IF NOT EXISTS profiles_state ON profiles (state);
CREATE INDEX IF NOT EXISTS alerts_key ON alerts (key, id);
CREATE INDEX IF NOT EXISTS alerts_rule ON alerts (rule, id);
CREATE INDEX IF NOT EXISTS alerts_priority ON alerts (priority, id);
CREATE INDEX IF NOT EXISTS alerts_time ON alerts (time);
CREATE INDEX IF NOT EXISTS actions_exe ON actions (exe, id);
CREATE TABLE IF NOT EXISTS alert_counts (
  hour     INTEGER NOT NULL, -- floor(time / 3600)
  rule     TEXT NOT NULL,
  priority TEXT NOT NULL,
  n        INTEGER NOT NULL,
  PRIMARY KEY (hour, rule, priority)
) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS alerts_counted AFTER INSERT ON alerts BEGIN
  INSERT INTO alert_counts (hour, rule, priority, n) VALUES (CAST(NEW.time / 3600 AS INTEGER), NEW.rule, NEW.priority, 1)
    ON CONFLICT (hour, rule, priority) DO UPDATE SET n = n + 1;
END;
CREATE TABLE IF NOT EXISTS runs (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  pid        INTEGER NOT NULL,
  backend    TEXT NOT NULL,
  started_at REAL NOT NULL,
  updated_at REAL NOT NULL,
  ended_at   REAL, -- null while running (or when the run was killed)
  events     INTEGER NOT NULL,
  lost       INTEGER NOT NULL,
  alerts     INTEGER NOT NULL,
  summary    TEXT NOT NULL -- JSON
);
`;

/** Alerts stored before version 3 counted into alert_counts by the migration (recounted whole, should it exist). */
const BACKFILL_ALERT_COUNTS = `
DELETE FROM alert_counts;
INSERT INTO alert_counts (hour, rule, priority, n)
  SELECT CAST(time / 3600 AS INTEGER), rule, priority, count(*) FROM alerts GROUP BY 1, 2, 3;
`;

/**
 * Creates the schema on a new database, migrates an older one (writable only), and refuses one this build cannot
 * read; returns the schema version the file now has.
 */
export function migrate(db: Database.Database, file: string, readonly: boolean): number {
  const check = () => {
    const tables = new Set(
      (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all() as { name: string }[]).map(
        (r) => r.name,
      ),
    );
    if (!tables.has("meta")) {
      if (tables.size === 0) return undefined;
      throw new HomeostatError("E_FORMAT", `not a homeostat state database (it has tables but no meta table)`, {
        file,
      });
    }
    const row = db.prepare(`SELECT value FROM meta WHERE key = 'schema_version'`).get() as
      { value: string } | undefined;
    const version = row === undefined ? NaN : Number(row.value);
    if (!Number.isInteger(version) || version < 1) {
      throw new HomeostatError("E_FORMAT", `not a homeostat state database (no valid schema_version in meta)`, {
        file,
      });
    }
    if (version > STATE_SCHEMA_VERSION) {
      throw new HomeostatError(
        "E_VERSION",
        `state database schema version ${version} is newer than this build reads (${STATE_SCHEMA_VERSION}); ` +
          `upgrade homeostat or use another state directory`,
        { file },
      );
    }
    return version;
  };
  if (readonly) {
    const version = check();
    if (version === undefined) {
      throw new HomeostatError("E_NOT_FOUND", `the state database is empty (homeostat watch has not set it up yet)`, {
        file,
      });
    }
    return version;
  }
  // IMMEDIATE: two processes opening a new database at once serialise here instead of both creating the schema, and
  // a migration is one transaction: a crash leaves the old schema whole, or the new one.
  db.transaction(() => {
    const version = check();
    if (version === STATE_SCHEMA_VERSION) return;
    // New, or an older version: every table, index and trigger is CREATE ... IF NOT EXISTS, so SCHEMA creates what
    // is missing and leaves existing rows alone; alerts stored before version 3 are counted once.
    db.exec(SCHEMA);
    if (version !== undefined && version < 3) db.exec(BACKFILL_ALERT_COUNTS);
    db.prepare(`INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)`).run(
      String(STATE_SCHEMA_VERSION),
    );
  }).immediate();
  return STATE_SCHEMA_VERSION;
}
