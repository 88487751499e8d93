// The fleet database's schema (`<state dir>/fleet.db`, written by `homeostat fleet serve`): the hosts that reported,
// the alerts and actions they sent, each keyed by its message id (`<host>.<run>.<seq>`, UNIQUE, so that a message
// delivered twice, by JetStream after a crash or by a host replaying its spool after the stream's dedup window, is
// stored once), the profile snapshots of the profiles bucket and the pooled profiles. Triggers keep the per-host
// counts and the hourly rollup the console reads, counting only rows actually inserted (an ignored duplicate fires
// no trigger). Created in one IMMEDIATE transaction; a newer file is refused rather than misread.

import { HomeostatError } from "../errors.js";
import type { Database } from "../store/sqliteDatabase.js";

/** The schema version this build writes and reads. */
export const FLEET_SCHEMA_VERSION = 3;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS hosts (
  id             TEXT PRIMARY KEY,
  first_seen     REAL NOT NULL, -- epoch seconds of its first message stored (the message's time)
  last_seen      REAL NOT NULL, -- of its newest message, any kind
  last_heartbeat REAL,          -- of its newest heartbeat
  run            TEXT,          -- the watch run that sent that heartbeat
  heartbeat_seq  INTEGER,       -- and its sequence number in that run (orders two of one run made in one ms)
  started        REAL,          -- when that run started
  version        TEXT,
  counters       TEXT,          -- JSON: that heartbeat's counters
  events_rate    REAL,          -- events/s between its last two heartbeats of one run
  alerts         INTEGER NOT NULL DEFAULT 0, -- alerts stored (trigger)
  actions        INTEGER NOT NULL DEFAULT 0  -- actions stored (trigger)
);
CREATE TABLE IF NOT EXISTS alerts (
  id       INTEGER PRIMARY KEY AUTOINCREMENT,
  msg_id   TEXT NOT NULL UNIQUE,
  host     TEXT NOT NULL,
  exe      TEXT,          -- the program's path on that host (proc.exepath)
  program  TEXT,          -- its content identity, when the host knew it (else found through profiles)
  time     REAL NOT NULL, -- the alert's time, epoch seconds
  rule     TEXT NOT NULL,
  priority TEXT NOT NULL,
  output   TEXT NOT NULL,
  sent     REAL NOT NULL, -- the message's time (the host made it), epoch seconds
  stored   REAL NOT NULL, -- when the batch that holds it was committed
  json     TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS alerts_host ON alerts (host, id);
CREATE INDEX IF NOT EXISTS alerts_exe ON alerts (exe, host, id);
CREATE INDEX IF NOT EXISTS alerts_program ON alerts (program, host, id);
CREATE TABLE IF NOT EXISTS actions (
  id      INTEGER PRIMARY KEY AUTOINCREMENT,
  msg_id  TEXT NOT NULL UNIQUE,
  host    TEXT NOT NULL,
  exe     TEXT,
  time    REAL NOT NULL,
  pid     INTEGER NOT NULL,
  action  TEXT NOT NULL,
  outcome TEXT NOT NULL,
  reason  TEXT NOT NULL,
  sent    REAL NOT NULL,
  stored  REAL NOT NULL,
  json    TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS actions_host ON actions (host, id);
CREATE TABLE IF NOT EXISTS profiles (
  program     TEXT NOT NULL, -- content identity (b-<build-id> or s-<sha256 prefix>)
  host        TEXT NOT NULL,
  path        TEXT NOT NULL,
  name        TEXT NOT NULL, -- base name of path
  model       TEXT NOT NULL,
  state       TEXT NOT NULL,
  train_count INTEGER NOT NULL,
  version     INTEGER NOT NULL, -- the profile's version in the host's store
  time        REAL NOT NULL,    -- the snapshot's time, epoch seconds
  revision    INTEGER NOT NULL, -- the KV revision it came from
  updated     REAL NOT NULL,    -- when stored here
  blob        BLOB NOT NULL,    -- the profile's blob as the host's store keeps it
  base        INTEGER,          -- the pooled version the profile started from; NULL: learnt on its host alone
  PRIMARY KEY (program, host)
);
CREATE INDEX IF NOT EXISTS profiles_host ON profiles (host);
CREATE INDEX IF NOT EXISTS profiles_name ON profiles (name);
CREATE TABLE IF NOT EXISTS pooled (
  program     TEXT PRIMARY KEY,
  model       TEXT NOT NULL,
  state       TEXT NOT NULL,
  hosts       TEXT NOT NULL, -- JSON array of the host ids merged
  sources     TEXT NOT NULL, -- JSON: the profiles bucket revision of each snapshot merged
  train_count INTEGER NOT NULL,
  version     INTEGER NOT NULL, -- 1 for the first pooling of the program, +1 each time
  time        REAL NOT NULL, -- when pooled, epoch seconds
  revision    INTEGER NOT NULL -- the pooled bucket's revision of the put
);
CREATE TABLE IF NOT EXISTS alert_hours (
  hour INTEGER NOT NULL, -- floor(time / 3600)
  host TEXT NOT NULL,
  n    INTEGER NOT NULL,
  PRIMARY KEY (hour, host)
) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS alerts_counted AFTER INSERT ON alerts BEGIN
  UPDATE hosts SET alerts = alerts + 1 WHERE id = NEW.host;
  INSERT INTO alert_hours (hour, host, n) VALUES (CAST(NEW.time / 3600 AS INTEGER), NEW.host, 1)
    ON CONFLICT (hour, host) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER IF NOT EXISTS actions_counted AFTER INSERT ON actions BEGIN
  UPDATE hosts SET actions = actions + 1 WHERE id = NEW.host;
END;
`;

/**
 * Creates the schema on a new database and refuses one this build cannot read (another kind of file, or a newer
 * version); returns the schema version. Read-only openers only check.
 */
export function migrateFleet(db: Database.Database, file: string, readonly: boolean): number {
  const check = (): number | undefined => {
    const tables = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all() as { name: string }[];
    if (!tables.some((t) => t.name === "meta")) {
      if (tables.length === 0) return undefined;
      throw new HomeostatError("E_FORMAT", `not a homeostat fleet database (it has tables but no meta table)`, {
        file,
      });
    }
    const row = db.prepare(`SELECT value FROM meta WHERE key = 'fleet_schema_version'`).get() as
      { value: string } | undefined;
    const version = row === undefined ? NaN : Number(row.value);
    if (!Number.isInteger(version) || version < 1) {
      throw new HomeostatError("E_FORMAT", `not a homeostat fleet database (no fleet_schema_version in meta)`, {
        file,
      });
    }
    if (version > FLEET_SCHEMA_VERSION) {
      throw new HomeostatError(
        "E_VERSION",
        `fleet database schema version ${version} is newer than this build reads (${FLEET_SCHEMA_VERSION}); ` +
          `upgrade homeostat or use another state directory`,
        { file },
      );
    }
    return version;
  };
  if (readonly) {
    const version = check();
    if (version === undefined) throw new HomeostatError("E_NOT_FOUND", `the fleet database is empty`, { file });
    return version;
  }
  db.transaction(() => {
    const found = check();
    if (found === FLEET_SCHEMA_VERSION) return;
    // Version 1 had no profiles.base: its snapshots count as learnt on their hosts alone, until replaced.
    if (found === 1) addColumn(db, "profiles", "base", "INTEGER");
    // Versions 1 and 2 had no hosts.heartbeat_seq (until a host's next heartbeat, its last one is ordered by time)
    // and no alerts.program (their alerts are found through the profiles, by path).
    if (found !== undefined && found < 3) {
      addColumn(db, "hosts", "heartbeat_seq", "INTEGER");
      addColumn(db, "alerts", "program", "TEXT");
    }
    db.exec(SCHEMA);
    db.prepare(`INSERT OR REPLACE INTO meta (key, value) VALUES ('fleet_schema_version', ?)`).run(
      String(FLEET_SCHEMA_VERSION),
    );
  }).immediate();
  return FLEET_SCHEMA_VERSION;
}

/** Adds a column unless the table has it already (a migration that completes a file, as the state store's do). */
function addColumn(db: Database.Database, table: string, column: string, type: string): void {
  const has = (db.prepare(`SELECT name FROM pragma_table_info(?)`).all(table) as { name: string }[]).some(
    (c) => c.name === column,
  );
  if (!has) db.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${type}`);
}
