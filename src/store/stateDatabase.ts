// Opening the state database, `<state dir>/homeostat.db`. A writer makes the directory (0700) and the file (0600:
// alerts carry command lines and paths of the watched host), runs it in WAL mode with synchronous=FULL (why that
// survives `kill -9` and power loss: stateStore.ts) and migrates an older schema (stateSchema.ts). A reader opens
// an existing file only, and when it may read the file but not write its directory, reads a snapshot of it instead.

import { chmodSync, existsSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { type Database, openSqlite } from "./sqliteDatabase.js";
import { migrate } from "./stateSchema.js";
import { prepareStateDir } from "./stateDir.js";
import { STATE_BUSY_TIMEOUT_MS, storeError } from "./storeConnection.js";
import { HomeostatError } from "../errors.js";

/** The database file in the state directory. */
export const STATE_DB_NAME = "homeostat.db";

/** Largest database a reader without write access copies into memory. */
const SNAPSHOT_MAX_BYTES = 1 << 30;

/** An open state database: the connection, the schema version of the file, its directory and path (resolved). */
export interface OpenStateDatabase {
  db: Database.Database;
  version: number;
  dir: string;
  file: string;
}

/** Opens (creating when needed, unless read-only) `dir/homeostat.db`, migrated to this build's schema for writing. */
export function openStateDatabase(dir: string, readonly: boolean): OpenStateDatabase {
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
    if (!readonly) useWal(db, file);
    version = migrate(db, file, readonly);
  } catch (err) {
    db.close();
    const snapshot = readonly && isReadOnlyFailure(err) ? readableSnapshot(file) : undefined;
    if (snapshot === undefined) throw storeError(err, file, "cannot open the state database");
    db = snapshot;
    version = migrate(db, file, readonly);
  }
  return { db, version, dir: resolved, file };
}

/** Puts a writer's database in WAL mode with synchronous=FULL, or refuses a filesystem where WAL cannot work. */
function useWal(db: Database.Database, file: string): void {
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

/** SQLite could not set up a WAL reader (it must create or write the -shm file beside the database). */
function isReadOnlyFailure(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === "string" && (code.startsWith("SQLITE_READONLY") || code.startsWith("SQLITE_CANTOPEN"));
}

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
