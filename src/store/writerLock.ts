// One writer per state directory: `watch` holds an advisory lock on `<state dir>/watch.lock` for as long as it runs,
// so that a second `watch` on the same directory refuses to start instead of silently overwriting the first's
// training. The lock is SQLite's own (an EXCLUSIVE transaction held open on a small database file): POSIX record
// locks underneath, which the kernel releases when the process ends, however it ends, so a crash never leaves a
// stale lock. The holder's pid is written beside it (`watch.pid`) only to name it in the refusal. Readers
// (`profiles list`, the console) do not take it.

import { readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { type Database, openSqlite } from "./sqliteDatabase.js";
import { HomeostatError } from "../errors.js";

const LOCK_FILE = "watch.lock";
const PID_FILE = "watch.pid";

export class WriterLock {
  private db: Database.Database | null;
  readonly file: string;

  private constructor(db: Database.Database, file: string) {
    this.db = db;
    this.file = file;
  }

  /**
   * Takes the writer lock of `dir` (which must exist), or throws E_LOCKED naming the pid that holds it. Never
   * waits: a second writer is a mistake to report, not a queue to join.
   */
  static acquire(dir: string): WriterLock {
    const file = path.join(dir, LOCK_FILE);
    let db: Database.Database;
    try {
      db = openSqlite(file, { timeout: 0 });
    } catch (err) {
      throw new HomeostatError(
        "E_PERMISSION",
        `cannot open the writer lock: ${(err as Error).message}`,
        { file },
        { cause: err },
      );
    }
    try {
      // No journal file: nothing is ever written here, and a full disk must not keep watch from starting.
      db.pragma("journal_mode = MEMORY");
      db.exec("BEGIN EXCLUSIVE");
    } catch (err) {
      db.close();
      const code = (err as { code?: unknown }).code;
      if (typeof code === "string" && (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED"))) {
        const holder = holderPid(dir);
        const who = holder !== undefined ? `homeostat watch (pid ${holder})` : "another homeostat watch";
        throw new HomeostatError(
          "E_LOCKED",
          `the state directory is in use by ${who}; one watch per state directory (--state picks another)`,
          { file: dir },
        );
      }
      throw new HomeostatError(
        "E_IO",
        `cannot take the writer lock: ${(err as Error).message}`,
        { file },
        { cause: err },
      );
    }
    writePid(dir);
    return new WriterLock(db, file);
  }

  /**
   * The watch holding the lock of `dir`, without taking it (taking it, even for a moment, could make a starting
   * watch fail): the pid in watch.pid, alive, holding a POSIX lock on watch.lock's inode by /proc/locks (or, where
   * /proc/locks cannot be read, merely alive), and since when (watch.pid's time: written when the lock was taken).
   * undefined when no watch holds it.
   */
  static holder(dir: string): { pid: number; since: number } | undefined {
    const pid = holderPid(dir);
    if (pid === undefined) return undefined;
    let since: number;
    let lockInode: number;
    try {
      since = statSync(path.join(dir, PID_FILE)).mtimeMs / 1000;
      lockInode = statSync(path.join(dir, LOCK_FILE)).ino;
    } catch {
      return undefined;
    }
    const held = locksHeldBy(pid, lockInode);
    if (held === false) return undefined;
    if (held === undefined && !alive(pid)) return undefined;
    return { pid, since };
  }

  /** Releases the lock (idempotent). The pid file stays: it names no one once the lock is free. */
  release(): void {
    const db = this.db;
    this.db = null;
    if (db === null) return;
    try {
      db.exec("ROLLBACK");
    } finally {
      db.close();
    }
  }
}

function writePid(dir: string): void {
  const file = path.join(dir, PID_FILE);
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, `${process.pid}\n`, { mode: 0o600 });
    renameSync(tmp, file);
  } catch {
    // Only the refusal message of a second writer uses it.
  }
}

function holderPid(dir: string): number | undefined {
  try {
    const text = readFileSync(path.join(dir, PID_FILE), "utf8").trim();
    return /^[1-9][0-9]{0,9}$/.test(text) ? Number(text) : undefined;
  } catch {
    return undefined;
  }
}

/** Whether /proc/locks shows `pid` holding a lock on inode `ino`; undefined when it cannot be read. */
function locksHeldBy(pid: number, ino: number): boolean | undefined {
  let text: string;
  try {
    text = readFileSync("/proc/locks", "utf8");
  } catch {
    return undefined;
  }
  // "1: POSIX  ADVISORY  WRITE 1234 08:01:5678 1073741824 1073742335": pid, then major:minor:inode.
  for (const line of text.split("\n")) {
    const m = /\s(\d+)\s+[0-9a-f]+:[0-9a-f]+:(\d+)\s/.exec(line);
    if (m !== null && Number(m[1]) === pid && Number(m[2]) === ino) return true;
  }
  return false;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
