// The alert spool's records file on disk (alertSpool.ts keeps the queue over it): recovered at open from what a
// previous run left (a torn last record cut off, a file that is not a spool kept aside, never parsed as alerts),
// created whole and fsync'd for each new generation, read back by position, and the typed errors of a spool that
// cannot be written.

import {
  closeSync,
  existsSync,
  fsyncSync,
  ftruncateSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  writeSync,
} from "node:fs";
import { HomeostatError } from "../../errors.js";
import type { SpoolAcks } from "./spoolAck.js";
import { encodeSpoolHeader, parseSpoolHeader, parseSpoolRecords } from "./spoolRecord.js";

/** The records file as found at open, opened for appending. */
export interface RecoveredSpool {
  fd: number;
  generation: number;
  headerLength: number;
  /** Where the waiting records begin (the acknowledged offset of this generation) and where valid data ends. */
  ackedOffset: number;
  fileEnd: number;
  /** The records waiting, in order. */
  records: { offset: number; end: number }[];
  /** Damaged records skipped. */
  damaged: number;
}

/** Opens the records file `file`, taking the records waiting after the acknowledgement in `acks`. */
export function recoverSpool(file: string, acks: SpoolAcks): RecoveredSpool {
  const data = existsSync(file) ? readFileSync(file) : Buffer.alloc(0);
  const header = parseSpoolHeader(data);
  if (header === undefined) return newSpool(file, data, acks);
  const fd = openSync(file, "a+", 0o600);
  const ack = acks.recovered;
  const acked = ack !== undefined && ack.generation === header.generation ? ack.offset : header.length;
  const start = Math.min(Math.max(acked, header.length), data.length);
  const parsed = parseSpoolRecords(data.subarray(start), start);
  if (parsed.torn) ftruncateSync(fd, parsed.validEnd);
  return {
    fd,
    generation: header.generation,
    headerLength: header.length,
    ackedOffset: start,
    fileEnd: parsed.validEnd,
    records: parsed.records,
    damaged: parsed.damaged,
  };
}

/** No spool yet (or not one, then kept aside): an empty file of the next generation, acknowledged at its start. */
function newSpool(file: string, data: Buffer, acks: SpoolAcks): RecoveredSpool {
  if (data.length > 0) renameSync(file, `${file}.damaged-${Date.now()}`);
  const generation = (acks.recovered?.generation ?? 0) + 1;
  closeSync(createSpoolFile(file, generation, Buffer.alloc(0)));
  const fd = openSync(file, "a+", 0o600);
  const headerLength = encodeSpoolHeader(generation).length;
  acks.writeSync(generation, headerLength);
  return { fd, generation, headerLength, ackedOffset: headerLength, fileEnd: headerLength, records: [], damaged: 0 };
}

/** A new spool file of `generation` holding the record bytes `body`, fsync'd; returns its descriptor. */
export function createSpoolFile(file: string, generation: number, body: Buffer): number {
  const fd = openSync(file, "w", 0o600);
  writeSync(fd, Buffer.concat([encodeSpoolHeader(generation), body]));
  fsyncSync(fd);
  return fd;
}

/** Reads `buf.length` bytes at `position` into `buf`; returns how many there were (fewer at the end of the file). */
export function readFully(fd: number, buf: Buffer, position: number): number {
  let got = 0;
  while (got < buf.length) {
    const n = readSync(fd, buf, got, buf.length - got, position + got);
    if (n === 0) break;
    got += n;
  }
  return got;
}

export function syncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, "r");
    fsyncSync(fd);
  } catch {
    // some file systems cannot fsync a directory; the rename is still atomic
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export function tryTruncate(fd: number, length: number): void {
  try {
    ftruncateSync(fd, length);
  } catch {
    // the parser skips a damaged line at the next open
  }
}

export function spoolError(err: unknown, dir: string): HomeostatError {
  const code = (err as NodeJS.ErrnoException).code;
  const why = err instanceof Error ? err.message : String(err);
  if (code === "EACCES" || code === "EPERM" || code === "EROFS") {
    return new HomeostatError("E_PERMISSION", `cannot write the alert spool in ${dir}: ${why}`, {}, { cause: err });
  }
  if (code === "ENOSPC" || code === "EDQUOT") {
    return new HomeostatError("E_NO_SPACE", `no space for the alert spool in ${dir}`, {}, { cause: err });
  }
  return new HomeostatError("E_IO", `cannot open the alert spool in ${dir}: ${why}`, {}, { cause: err });
}
