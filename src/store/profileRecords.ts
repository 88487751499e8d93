// The profiles table of the state database: each executable's pH profile (lifecycle counters and the serialized
// model, its blob carrying a CRC-32 checked on every load), saved many at a time in one transaction, never over a
// version someone else wrote meanwhile, and with a row of history for each change of state (profile_history, which
// the console reads). Deleting a profile deletes its static model and history too.

import path from "node:path";
import type { StoreConnection } from "./storeConnection.js";
import { crc32, hex } from "./storeValues.js";
import { HomeostatError } from "../errors.js";
import type { ProfileState } from "../lifecycle/lifecycleSettings.js";

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

/** A record to save, with the version it must find stored (0: none) and the cause of an administrator's change. */
export type ProfileSave = ProfileRecord & { expectVersion?: number; cause?: string };

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

/** StateStore.saveProfiles: upserts every profile in one transaction; returns the keys skipped for their version. */
export function saveProfiles(conn: StoreConnection, records: readonly ProfileSave[]): string[] {
  for (const r of records) validateRecord(r, conn.file);
  const upsert = conn.statement(
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
  const current = conn.statement("SELECT version, state FROM profiles WHERE key = ?");
  const history = conn.statement(
    `INSERT INTO profile_history (key, time, before, after, cause, train_count, anomalies)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
  );
  const conflicts: string[] = [];
  const time = conn.now();
  conn.write("cannot save profiles", () => {
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

/** StateStore.loadProfile: the profile with this key, its blob's CRC verified; undefined when absent. */
export function loadProfile(conn: StoreConnection, key: string): StoredProfile | undefined {
  const row = conn.read("cannot load a profile", () =>
    conn.statement(`SELECT ${PROFILE_COLUMNS} FROM profiles WHERE key = ?`).get(key),
  ) as ProfileRow | undefined;
  return row === undefined ? undefined : verified(row, conn.file);
}

/** StateStore.loadAllProfiles: every profile, each blob's CRC verified; ordered by exe, then key. */
export function loadAllProfiles(conn: StoreConnection): StoredProfile[] {
  const rows = conn.read("cannot load profiles", () =>
    conn.statement(`SELECT ${PROFILE_COLUMNS} FROM profiles ORDER BY exe, key`).all(),
  ) as ProfileRow[];
  return rows.map((row) => verified(row, conn.file));
}

/** StateStore.listProfiles: every profile without its blob, ordered by exe, then key. */
export function listProfiles(conn: StoreConnection): ProfileSummary[] {
  const rows = conn.read("cannot list profiles", () =>
    conn.statement(`SELECT ${SUMMARY_COLUMNS} FROM profiles ORDER BY exe, key`).all(),
  ) as (SummaryRow & { bytes: number })[];
  return rows.map(summaryOf);
}

/** StateStore.findProfiles: by exact key, else exact executable path, else basename; the first rule that matches. */
export function findProfiles(conn: StoreConnection, selector: string): ProfileSummary[] {
  return conn.read("cannot find profiles", () => {
    for (const column of ["key", "exe", "name"]) {
      const rows = conn
        .statement(`SELECT ${SUMMARY_COLUMNS} FROM profiles WHERE ${column} = ? ORDER BY exe, key`)
        .all(selector) as (SummaryRow & { bytes: number })[];
      if (rows.length > 0) return rows.map(summaryOf);
    }
    return [];
  });
}

/** StateStore.deleteProfile: the profile, its static model and its history; false when there was no profile. */
export function deleteProfile(conn: StoreConnection, key: string): boolean {
  const stmt = conn.statement(`DELETE FROM profiles WHERE key = ?`);
  const statics = conn.statement(`DELETE FROM static_models WHERE key = ?`);
  const history = conn.statement(`DELETE FROM profile_history WHERE key = ?`);
  return conn.write("cannot delete a profile", () => {
    statics.run(key);
    history.run(key);
    return stmt.run(key).changes > 0;
  });
}

function validateRecord(r: ProfileRecord, file: string): void {
  const bad = (why: string) =>
    new HomeostatError("E_USAGE", `invalid profile record ${JSON.stringify(r.key)}: ${why}`, { file });
  if (typeof r.key !== "string" || r.key === "") throw bad("empty key");
  if (!PROFILE_STATES.includes(r.state)) throw bad(`unknown state ${JSON.stringify(r.state)}`);
  if (!(r.blob instanceof Uint8Array)) throw bad("blob is not a Uint8Array");
}

function verified(row: ProfileRow, file: string): StoredProfile {
  const blob = new Uint8Array(row.blob.buffer, row.blob.byteOffset, row.blob.byteLength);
  const actual = crc32(blob);
  if (actual !== row.crc) {
    throw new HomeostatError(
      "E_CHECKSUM",
      `profile ${row.key} (version ${row.version}) is damaged: its model's CRC-32 is ${hex(actual)}, ` +
        `${hex(row.crc)} was stored; delete the profile to let it train again`,
      { file },
    );
  }
  const { bytes: _bytes, ...summary } = summaryOf({ ...row, bytes: blob.length });
  return { ...summary, blob };
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
