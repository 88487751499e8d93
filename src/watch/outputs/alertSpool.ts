// A bounded, append-only spool of alerts waiting for an output that can be down (the HTTP receiver): alerts are
// appended as they come, taken in order from the front, and acknowledged once delivered, one or a batch at a time. It lives in
// two files of the state directory's `spool/` folder:
//
//   <name>.spool  the records (spoolRecord.ts): appended in batches (one write per turn of the event loop), fsync'd
//                 before any record in them is acknowledged (so a batch costs one fsync, not one per alert);
//   <name>.ack    the acknowledged offset (spoolAck.ts): two 32-byte slots written in turn (sequence number, generation, offset,
//                 crc32), fdatasync'd after each acknowledgement; the valid slot with the higher sequence wins, so a
//                 write torn by a crash leaves the previous acknowledgement.
//
// Delivery is at least once, in order: a crash after a send but before its acknowledgement is on disk resends the
// records not yet acknowledged at the next start (never more than the sender takes in one batch). What does not fit
// the bound (`maxBytes` of records waiting) is refused and counted, never written. Acknowledged records are cut off
// by a compaction (the waiting ones rewritten into a new file of the next generation, then renamed over the old
// one) once they add up to `compactBytes`, so the file stays under maxBytes + compactBytes. A crash between the
// rename and the acknowledgement leaves a new generation with no acknowledgement for it: all its records are
// waiting, which is exactly what they were. A torn last record (an append cut short) is cut off at open (spoolFile.ts).

