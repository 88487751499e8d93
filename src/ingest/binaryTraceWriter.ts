// The writer of homeostat's binary trace format (docs/binary-trace-format.md; reader in binaryTraceReader.ts): an
// EventSink that buffers calls into columnar batches and emits checksummed blocks, so `homeostat record` can stream
// a live capture into a file and `homeostat convert` can turn any format into it.
//
// Ctrl-C safety: output is only ever handed on in whole blocks, and after `flush()` every event so far is in
// complete blocks, so a file cut after any flush reads back (as incomplete) up to that point. `close()` writes
// the END trailer whose totals mark the file complete.
//
// Syscall ids are file-local: the first time a caller id is seen its token joins the file's vocabulary, and the
// tokens new since the last VOCAB block are written in a VOCAB block just before the EVENTS block that uses them.
// The EVENTS columns are encoded by binaryColumnEncoder.ts.

import { closeSync, writeSync } from "node:fs";
import { crc32 } from "node:zlib";
import { HomeostatError } from "../errors.js";
import { MAX_VOCABULARY, type Vocabulary } from "../syscalls/vocabulary.js";
import { encodeStreamRuns, encodeSyscalls16, encodeSyscalls8, writeF64Column } from "./binaryColumnEncoder.js";
import {
  BINARY_TRACE_MAGIC,
  BINARY_TRACE_VERSION,
  BLOCK_HEAD_BYTES,
  BlockType,
  HEADER_BYTES,
  MAX_BLOCK_PAYLOAD,
  NOTE_KINDS,
  writeVarint,
  zigzag,
} from "./binaryTraceLayout.js";
import { sourceInfoForBlock } from "./binarySourceInfo.js";
import type { EventSink, SourceInfo, StreamNote } from "./event.js";
import { openRegularForWriting } from "./outputFile.js";

export interface BinaryTraceWriterOptions {
  /** Calls per EVENTS block (default 65536). */
  batchSize?: number;
  /**
   * Hand buffered blocks to the output once this many bytes are pending (default 1 MiB); 0 hands on every
   * block as soon as it is written. `flush()` always hands everything on.
   */
  bufferBytes?: number;
}

export const DEFAULT_BATCH_SIZE = 65_536;
/** Flush a batch early once its argument text may exceed this many bytes, keeping blocks far below the limit. */
const ARGS_FLUSH_BYTES = 16 * 1024 * 1024;
const TIME_EXPONENTS: readonly number[] = [0, 3, 6, 9];
const RET_EXPONENTS: readonly number[] = [0];

export type BinaryOutput = ((bytes: Uint8Array) => void) | number;

export class BinaryTraceWriter implements EventSink {
  private readonly out: BinaryOutput;
  private readonly vocab: Vocabulary;
  private readonly batch: number;
  private readonly bufferBytes: number;
  private readonly ownsFd: boolean;

  /** Caller id -> file id + 1 (0 = not yet in the file). */
  private remap = new Int32Array(256);
  private fileVocab = 0;
  private newTokens: string[] = [];

  private n = 0;
  private readonly streams: Int32Array;
  private readonly syscalls: Uint16Array;
  private readonly times: Float64Array;
  private readonly rets: Float64Array;
  /** Scratch for the scaled codes of one column. */
  private readonly codes: Float64Array;
  private args: (string | undefined)[] | undefined;
  private argsChars = 0;

  private buf: Buffer = Buffer.allocUnsafe(1 << 16);
  private len = 0;

  private calls = 0;
  private notes = 0;
  private sources = 0;
  private sourceOpen = false;
  private sourceCalls = 0;
  private sourceNotes = 0;
  private closed = false;

  /**
   * `out` is a function given each run of whole blocks (a fresh array it may keep) or a file descriptor that is
   * written synchronously (closed by close() only when `ownsFd`, as openBinaryTraceWriter sets it). The header
   * is written at once.
   */
  constructor(out: BinaryOutput, vocab: Vocabulary, options: BinaryTraceWriterOptions = {}, ownsFd = false) {
    this.out = out;
    this.vocab = vocab;
    this.ownsFd = ownsFd;
    const batch = options.batchSize ?? DEFAULT_BATCH_SIZE;
    // A million calls at their worst (alternating streams, RAW columns) stay well under MAX_BLOCK_PAYLOAD.
    if (!Number.isInteger(batch) || batch < 1 || batch > 1 << 20) {
      throw new HomeostatError("E_USAGE", `batch size must be an integer from 1 to ${1 << 20}, not ${batch}`);
    }
    this.batch = batch;
    this.bufferBytes = options.bufferBytes ?? 1 << 20;
    this.streams = new Int32Array(batch);
    this.syscalls = new Uint16Array(batch);
    this.times = new Float64Array(batch);
    this.rets = new Float64Array(batch);
    this.codes = new Float64Array(batch);

    const h = this.buf;
    h.set(BINARY_TRACE_MAGIC, 0);
    h.writeUInt16LE(BINARY_TRACE_VERSION, 8);
    h.writeUInt16LE(0, 10);
    h.writeUInt32LE(crc32(h.subarray(0, 12)), 12);
    this.len = HEADER_BYTES;
    this.drain();
  }

