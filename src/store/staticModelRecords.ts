// The static_models table of the state database: the static model of each executable (the system calls its binary
// can make, from src/static's analysis), keyed like the profiles (path@dev:ino), each row written in one
// transaction with a CRC-32 over its content, checked on every load. It belongs to the file, not to what was
// learned, so administering a profile (reset, sensitize...) leaves it alone; deleting the profile deletes it.

import type { StoreConnection } from "./storeConnection.js";
import { crc32, hex, jsonText } from "./storeValues.js";
import { HomeostatError } from "../errors.js";

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

interface StaticRow {
  key: string;
  exe: string;
  complete: number;
  syscalls: string;
  analysed_at: number;
  crc: number;
  detail: string;
}

/** StateStore.saveStaticModels: upserts static models in one transaction (a row is its newest analysis). */
export function saveStaticModels(conn: StoreConnection, records: readonly StaticModelRecord[]): void {
  const rows = records.map((r) => {
    if (typeof r.key !== "string" || r.key === "") {
      throw new HomeostatError("E_USAGE", `invalid static model record: empty key`, { file: conn.file });
    }
    if (!Array.isArray(r.syscalls) || !r.syscalls.every((n) => Number.isInteger(n) && n >= 0)) {
      throw new HomeostatError(
        "E_USAGE",
        `invalid static model record ${JSON.stringify(r.key)}: syscalls must be numbers`,
        { file: conn.file },
      );
    }
    const syscalls = JSON.stringify(r.syscalls);
    const detail = jsonText(r.detail);
    const complete = r.complete ? 1 : 0;
    return { key: r.key, exe: r.exe, complete, syscalls, detail, crc: staticCrc(complete, syscalls, detail) };
  });
  const upsert = conn.statement(
    `INSERT INTO static_models (key, exe, complete, syscalls, analysed_at, crc, detail)
     VALUES (@key, @exe, @complete, @syscalls, @time, @crc, @detail)
     ON CONFLICT (key) DO UPDATE SET
       exe = excluded.exe, complete = excluded.complete, syscalls = excluded.syscalls,
       analysed_at = excluded.analysed_at, crc = excluded.crc, detail = excluded.detail`,
  );
  const time = conn.now();
  conn.write("cannot save static models", () => {
    for (const r of rows) upsert.run({ ...r, time });
  });
}

/** StateStore.loadStaticModel: the static model with this key, its CRC verified; undefined when there is none. */
export function loadStaticModel(conn: StoreConnection, key: string): StoredStaticModel | undefined {
  if (conn.schemaVersion < 2) return undefined;
  const row = conn.read("cannot load a static model", () =>
    conn.statement(`SELECT * FROM static_models WHERE key = ?`).get(key),
  ) as StaticRow | undefined;
  if (row === undefined) return undefined;
  const actual = staticCrc(row.complete, row.syscalls, row.detail);
  if (actual !== row.crc) {
    throw new HomeostatError(
      "E_CHECKSUM",
      `the static model of ${row.key} is damaged: its CRC-32 is ${hex(actual)}, ${hex(row.crc)} was stored; ` +
        `homeostat watch analyses the binary again`,
      { file: conn.file },
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
    throw new HomeostatError("E_FORMAT", `the static model of ${row.key} is not readable`, { file: conn.file });
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

/** The CRC-32 of a static model row's content. */
function staticCrc(complete: number, syscalls: string, detail: string): number {
  return crc32(`${complete}\n${syscalls}\n${detail}`);
}
