// The state database's schema and its migrations: what tables a homeostat state database holds, how an older file
// is brought up to date (in one IMMEDIATE transaction, so a crash leaves the old schema whole or the new one), and
// the refusal of a file that is not a state database or is newer than this build reads.
//
// Versions: 1 profiles, alerts, actions; 2 static_models; 3 what the web console (`homeostat serve`) reads without
// scanning: each profile's state changes (profile_history, written by saveProfiles in the saving transaction),
// alerts counted per hour, rule and priority (alert_counts, so that it also counts alerts pruned since), indexes of
// alerts and of profiles by state, and watch runs (runs). 4 makes storing alerts cheap again: version 3's per-row
// trigger (which made SQLite journal every insert as a statement that could fail halfway) and its indexes of alerts
// by profile key (a batch from many programs spread over as many index pages), priority and time made most of the
// cost of an insert. Now alert_counts is kept by addAlerts, one upsert per hour, rule and priority of each batch, and
// also says which alert ids each count covers (first_id, last_id), which is how the console finds alerts by priority
// or time without an index on either; alerts are indexed by rule, and by their profile through a small integer
// (kid, from the alert_keys dictionary) instead of the key's text, within epochs of 16,384 alerts, so that a batch's
// entries land together (STEP_4_TABLES says why).
//
// A new database is made by the same steps an old one takes (the version 3 schema, then the step to 4), so that
// there is one way to reach each version.

import type { Database } from "./sqliteDatabase.js";
import { HomeostatError } from "../errors.js";

/** The schema version this build writes and reads. */
export const STATE_SCHEMA_VERSION = 4;

/**
 * Version 3's tables and the indexes version 4 kept (every statement IF NOT EXISTS: it also completes a version 1 or
 * 2 file). Version 3's trigger and its alert indexes by key, priority and time are left out: every file goes on to
 * version 4, which drops them.
 */
const SCHEMA_3 = `
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
CREATE INDEX IF NOT EXISTS alerts_rule ON alerts (rule, id);
CREATE INDEX IF NOT EXISTS actions_exe ON actions (exe, id);
CREATE TABLE IF NOT EXISTS alert_counts (
  hour     INTEGER NOT NULL, -- floor(time / 3600)
  rule     TEXT NOT NULL,
  priority TEXT NOT NULL,
  n        INTEGER NOT NULL,
  PRIMARY KEY (hour, rule, priority)
) WITHOUT ROWID;
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

/** Alerts per epoch of the profile index: ids id >> ALERT_EPOCH_BITS apart are in different epochs. */
export const ALERT_EPOCH_BITS = 14;
/** The epoch of an alert in SQL, as the index has it (a query must say it the same way to use the index). */
export const ALERT_EPOCH = `(id >> ${ALERT_EPOCH_BITS})`;

/**
 * Version 3 to 4: the trigger and the key, priority and time indexes go; alerts get their profile's kid (every
 * stored alert is rewritten once, here), indexed by epoch first: (id >> 14, kid, id). The epoch keeps each batch's
 * index entries together, in the newest epoch's few pages, where an index by kid alone spread a batch of alerts from
 * many programs over as many pages of a large index, each written to the log and checkpointed; a query by profile
 * reads it one epoch at a time, newest first. alert_keys also keeps each key's newest alert id (for the profile list,
 * sorted by last alert), and each hourly count gets the ids of the alerts it covers. Written to complete a file that
 * has some of it already (IF NOT EXISTS, columns added only when missing), as SCHEMA_3 is.
 */
const STEP_4_TABLES = `
CREATE TABLE IF NOT EXISTS alert_keys (
  kid     INTEGER PRIMARY KEY,
  key     TEXT NOT NULL UNIQUE,
  last_id INTEGER -- the newest alert of this key (maybe pruned since)
);
INSERT INTO alert_keys (key, last_id) SELECT key, max(id) FROM alerts WHERE key IS NOT NULL GROUP BY key
  ON CONFLICT (key) DO UPDATE SET last_id = max(coalesce(last_id, 0), excluded.last_id);
DROP TRIGGER IF EXISTS alerts_counted;
DROP INDEX IF EXISTS alerts_key;
DROP INDEX IF EXISTS alerts_priority;
DROP INDEX IF EXISTS alerts_time;
`;
const STEP_4_ROWS = `
UPDATE alerts SET kid = (SELECT k.kid FROM alert_keys k WHERE k.key = alerts.key) WHERE key IS NOT NULL;
CREATE INDEX IF NOT EXISTS alerts_kid ON alerts (${ALERT_EPOCH}, kid, id);
UPDATE alert_counts SET first_id = r.lo, last_id = r.hi
  FROM (SELECT CAST(time / 3600 AS INTEGER) AS hour, rule, priority, min(id) AS lo, max(id) AS hi
        FROM alerts GROUP BY 1, 2, 3) AS r
  WHERE r.hour = alert_counts.hour AND r.rule = alert_counts.rule AND r.priority = alert_counts.priority;
`;

function stepTo4(db: Database.Database): void {
  db.exec(STEP_4_TABLES);
  const columns = (table: string) =>
    new Set((db.prepare(`SELECT name FROM pragma_table_info(?)`).all(table) as { name: string }[]).map((r) => r.name));
  // alerts.kid: alert_keys.kid of key, null when key is. alert_counts' first_id and last_id: the lowest and highest
  // alert id counted there (null when every alert it counted was stored before version 4 and pruned since).
  if (!columns("alerts").has("kid")) db.exec(`ALTER TABLE alerts ADD COLUMN kid INTEGER`);
  const counts = columns("alert_counts");
  if (!counts.has("first_id")) db.exec(`ALTER TABLE alert_counts ADD COLUMN first_id INTEGER`);
  if (!counts.has("last_id")) db.exec(`ALTER TABLE alert_counts ADD COLUMN last_id INTEGER`);
  db.exec(STEP_4_ROWS);
}

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
    // New, or an older version: up to 3, every table and index is CREATE ... IF NOT EXISTS, so SCHEMA_3 creates
    // what is missing and leaves existing rows alone; alerts stored before version 3 are counted once.
    if (version === undefined || version < 3) {
      db.exec(SCHEMA_3);
      if (version !== undefined) db.exec(BACKFILL_ALERT_COUNTS);
    }
    stepTo4(db);
    db.prepare(`INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)`).run(
      String(STATE_SCHEMA_VERSION),
    );
  }).immediate();
  return STATE_SCHEMA_VERSION;
}