  /** Calls written so far (including those still buffered). */
  get callCount(): number {
    return this.calls + this.n;
  }

  beginSource(source: SourceInfo): void {
    this.checkOpen();
    if (this.sourceOpen) throw new HomeostatError("E_USAGE", "beginSource while another source is open");
    this.flushEvents();
    const info = sourceInfoForBlock(source);
    let json: string;
    try {
      json = JSON.stringify(info);
    } catch (err) {
      throw new HomeostatError("E_USAGE", `source metadata of ${source.path} is not JSON: ${(err as Error).message}`);
    }
    const start = this.beginBlock(BlockType.SOURCE);
    this.ensure(json.length * 3);
    this.len += this.buf.write(json, this.len, "utf8");
    this.endBlock(start);
    this.sources++;
    this.sourceOpen = true;
    this.sourceCalls = 0;
    this.sourceNotes = 0;
  }

  call(stream: number, syscall: number, time: number, ret: number, args: string | undefined): void {
    if (this.closed) this.checkOpen();
    let f = this.remap[syscall];
    if (f === undefined || f === 0) f = this.addToken(syscall);
    if ((stream | 0) !== stream) {
      throw new HomeostatError("E_LIMIT", `stream id ${stream} is not a 32-bit integer`);
    }
    const n = this.n;
    this.streams[n] = stream;
    this.syscalls[n] = f - 1;
    this.times[n] = time;
    this.rets[n] = ret;
    if (this.args !== undefined) {
      this.args[n] = args;
      if (args !== undefined) this.argsChars += args.length;
    } else if (args !== undefined) {
      this.args = new Array<string | undefined>(this.batch).fill(undefined);
      this.args[n] = args;
      this.argsChars += args.length;
    }
    this.n = n + 1;
    if (this.n === this.batch || this.argsChars * 3 > ARGS_FLUSH_BYTES) this.flushEvents();
  }

  note(stream: number, note: StreamNote): void {
    this.checkOpen();
    if ((stream | 0) !== stream) throw new HomeostatError("E_LIMIT", `stream id ${stream} is not a 32-bit integer`);
    const kind = NOTE_KINDS.indexOf(note.kind);
    if (kind < 0) throw new HomeostatError("E_USAGE", `unknown note kind ${JSON.stringify(note.kind)}`);
    this.flushEvents();
    const start = this.beginBlock(BlockType.NOTE);
    const detail = note.detail;
    this.ensure(5 + 8 + 2 + 8 + 8 + (detail === undefined ? 0 : detail.length * 3));
    const b = this.buf;
    let p = writeVarint(b, this.len, zigzag(stream));
    b.writeDoubleLE(note.time, p);
    p += 8;
    b[p++] = kind;
    b[p++] = (detail !== undefined ? 1 : 0) | (note.code !== undefined ? 2 : 0);
    if (note.code !== undefined) {
      b.writeDoubleLE(note.code, p);
      p += 8;
    }
    if (detail !== undefined) {
      const bytes = Buffer.byteLength(detail, "utf8");
      p = writeVarint(b, p, bytes);
      p += b.write(detail, p, "utf8");
    }
    this.len = p;
    this.endBlock(start);
    this.notes++;
    this.sourceNotes++;
  }

  endSource(): void {
    this.checkOpen();
    if (!this.sourceOpen) throw new HomeostatError("E_USAGE", "endSource without beginSource");
    this.flushEvents();
    const start = this.beginBlock(BlockType.END_SOURCE);
    this.ensure(16);
    let p = writeVarint(this.buf, this.len, this.sourceCalls);
    p = writeVarint(this.buf, p, this.sourceNotes);
    this.len = p;
    this.endBlock(start);
    this.sourceOpen = false;
  }

  /** Writes buffered calls as a block and hands all complete blocks to the output (no-op after close). */
  flush(): void {
    if (this.closed) return;
    this.flushEvents();
    this.drain();
  }

  /** Ends an open source, writes the END trailer and hands everything on. Idempotent. */
  close(): void {
    if (this.closed) return;
    if (this.sourceOpen) this.endSource();
    this.flushEvents();
    const start = this.beginBlock(BlockType.END);
    this.ensure(24);
    let p = writeVarint(this.buf, this.len, this.calls);
    p = writeVarint(this.buf, p, this.notes);
    p = writeVarint(this.buf, p, this.sources);
    this.len = p;
    this.endBlock(start);
    this.closed = true;
    try {
      this.drain();
    } finally {
      if (this.ownsFd && typeof this.out === "number") closeSync(this.out);
    }
  }

  private checkOpen(): void {
    if (this.closed) throw new HomeostatError("E_USAGE", "binary trace writer used after close()");
  }