import { closeSync, fdatasync, fsyncSync, mkdirSync, openSync, renameSync, writeSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { HomeostatError } from "../../errors.js";
import { SpoolAcks } from "./spoolAck.js";
import { createSpoolFile, readFully, recoverSpool, spoolError, syncDir, tryTruncate } from "./spoolFile.js";
import {
  encodeSpoolHeader,
  frameSpoolLines,
  MAX_PAYLOAD_BYTES,
  parseSpoolRecords,
  type SpoolEntry,
  spoolRecordText,
} from "./spoolRecord.js";

export { encodeAck } from "./spoolAck.js";
export type { SpoolEntry } from "./spoolRecord.js";

const fdatasyncAsync = promisify(fdatasync);

export interface AlertSpoolOptions {
  /** The folder of the spool files (watch: `<state>/spool`), created when missing. */
  dir: string;
  /** The files' base name (watch: "alerts-http"). */
  name: string;
  /** Bytes of records waiting at most; an append beyond is refused and counted. */
  maxBytes: number;
  /** Acknowledged bytes after which the file is compacted (default min(maxBytes, 1 MiB)). */
  compactBytes?: number;
}

export interface SpoolStats {
  /** Records (and their bytes) waiting to be delivered. */
  pendingRecords: number;
  pendingBytes: number;
  appended: number;
  acked: number;
  /** Appends refused because the spool was full. */
  overflowed: number;
  /** Records found waiting when the spool was opened (left by the previous run). */
  replayed: number;
  /** Damaged records skipped when the spool was opened. */
  damaged: number;
  /** Batches that could not be written (full disk): kept in memory and tried again. */
  writeErrors: number;
}

export class AlertSpool {
  readonly file: string;
  readonly ackFile: string;
  private fd: number;
  private readonly acks: SpoolAcks;
  private generation: number;
  private headerLength: number;
  /** The offset acknowledged, the file's length on disk, the part of it fsync'd. */
  private ackedOffset = 0;
  private fileEnd = 0;
  private syncedEnd = 0;
  /** Where each waiting record is in the file (payloads are read back when sent, not held in memory). */
  private readonly entries: { offset: number; end: number }[] = [];
  private head = 0;
  /** The front record with its payload, once read. */
  private front: SpoolEntry | undefined;
  /** Records queued for the next write: their text (append) or their bytes (appendLines). */
  private unwritten: (string | Buffer)[] = [];
  private unwrittenBytes = 0;
  private flushScheduled = false;
  private busy: Promise<void> | undefined;
  private closed = false;
  private readonly compactBytes: number;
  private readonly counts: SpoolStats = {
    pendingRecords: 0,
    pendingBytes: 0,
    appended: 0,
    acked: 0,
    overflowed: 0,
    replayed: 0,
    damaged: 0,
    writeErrors: 0,
  };

  /** Opens (or creates) the spool; records left by a previous run are waiting at the front, in order. */
  static open(options: AlertSpoolOptions): AlertSpool {
    try {
      mkdirSync(options.dir, { recursive: true, mode: 0o700 });
      return new AlertSpool(options);
    } catch (err) {
      throw spoolError(err, options.dir);
    }
  }

  private constructor(private readonly options: AlertSpoolOptions) {
    this.file = path.join(options.dir, `${options.name}.spool`);
    this.ackFile = path.join(options.dir, `${options.name}.ack`);
    this.compactBytes = options.compactBytes ?? Math.min(options.maxBytes, 1024 * 1024);
    this.acks = SpoolAcks.open(this.ackFile);
    const found = recoverSpool(this.file, this.acks);
    this.fd = found.fd;
    this.generation = found.generation;
    this.headerLength = found.headerLength;
    this.ackedOffset = found.ackedOffset;
    this.fileEnd = this.syncedEnd = found.fileEnd;
    for (const r of found.records) this.pushEntry(r.offset, r.end);
    this.counts.replayed = found.records.length;
    this.counts.damaged = found.damaged;
  }

  get stats(): Readonly<SpoolStats> {
    return this.counts;
  }

  /** Queues one record; false (and counted) when it does not fit the bound. Written on the next turn. */
  append(payload: string): boolean {
    if (this.closed) return false;
    if (this.counts.pendingBytes >= this.options.maxBytes) {
      this.counts.overflowed++;
      return false;
    }
    const record = spoolRecordText(payload);
    if (this.counts.pendingBytes + record.bytes > this.options.maxBytes) {
      this.counts.overflowed++;
      return false;
    }
    const offset = this.fileEnd + this.unwrittenBytes;
    this.pushEntry(offset, offset + record.bytes);
    this.counts.appended++;
    this.queueWrite(record.text, record.bytes);
    return true;
  }

  private queueWrite(piece: string | Buffer, bytes: number): void {
    this.unwritten.push(piece);
    this.unwrittenBytes += bytes;
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => {
        this.flushScheduled = false;
        this.flushWrites();
      });
    }
  }

  /**
   * Queues the payloads found in `data[start, end)`, one per line (newline-separated; JSON never holds a raw
   * newline; empty lines are ignored): each framed as a record (length, crc32 of its bytes) into one buffer, written
   * on the next turn with the others. Those that do not fit the bound are refused and counted, as append's are.
   * Returns how many were taken. The bytes are copied: `data` may be reused once this returns.
   */
  appendLines(data: Buffer, start: number, end: number): number {
    if (this.closed) return 0;
    const base = this.fileEnd + this.unwrittenBytes;
    let size = 0;
    const framed = frameSpoolLines(data, start, end, (length, bytes) => {
      if (length > MAX_PAYLOAD_BYTES || this.counts.pendingBytes + bytes > this.options.maxBytes) {
        this.counts.overflowed++;
        return false;
      }
      this.pushEntry(base + size, base + size + bytes);
      size += bytes;
      return true;
    });
    if (framed.count === 0) return 0;
    this.counts.appended += framed.count;
    this.queueWrite(framed.bytes, framed.bytes.length);
    return framed.count;
  }

  /** The first record waiting, if any (its payload read back from the file). */
  peek(): SpoolEntry | undefined {
    const e = this.entries[this.head];
    if (e === undefined) return undefined;
    if (this.front?.offset === e.offset) return this.front;
    this.flushWrites();
    const buf = Buffer.allocUnsafe(e.end - e.offset);
    const got = readFully(this.fd, buf, e.offset);
    const parsed = parseSpoolRecords(buf.subarray(0, got), e.offset).records[0];
    // A record that cannot be read back (the file damaged under us) is delivered as what it is not: skipped.
    this.front = { offset: e.offset, end: e.end, payload: parsed?.payload ?? "" };
    return this.front;
  }

  /**
   * Up to `n` records from the front, in order, their payloads read back in one read (for a sender that delivers
   * several at once and acknowledges them together with ackThrough). Only records already written are given.
   */
  peekMany(n: number): SpoolEntry[] {
    this.flushWrites();
    let count = 0;
    while (count < n && this.head + count < this.entries.length && this.entries[this.head + count]!.end <= this.fileEnd)
      count++;
    if (count === 0) return [];
    const waiting = this.entries.slice(this.head, this.head + count);
    const from = waiting[0]!.offset;
    const buf = Buffer.allocUnsafe(waiting[count - 1]!.end - from);
    const got = readFully(this.fd, buf, from);
    const read = new Map(parseSpoolRecords(buf.subarray(0, got), from).records.map((r) => [r.offset, r.payload]));
    // As peek: a record that cannot be read back is delivered as what it is not (an empty payload), i.e. skipped.
    return waiting.map((e) => ({ offset: e.offset, end: e.end, payload: read.get(e.offset) ?? "" }));
  }

  /**
   * Acknowledges the first record (delivered): its batch is fsync'd if it was not yet, then the new offset is
   * written and fdatasync'd; only then is the record gone from the front. One acknowledgement at a time.
   */
  async ack(entry: SpoolEntry): Promise<void> {
    if (this.closed || this.entries[this.head]?.offset !== entry.offset) throw new Error("acknowledged out of order");
    await this.ackThrough(entry);
  }

  /** Acknowledges every record from the front up to and including `entry` (delivered in order), with one fsync. */
  async ackThrough(entry: SpoolEntry): Promise<void> {
    let count = 0;
    while (this.head + count < this.entries.length && this.entries[this.head + count]!.end < entry.end) count++;
    const last = this.entries[this.head + count];
    if (this.closed || last?.offset !== entry.offset) throw new Error("acknowledged out of order");
    const work = this.acknowledge(entry, count + 1);
    this.busy = work;
    try {
      await work;
    } finally {
      this.busy = undefined;
    }
  }

  private async acknowledge(entry: SpoolEntry, count: number): Promise<void> {
    this.flushWrites();
    if (this.unwritten.length > 0) throw new HomeostatError("E_IO", `the alert spool cannot be written: ${this.file}`);
    if (this.syncedEnd < entry.end) {
      const target = this.fileEnd;
      await fdatasyncAsync(this.fd);
      this.syncedEnd = Math.max(this.syncedEnd, target);
    }
    await this.acks.write(this.generation, entry.end);
    const bytes = entry.end - this.entries[this.head]!.offset;
    this.ackedOffset = entry.end;
    for (let i = 0; i < count; i++) this.entries[this.head++] = { offset: 0, end: 0 };
    this.front = undefined;
    this.counts.pendingRecords -= count;
    this.counts.pendingBytes -= bytes;
    this.counts.acked += count;
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries.splice(0, this.head);
      this.head = 0;
    }
    if (this.ackedOffset - this.headerLength >= this.compactBytes) this.compact();
  }

  /** Writes the records queued since the last write, in one write (a failed one is kept and tried again). */
  flushWrites(): void {
    if (this.unwritten.length === 0 || this.closed) return;
    const u = this.unwritten;
    const batch =
      u.length === 1
        ? typeof u[0] === "string"
          ? Buffer.from(u[0], "utf8")
          : u[0]!
        : u.every((p) => typeof p === "string")
          ? Buffer.from(u.join(""), "utf8")
          : Buffer.concat(u.map((p) => (typeof p === "string" ? Buffer.from(p, "utf8") : p)));
    let done = 0;
    try {
      while (done < batch.length) done += writeSync(this.fd, batch, done);
    } catch {
      this.counts.writeErrors++;
      // Nothing half-written stays in the file: the batch is written again whole next time.
      if (done > 0) tryTruncate(this.fd, this.fileEnd);
      return;
    }
    this.fileEnd += batch.length;
    this.unwritten = [];
    this.unwrittenBytes = 0;
  }

  /** Writes and fsyncs what is queued, then closes the files; records still waiting stay for the next run. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.busy?.catch(() => {});
    this.flushWrites();
    this.closed = true;
    try {
      fsyncSync(this.fd);
    } finally {
      closeSync(this.fd);
      this.acks.close();
    }
  }

  private pushEntry(offset: number, end: number): void {
    this.entries.push({ offset, end });
    this.counts.pendingRecords++;
    this.counts.pendingBytes += end - offset;
  }

  /** Rewrites the waiting records into a new generation of the file, renamed over the old one. */
  private compact(): void {
    this.flushWrites();
    if (this.unwritten.length > 0) return; // a full disk: try again at the next acknowledgement
    const waiting = Buffer.allocUnsafe(this.fileEnd - this.ackedOffset);
    // shorter than we know: leave it as it is
    if (readFully(this.fd, waiting, this.ackedOffset) < waiting.length) return;
    const generation = this.generation + 1;
    const tmp = `${this.file}.tmp`;
    closeSync(createSpoolFile(tmp, generation, waiting));
    renameSync(tmp, this.file);
    syncDir(this.options.dir);
    closeSync(this.fd);
    this.fd = openSync(this.file, "a+", 0o600);
    const headerLength = encodeSpoolHeader(generation).length;
    const shift = headerLength - this.ackedOffset;
    const entries = this.entries.slice(this.head).map((e) => ({ offset: e.offset + shift, end: e.end + shift }));
    this.entries.length = 0;
    this.entries.push(...entries);
    this.head = 0;
    this.front = undefined;
    this.generation = generation;
    this.headerLength = headerLength;
    this.ackedOffset = headerLength;
    this.fileEnd = this.syncedEnd = this.fileEnd + shift;
    this.acks.writeSync(generation, headerLength);
  }
}
