// The open state database as the store's record modules use it: statements prepared once per connection and kept by
// their text, reads and IMMEDIATE write transactions, the schema version of the file and the clock of the store.
// Every failure becomes one HomeostatError naming the database file (storeError), whatever SQLite or the
// filesystem threw.

import type { Database } from "./sqliteDatabase.js";
import { HomeostatError, type ErrorCode } from "../errors.js";

/** How long one side waits for the other's lock before giving up (watch writing, profiles reading). */
export const STATE_BUSY_TIMEOUT_MS = 5000;

export class StoreConnection {
  readonly db: Database.Database;
  /** The database file, named in every error. */
  readonly file: string;
  /** The schema version of the file (older than STATE_SCHEMA_VERSION only when opened read-only). */
  readonly schemaVersion: number;
  /** The clock for stored times, in epoch seconds. */
  readonly now: () => number;
  private readonly statements = new Map<string, Database.Statement>();

  constructor(db: Database.Database, file: string, schemaVersion: number, now: () => number) {
    this.db = db;
    this.file = file;
    this.schemaVersion = schemaVersion;
    this.now = now;
  }

  /** A prepared statement, prepared on first use and kept by its text. */
  statement(sql: string): Database.Statement {
    let stmt = this.statements.get(sql);
    if (stmt === undefined) {
      try {
        stmt = this.db.prepare(sql);
      } catch (err) {
        throw storeError(err, this.file, "cannot prepare a query");
      }
      this.statements.set(sql, stmt);
    }
    return stmt;
  }

  read<T>(what: string, fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      throw storeError(err, this.file, what);
    }
  }

  /** Runs fn in one IMMEDIATE transaction: the write lock is taken up front, so a busy database waits here. */
  write<T>(what: string, fn: () => T): T {
    try {
      return this.db.transaction(fn).immediate();
    } catch (err) {
      throw storeError(err, this.file, what);
    }
  }

  /** Closes the database (a writer's close checkpoints the WAL into the main file). Idempotent. */
  close(): void {
    if (!this.db.open) return;
    this.statements.clear();
    try {
      this.db.close();
    } catch (err) {
      throw storeError(err, this.file, "cannot close the state database");
    }
  }
}

/** One HomeostatError, naming the database file, for whatever SQLite or the filesystem threw. */
export function storeError(err: unknown, file: string, what: string): HomeostatError {
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