  private addToken(syscall: number): number {
    const token = this.vocab.token(syscall); // throws E_VOCAB for an id the vocabulary lacks
    if (this.fileVocab >= MAX_VOCABULARY) {
      throw new HomeostatError("E_VOCAB", `more than ${MAX_VOCABULARY} distinct syscall tokens in one file`);
    }
    if (syscall >= this.remap.length) {
      const next = new Int32Array(Math.max(this.remap.length * 2, syscall + 1, this.vocab.size));
      next.set(this.remap);
      this.remap = next;
    }
    this.newTokens.push(token);
    this.remap[syscall] = ++this.fileVocab;
    return this.fileVocab;
  }

  private flushEvents(): void {
    const n = this.n;
    if (n === 0) return;
    if (this.newTokens.length > 0) this.vocabBlock();
    const start = this.beginBlock(BlockType.EVENTS);
    this.ensure(4 + 5 + n * 13 + 1 + n * 2 + 2 * (3 + n * 8) + 1);
    const b = this.buf;
    let p = this.len;
    b.writeUInt32LE(n, p);
    p += 4;

    // One loop per small function: V8 then optimises each with full type feedback.
    p = encodeStreamRuns(b, p, this.streams, n);
    p = this.fileVocab <= 256 ? encodeSyscalls8(b, p, this.syscalls, n) : encodeSyscalls16(b, p, this.syscalls, n);
    p = writeF64Column(b, p, this.times, n, TIME_EXPONENTS, true, this.codes);
    p = writeF64Column(b, p, this.rets, n, RET_EXPONENTS, false, this.codes);

    const args = this.args;
    if (args === undefined) {
      b[p++] = 0;
      this.len = p;
    } else {
      b[p++] = 1;
      this.len = p;
      this.encodeArgs(args, n);
      this.args = undefined;
      this.argsChars = 0;
    }
    this.endBlock(start);
    this.n = 0;
    this.calls += n;
    this.sourceCalls += n;
  }

  private encodeArgs(args: (string | undefined)[], n: number): void {
    for (let i = 0; i < n; i++) {
      const a = args[i];
      if (a === undefined) {
        this.ensure(1);
        this.buf[this.len++] = 0;
        continue;
      }
      this.ensure(9 + a.length * 3);
      const bytes = Buffer.byteLength(a, "utf8");
      const q = writeVarint(this.buf, this.len, bytes + 1);
      this.len = q + this.buf.write(a, q, "utf8");
    }
  }

  private vocabBlock(): void {
    const start = this.beginBlock(BlockType.VOCAB);
    this.ensure(4);
    this.buf.writeUInt32LE(this.newTokens.length, this.len);
    this.len += 4;
    for (const t of this.newTokens) {
      this.ensure(8 + t.length * 3);
      const p = writeVarint(this.buf, this.len, Buffer.byteLength(t, "utf8"));
      this.len = p + this.buf.write(t, p, "utf8");
    }
    this.newTokens = [];
    this.endBlock(start);
  }

  private beginBlock(type: number): number {
    this.ensure(BLOCK_HEAD_BYTES);
    const start = this.len;
    this.buf[start] = type;
    this.len += BLOCK_HEAD_BYTES;
    return start;
  }

  private endBlock(start: number): void {
    const payload = this.len - start - BLOCK_HEAD_BYTES;
    if (payload > MAX_BLOCK_PAYLOAD) {
      this.len = start;
      throw new HomeostatError("E_LIMIT", `a block of ${payload} bytes exceeds the ${MAX_BLOCK_PAYLOAD}-byte limit`);
    }
    this.buf.writeUInt32LE(payload, start + 1);
    const crc = crc32(this.buf.subarray(start, this.len));
    this.ensure(4);
    this.buf.writeUInt32LE(crc, this.len);
    this.len += 4;
    if (this.len >= this.bufferBytes) this.drain();
  }

  private ensure(extra: number): void {
    if (this.len + extra <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + extra));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  private drain(): void {
    if (this.len === 0) return;
    const out = this.out;
    if (typeof out === "number") {
      let off = 0;
      try {
        while (off < this.len) off += writeSync(out, this.buf, off, this.len - off);
      } catch (err) {
        // A full file system is the machine's to fix (exit 3), like any write failure that names no file.
        const code = (err as NodeJS.ErrnoException).code;
        const full = code === "ENOSPC" || code === "EDQUOT";
        throw new HomeostatError(
          full ? "E_NO_SPACE" : "E_IO",
          `cannot write binary trace: ${(err as Error).message}`,
          {},
          { cause: err },
        );
      }
    } else {
      out(Uint8Array.prototype.slice.call(this.buf, 0, this.len));
    }
    this.len = 0;
  }
}

/**
 * A writer to a new file at `path` (truncated if it is a regular file; never written through a symbolic link, nor
 * to a device or FIFO: see outputFile.ts); the writer closes the file on close().
 */
export function openBinaryTraceWriter(
  path: string,
  vocab: Vocabulary,
  options: BinaryTraceWriterOptions = {},
): BinaryTraceWriter {
  const fd = openRegularForWriting(path);
  try {
    return new BinaryTraceWriter(fd, vocab, options, true);
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}
