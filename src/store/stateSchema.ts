// The state database's schema and its migrations: what tables a homeostat state database holds, how an older file
// is brought up to date (in one IMMEDIATE transaction, so a crash leaves the old schema whole or the new one), and
// the refusal of a file that is not a state database or is newer than this build reads.

import type { Database } from "./sqliteDatabase.js";
import { HomeostatError } from "../errors.js";

/** The schema version this build writes and reads. */
export const STATE_SCHEMA_VERSION = 2;

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
    // New, or version 1 (2 added static_models): every table is CREATE ... IF NOT EXISTS, so SCHEMA creates what is
    // missing and leaves existing rows alone.
    db.exec(SCHEMA);
    db.prepare(`INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)`).run(
      String(STATE_SCHEMA_VERSION),
    );
  }).immediate();
  return STATE_SCHEMA_VERSION;
}
