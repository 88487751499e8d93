// homeostat's own binary trace format ("homeostat", spec in docs/binary-trace-format.md): the reader, the TraceFormat,
// and the layout constants shared with the writer (binaryTraceWriter.ts).
//
// A file is a 16-byte header (magic "HOMEOSTT", version, flags, CRC-32) followed by self-delimiting blocks
// `type u8, length u32 LE, payload, crc32 u32 LE of (type, length, payload)`. Calls travel in columnar EVENTS
// blocks (run-length streams, u8/u16 syscall ids, scaled-integer zigzag-varint or raw f64 times and returns), so
// decoding is a few tight loops over bytes into reused typed arrays. Every block stands alone, so a file cut off
// after any block (a live `record` killed with Ctrl-C) still reads up to that block; the END trailer's totals tell
// a complete file from a cut one and catch a block that went missing.
//
// Sources inside a file: by the TraceFormat contract a parser never calls sink.beginSource/endSource (its caller
// does, once per input file). A binary file may hold many sources (a converted dataset), so this parser reports
// them through `BinaryParserOptions.onSource` / `onEndSource` callbacks and its `sources` property. Set
// `bracketSources: true` to have the parser itself call sink.beginSource/endSource around each embedded source
// (events outside any SOURCE block get a default source `{ path: file, format: "homeostat" }`); that is what
// `readBinaryTraceFile` does, so a file written from a sink reads back into a sink with the same calls.
//
// Of the common ParserOptions this parser uses file, vocab, sink, lenient (a trailing partial block is then
// ignored, reported through onSkip and `truncatedAt`, instead of failing) and keepArgs; maxLineBytes and
// defaultStream do not apply. A bad checksum is an error in both modes: only a cut-off tail is forgiven.

import { createReadStream } from "node:fs";
import { crc32 } from "node:zlib";
import { HomeostatError, ParseError } from "../errors.js";
import { MAX_VOCABULARY, type Vocabulary } from "../syscalls/vocabulary.js";
import type { EventSink, Label, NoteKind, SourceInfo, StreamNote } from "./event.js";
import { locateError, type ParserOptions, type TraceFormat, type TraceParser } from "./format.js";
import { BINARY_TRACE_MAGIC, hasBinaryTraceMagic } from "./formatHints.js";

/** The format version this build writes and reads. */
export const BINARY_TRACE_VERSION = 1;

export { BINARY_TRACE_MAGIC };
export const HEADER_BYTES = 16;
/** type u8 + length u32 before the payload. */
export const BLOCK_HEAD_BYTES = 5;
/** Head + trailing CRC-32. */
export const BLOCK_OVERHEAD_BYTES = 9;
/** Largest payload a block may have: a longer length field is corruption, found before buffering it. */
export const MAX_BLOCK_PAYLOAD = 64 * 1024 * 1024;

export const BlockType = {
  SOURCE: 0x01,
  END_SOURCE: 0x02,
  VOCAB: 0x03,
  EVENTS: 0x04,
  NOTE: 0x05,
  END: 0x06,
} as const;
/** Block types from here up are optional extensions that a reader skips (after checking their CRC). */
export const FIRST_SKIPPABLE_BLOCK = 0x80;

/** Column encodings of f64 columns (times, return values). */
export const F64Mode = { ABSENT: 0, RAW: 1, SCALED: 2 } as const;
/** 10^e for the scaled-integer encoding: a value v is stored as the integer m with m / 10^e === v exactly. */
export const POW10: readonly number[] = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9];
/** |m| bound of the scaled encoding, so that deltas and zigzag codes stay exact doubles. */
export const SCALED_LIMIT = 2 ** 51 - 1;

/** Note kinds by their stored code; append only. */
export const NOTE_KINDS: readonly NoteKind[] = ["exec", "signal", "exit", "killed", "comm", "lost"];

export const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Writes a LEB128 varint of a non-negative safe integer; returns the new position. */
export function writeVarint(buf: Uint8Array, pos: number, v: number): number {
  if (v < 0x80000000) {
    while (v > 0x7f) {
      buf[pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[pos++] = v;
    return pos;
  }
  while (v > 0x7f) {
    buf[pos++] = (v % 128) | 0x80;
    v = Math.floor(v / 128);
  }
  buf[pos++] = v;
  return pos;
}

/** Zigzag code of a safe integer: 0, -1, 1, -2, ... -> 0, 1, 2, 3, ... */
export function zigzag(d: number): number {
  return d >= 0 ? 2 * d : -2 * d - 1;
}

function unzigzag(z: number): number {
  if (z <= 0x7fffffff) return (z >>> 1) ^ -(z & 1);
  return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
}

export function blockName(type: number): string {
  for (const [name, code] of Object.entries(BlockType)) if (code === type) return name;
  return `0x${type.toString(16).padStart(2, "0")}`;
}

export interface BinaryParserOptions extends ParserOptions {
  /** Called for each SOURCE block, before the events of that source. */
  onSource?: (source: SourceInfo) => void;
  /** Called for each END_SOURCE block, after the events of that source. */
  onEndSource?: () => void;
  /**
   * Call sink.beginSource/endSource for the embedded sources (and a default source around events outside
   * any). Off by default, as the TraceFormat contract leaves bracketing to the caller.
   */
  bracketSources?: boolean;
}

export interface BinaryReadSummary {
  /** The END trailer was read and its totals matched. */
  complete: boolean;
  /** Lenient mode only: byte offset of a trailing partial block (or header) that was ignored. */
  truncatedAt: number | undefined;
  calls: number;
  notes: number;
  /** Embedded sources in file order. */
  sources: SourceInfo[];
}

export interface BinaryTraceParser extends TraceParser, BinaryReadSummary {}

class BinaryTraceReader implements BinaryTraceParser {
  complete = false;
  truncatedAt: number | undefined = undefined;
  calls = 0;
  notes = 0;
  readonly sources: SourceInfo[] = [];

  private readonly file: string;
  private readonly vocab: Vocabulary;
  private readonly sink: EventSink;
  private readonly lenient: boolean;
  private readonly keepArgs: boolean;
  private readonly options: BinaryParserOptions;

  /** File offset of the first byte not yet consumed (the start of `pending`). */
  private offset = 0;
  private headerDone = false;
  private ended = false;
  private pending = new Uint8Array(0);
  private pendingLen = 0;

  private fileVocab = 0;
  private remap = new Uint16Array(256);

  private sourceOpen = false;
  private defaultOpen = false;
  private sourceCalls = 0;
  private sourceNotes = 0;

  private cap = 0;
  private streams = new Int32Array(0);
  private syscalls = new Uint16Array(0);
  private times = new Float64Array(0);
  private timesBytes = new Uint8Array(0);
  private rets = new Float64Array(0);
  private retsBytes = new Uint8Array(0);
  private args: (string | undefined)[] = [];
  /** Read position shared by the small decoding helpers (avoids returning pairs). */
  private pos = 0;

  constructor(options: BinaryParserOptions) {
    this.options = options;
    this.file = options.file;
    this.vocab = options.vocab;
    this.sink = options.sink;
    this.lenient = options.lenient === true;
    this.keepArgs = options.keepArgs === true;
  }

  write(input: Uint8Array): void {
    let p = 0;
    const n = input.length;
    if (n === 0) return;
    // Decoders see only plain Uint8Arrays: mixing in Buffers (another hidden class) makes V8 deoptimise them.
    const chunk =
      Object.getPrototypeOf(input) === Uint8Array.prototype
        ? input
        : new Uint8Array(input.buffer, input.byteOffset, input.length);
    if (this.ended) this.fail("E_PARSE", "data after the END block", this.offset);
    if (this.pendingLen > 0) {
      // Complete the item begun in an earlier chunk, copying only the bytes it still needs.
      for (;;) {
        const need = this.need(this.pending, 0, this.pendingLen);
        if (this.pendingLen >= need) {
          this.item(this.pending, 0, need);
          this.pendingLen = 0;
          break;
        }
        if (p === n) return;
        const take = Math.min(need - this.pendingLen, n - p);
        this.append(chunk, p, p + take);
        p += take;
      }
    }
    p = this.consume(chunk, p, n);
    if (p < n) this.append(chunk, p, n);
  }

  end(): void {
    if (this.pendingLen > 0 || !this.headerDone) {
      const at = this.offset;
      if (!this.headerDone) {
        for (let i = 0; i < Math.min(this.pendingLen, 8); i++) {
          if (this.pending[i] !== BINARY_TRACE_MAGIC[i]) this.fail("E_FORMAT", "not a homeostat binary trace", 0);
        }
      }
      if (!this.lenient) {
        const what = this.headerDone ? "block" : "header";
        this.fail("E_ARCHIVE", `truncated ${what} at byte offset ${at} (file cut short?)`, at);
      }
      this.truncatedAt = at;
      this.pendingLen = 0;
      this.options.onSkip?.(
        new ParseError(`ignored a truncated ${this.headerDone ? "block" : "header"} at byte offset ${at}`, {
          file: this.file,
        }),
      );
    }
    if (this.options.bracketSources === true && (this.sourceOpen || this.defaultOpen)) {
      this.sourceOpen = false;
      this.defaultOpen = false;
      this.sink.endSource();
    }
  }

  private append(bytes: Uint8Array, start: number, end: number): void {
    const len = end - start;
    if (this.pendingLen + len > this.pending.length) {
      const next = new Uint8Array(Math.max(256, (this.pendingLen + len) * 2));
      next.set(this.pending.subarray(0, this.pendingLen));
      this.pending = next;
    }
    this.pending.set(bytes.subarray(start, end), this.pendingLen);
    this.pendingLen += len;
  }

  /** Bytes the next item (header or block) occupies, as far as `avail` bytes at `start` tell. */
  private need(bytes: Uint8Array, start: number, avail: number): number {
    if (!this.headerDone) return HEADER_BYTES;
    if (avail < BLOCK_HEAD_BYTES) return BLOCK_HEAD_BYTES;
    const len =
      (bytes[start + 1]! | (bytes[start + 2]! << 8) | (bytes[start + 3]! << 16) | (bytes[start + 4]! << 24)) >>> 0;
    if (len > MAX_BLOCK_PAYLOAD) {
      this.fail("E_ARCHIVE", `corrupt block length ${len} at byte offset ${this.offset}`, this.offset);
    }
    return BLOCK_OVERHEAD_BYTES + len;
  }

  private consume(bytes: Uint8Array, p: number, end: number): number {
    for (;;) {
      const avail = end - p;
      if (avail === 0) return p;
      if (this.ended) this.fail("E_PARSE", "data after the END block", this.offset);
      const need = this.need(bytes, p, avail);
      if (avail < need) return p;
      this.item(bytes, p, need);
      p += need;
    }
  }

  private item(bytes: Uint8Array, start: number, size: number): void {
    if (this.headerDone) this.block(bytes, start, size);
    else this.header(bytes, start);
    this.offset += size;
  }

  private header(b: Uint8Array, s: number): void {
    for (let i = 0; i < 8; i++) {
      if (b[s + i] !== BINARY_TRACE_MAGIC[i]) this.fail("E_FORMAT", "not a homeostat binary trace", 0);
    }
    const v = b[s + 8]! | (b[s + 9]! << 8);
    if (v !== BINARY_TRACE_VERSION) {
      this.fail(
        "E_VERSION",
        `binary trace format version ${v} cannot be read by this build (it reads version ${BINARY_TRACE_VERSION})`,
        8,
      );
    }
    const stored = readU32(b, s + 12);
    if (crc32(b.subarray(s, s + 12)) !== stored) this.fail("E_CHECKSUM", "header checksum mismatch", 0);
    const flags = b[s + 10]! | (b[s + 11]! << 8);
    if (flags !== 0) this.fail("E_VERSION", `unknown header flags 0x${flags.toString(16)}`, 10);
    this.headerDone = true;
  }

  private block(b: Uint8Array, s: number, size: number): void {
    const type = b[s]!;
    const ps = s + BLOCK_HEAD_BYTES;
    const pe = s + size - 4;
    if (crc32(b.subarray(s, pe)) !== readU32(b, pe)) {
      this.fail("E_CHECKSUM", `checksum mismatch in block at byte offset ${this.offset}`, this.offset);
    }
    switch (type) {
      case BlockType.EVENTS:
        this.eventsBlock(b, ps, pe);
        break;
      case BlockType.VOCAB:
        this.vocabBlock(b, ps, pe);
        break;
      case BlockType.NOTE:
        this.noteBlock(b, ps, pe);
        break;
      case BlockType.SOURCE:
        this.sourceBlock(b, ps, pe);
        break;
      case BlockType.END_SOURCE:
        this.endSourceBlock(b, ps, pe);
        break;
      case BlockType.END:
        this.endBlock(b, ps, pe);
        break;
      default:
        if (type < FIRST_SKIPPABLE_BLOCK) {
          this.fail("E_VERSION", `unknown block type ${blockName(type)} (written by a newer homeostat?)`, this.offset);
        }
    }
  }

  private vocabBlock(b: Uint8Array, ps: number, pe: number): void {
    if (pe - ps < 4) this.malformed("VOCAB");
    const count = readU32(b, ps);
    if (this.fileVocab + count > MAX_VOCABULARY) this.malformed("VOCAB", "more tokens than a vocabulary holds");
    this.pos = ps + 4;
    if (this.fileVocab + count > this.remap.length) {
      const next = new Uint16Array(Math.min(MAX_VOCABULARY, Math.max(this.remap.length * 2, this.fileVocab + count)));
      next.set(this.remap);
      this.remap = next;
    }
    for (let i = 0; i < count; i++) {
      const len = this.varint(b, pe, "VOCAB");
      const start = this.pos;
      if (len > pe - start) this.malformed("VOCAB");
      try {
        this.remap[this.fileVocab++] = this.vocab.internBytes(b, start, start + len);
      } catch (err) {
        // The shared vocabulary overflowed (with the tokens of earlier inputs): this file is where.
        throw locateError(err, this.file);
      }
      this.pos = start + len;
    }
    if (this.pos !== pe) this.malformed("VOCAB", "trailing bytes");
  }

  private ensureColumns(count: number): void {
    if (count <= this.cap) return;
    const cap = Math.max(count, this.cap * 2, 1024);
    this.cap = cap;
    this.streams = new Int32Array(cap);
    this.syscalls = new Uint16Array(cap);
    this.times = new Float64Array(cap);
    this.timesBytes = new Uint8Array(this.times.buffer);
    this.rets = new Float64Array(cap);
    this.retsBytes = new Uint8Array(this.rets.buffer);
  }

  private eventsBlock(b: Uint8Array, ps: number, pe: number): void {
    if (pe - ps < 4) this.malformed("EVENTS");
    const count = readU32(b, ps);
    // Every call takes at least one byte (its syscall id), which bounds what a hostile count can allocate.
    if (count === 0 || count > pe - ps) this.malformed("EVENTS", "bad call count");
    this.ensureColumns(count);
    // Each column decodes in its own small function with one loop, so V8 optimises each with full feedback
    // (one big function called once per block kept being deoptimised on its not-yet-run paths).
    let p = decodeStreamRuns(b, ps + 4, pe, this.streams, count);
    if (p < 0) this.malformed("EVENTS", "bad stream runs");
    if (p >= pe) this.malformed("EVENTS");
    const width = b[p++]!;
    if ((width !== 1 && width !== 2) || count * width > pe - p) this.malformed("EVENTS", "bad syscall column");
    const bad =
      width === 1
        ? decodeSyscalls8(b, p, this.syscalls, count, this.remap, this.fileVocab)
        : decodeSyscalls16(b, p, this.syscalls, count, this.remap, this.fileVocab);
    if (bad >= 0) this.malformed("EVENTS", `syscall id ${bad} is not in the file's vocabulary`);
    p += count * width;
    p = decodeF64Column(b, p, pe, this.times, this.timesBytes, count);
    if (p < 0) this.malformed("EVENTS", "bad time column");
    p = decodeF64Column(b, p, pe, this.rets, this.retsBytes, count);
    if (p < 0) this.malformed("EVENTS", "bad return value column");
    if (p >= pe) this.malformed("EVENTS");
    const argsMode = b[p++]!;
    let args: (string | undefined)[] | undefined;
    if (argsMode === 1) {
      if (this.keepArgs) args = this.args;
      p = decodeArgs(b, p, pe, count, args);
      if (p < 0) this.malformed("EVENTS", "bad argument column");
    } else if (argsMode !== 0) {
      this.malformed("EVENTS", "bad argument column");
    }
    if (p !== pe) this.malformed("EVENTS", "trailing bytes");

    this.enterEvents();
    this.calls += count;
    this.sourceCalls += count;
    if (args === undefined) emitCalls(this.sink, count, this.streams, this.syscalls, this.times, this.rets);
    else emitCallsWithArgs(this.sink, count, this.streams, this.syscalls, this.times, this.rets, args);
  }

  private noteBlock(b: Uint8Array, ps: number, pe: number): void {
    this.pos = ps;
    const stream = unzigzag(this.varint(b, pe, "NOTE"));
    let p = this.pos;
    if (pe - p < 10 || (stream | 0) !== stream) this.malformed("NOTE");
    const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
    const time = view.getFloat64(p, true);
    const kindCode = b[p + 8]!;
    const flags = b[p + 9]!;
    p += 10;
    const kind = NOTE_KINDS[kindCode];
    if (kind === undefined) this.fail("E_VERSION", `unknown note kind ${kindCode} (written by a newer homeostat?)`);
    if (flags > 3) this.malformed("NOTE", "unknown flags");
    const note: StreamNote = { kind, time };
    if ((flags & 2) !== 0) {
      if (pe - p < 8) this.malformed("NOTE");
      note.code = view.getFloat64(p, true);
      p += 8;
    }
    if ((flags & 1) !== 0) {
      this.pos = p;
      const len = this.varint(b, pe, "NOTE");
      p = this.pos;
      if (len !== pe - p) this.malformed("NOTE", "bad detail length");
      note.detail = Buffer.from(b.buffer, b.byteOffset + p, len).toString("utf8");
      p += len;
    }
    if (p !== pe) this.malformed("NOTE", "trailing bytes");
    this.enterEvents();
    this.notes++;
    this.sourceNotes++;
    this.sink.note(stream, note);
  }

  private sourceBlock(b: Uint8Array, ps: number, pe: number): void {
    if (this.sourceOpen) this.malformed("SOURCE", "a source begins inside another");
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.from(b.buffer, b.byteOffset + ps, pe - ps).toString("utf8"));
    } catch {
      this.malformed("SOURCE", "not JSON");
    }
    const info = toSourceInfo(parsed);
    if (info === undefined) this.malformed("SOURCE", "not a source description");
    const bracket = this.options.bracketSources === true;
    if (bracket && this.defaultOpen) {
      this.defaultOpen = false;
      this.sink.endSource();
    }
    this.sources.push(info);
    this.sourceOpen = true;
    this.sourceCalls = 0;
    this.sourceNotes = 0;
    this.options.onSource?.(info);
    if (bracket) this.sink.beginSource(info);
  }

  private endSourceBlock(b: Uint8Array, ps: number, pe: number): void {
    if (!this.sourceOpen) this.malformed("END_SOURCE", "no source is open");
    this.pos = ps;
    const calls = this.varint(b, pe, "END_SOURCE");
    const notes = this.varint(b, pe, "END_SOURCE");
    if (this.pos !== pe) this.malformed("END_SOURCE", "trailing bytes");
    if (calls !== this.sourceCalls || notes !== this.sourceNotes) {
      this.fail(
        "E_ARCHIVE",
        `source ${JSON.stringify(this.sources[this.sources.length - 1]?.path)} read ${this.sourceCalls} calls and ` +
          `${this.sourceNotes} notes but its END_SOURCE block says ${calls} and ${notes}: blocks are missing`,
        this.offset,
      );
    }
    this.sourceOpen = false;
    this.options.onEndSource?.();
    if (this.options.bracketSources === true) this.sink.endSource();
  }

  private endBlock(b: Uint8Array, ps: number, pe: number): void {
    if (this.sourceOpen) this.malformed("END", "a source is still open");
    this.pos = ps;
    const calls = this.varint(b, pe, "END");
    const notes = this.varint(b, pe, "END");
    const sources = this.varint(b, pe, "END");
    if (this.pos !== pe) this.malformed("END", "trailing bytes");
    if (calls !== this.calls || notes !== this.notes || sources !== this.sources.length) {
      this.fail(
        "E_ARCHIVE",
        `file read ${this.calls} calls, ${this.notes} notes, ${this.sources.length} sources but its END block ` +
          `says ${calls}, ${notes}, ${sources}: blocks are missing`,
        this.offset,
      );
    }
    this.ended = true;
    this.complete = true;
  }

  /** With bracketSources, events outside any SOURCE block get a default source. */
  private enterEvents(): void {
    if (this.sourceOpen || this.defaultOpen || this.options.bracketSources !== true) return;
    this.defaultOpen = true;
    this.sink.beginSource({ path: this.file, format: "homeostat" });
  }

  private varint(b: Uint8Array, pe: number, block: string): number {
    const p = readVarintAt(b, this.pos, pe);
    if (p < 0) this.malformed(block, "bad varint");
    this.pos = p;
    return VARINT[0]!;
  }

  private malformed(block: string, why = "truncated payload"): never {
    throw new ParseError(`malformed ${block} block at byte offset ${this.offset}: ${why}`, {
      file: this.file,
    });
  }

  private fail(
    code: "E_FORMAT" | "E_VERSION" | "E_CHECKSUM" | "E_ARCHIVE" | "E_PARSE",
    msg: string,
    at?: number,
  ): never {
    const where = at === undefined || msg.includes("byte offset") ? "" : ` (byte offset ${at})`;
    throw new HomeostatError(code, `${msg}${where}`, { file: this.file });
  }
}

// Column decoders. Each returns the position after its column, or -1 (bad data); loops check bounds per byte.

function decodeStreamRuns(b: Uint8Array, p: number, pe: number, out: Int32Array, count: number): number {
  p = readVarintAt(b, p, pe);
  if (p < 0) return -1;
  const runs = VARINT[0]!;
  let filled = 0;
  for (let r = 0; r < runs; r++) {
    p = readVarintAt(b, p, pe);
    if (p < 0) return -1;
    const stream = unzigzag(VARINT[0]!);
    p = readVarintAt(b, p, pe);
    if (p < 0) return -1;
    const len = VARINT[0]!;
    if ((stream | 0) !== stream || len === 0 || len > count - filled) return -1;
    if (len < 16) for (let i = filled; i < filled + len; i++) out[i] = stream;
    else out.fill(stream, filled, filled + len);
    filled += len;
  }
  return filled === count ? p : -1;
}

/** Returns -1, or the first file id not in the file's vocabulary. */
function decodeSyscalls8(
  b: Uint8Array,
  p: number,
  out: Uint16Array,
  count: number,
  remap: Uint16Array,
  nv: number,
): number {
  for (let i = 0; i < count; i++) {
    const id = b[p + i]!;
    if (id >= nv) return id;
    out[i] = remap[id]!;
  }
  return -1;
}

function decodeSyscalls16(
  b: Uint8Array,
  p: number,
  out: Uint16Array,
  count: number,
  remap: Uint16Array,
  nv: number,
): number {
  for (let i = 0; i < count; i++) {
    const id = b[p + 2 * i]! | (b[p + 2 * i + 1]! << 8);
    if (id >= nv) return id;
    out[i] = remap[id]!;
  }
  return -1;
}

/** One f64 column: mode byte, then nothing (ABSENT), count LE doubles (RAW) or varints (SCALED). */
function decodeF64Column(
  b: Uint8Array,
  p: number,
  pe: number,
  out: Float64Array,
  outBytes: Uint8Array,
  count: number,
): number {
  if (p >= pe) return -1;
  const mode = b[p++]!;
  if (mode === F64Mode.ABSENT) {
    out.fill(Number.NaN, 0, count);
    return p;
  }
  if (mode === F64Mode.RAW) {
    if (count * 8 > pe - p) return -1;
    if (HOST_LITTLE_ENDIAN) {
      outBytes.set(b.subarray(p, p + count * 8));
    } else {
      const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(p + 8 * i, true);
    }
    return p + count * 8;
  }
  if (mode !== F64Mode.SCALED || pe - p < 2) return -1;
  const e = b[p++]!;
  const delta = b[p++]!;
  if (e >= POW10.length || delta > 1) return -1;
  return decodeScaled(b, p, pe, out, count, POW10[e]!, delta === 1);
}

function decodeScaled(
  b: Uint8Array,
  p: number,
  pe: number,
  out: Float64Array,
  count: number,
  scale: number,
  delta: boolean,
): number {
  let prev = 0;
  for (let i = 0; i < count; i++) {
    if (p >= pe) return -1;
    let c = b[p++]!;
    let code: number;
    if (c < 0x80) {
      code = c;
    } else {
      code = c & 0x7f;
      let mul = 128;
      for (;;) {
        if (p >= pe || mul > 2 ** 49) return -1;
        c = b[p++]!;
        code += (c & 0x7f) * mul;
        if (c < 0x80) break;
        mul *= 128;
      }
    }
    if (code === 0) {
      out[i] = Number.NaN;
      continue;
    }
    const z = code - 1;
    const d = z <= 0x7fffffff ? (z >>> 1) ^ -(z & 1) : unzigzag(z);
    if (delta) {
      prev += d;
      out[i] = prev / scale;
    } else {
      out[i] = d / scale;
    }
  }
  return p;
}

/** Per call a varint (byte length + 1, 0 = none) and UTF-8 bytes; decoded into `out` only when given. */
function decodeArgs(
  b: Uint8Array,
  p: number,
  pe: number,
  count: number,
  out: (string | undefined)[] | undefined,
): number {
  const text = out === undefined ? undefined : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  for (let i = 0; i < count; i++) {
    p = readVarintAt(b, p, pe);
    if (p < 0) return -1;
    const code = VARINT[0]!;
    if (code === 0) {
      if (out !== undefined) out[i] = undefined;
      continue;
    }
    const len = code - 1;
    if (len > pe - p) return -1;
    if (out !== undefined) out[i] = text!.toString("utf8", p, p + len);
    p += len;
  }
  return p;
}

function emitCalls(
  sink: EventSink,
  count: number,
  streams: Int32Array,
  syscalls: Uint16Array,
  times: Float64Array,
  rets: Float64Array,
): void {
  for (let i = 0; i < count; i++) sink.call(streams[i]!, syscalls[i]!, times[i]!, rets[i]!, undefined);
}

function emitCallsWithArgs(
  sink: EventSink,
  count: number,
  streams: Int32Array,
  syscalls: Uint16Array,
  times: Float64Array,
  rets: Float64Array,
  args: (string | undefined)[],
): void {
  for (let i = 0; i < count; i++) sink.call(streams[i]!, syscalls[i]!, times[i]!, rets[i]!, args[i]);
}

/**
 * The value of the last readVarintAt, so that the decoders return only a position. A typed array rather than a
 * `let`: storing a double into a module variable allocates a heap number each time.
 */
const VARINT = new Float64Array(1);

/** Reads a LEB128 varint of at most 8 bytes into VARINT[0]; returns the next position or -1. */
function readVarintAt(b: Uint8Array, p: number, pe: number): number {
  if (p >= pe) return -1;
  const c0 = b[p]!;
  if (c0 < 0x80) {
    VARINT[0] = c0;
    return p + 1;
  }
  let v = c0 & 0x7f;
  let mul = 128;
  p++;
  for (let i = 1; i < 8; i++) {
    if (p >= pe) return -1;
    const c = b[p++]!;
    v += (c & 0x7f) * mul;
    if (c < 0x80) {
      VARINT[0] = v;
      return p;
    }
    mul *= 128;
  }
  return -1;
}

function readU32(b: Uint8Array, p: number): number {
  return (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
}

const SOURCE_STRING_FIELDS = ["split", "attackType", "attackInstance"] as const;

/** Validates a SOURCE block's JSON, keeping only the known SourceInfo fields. */
function toSourceInfo(v: unknown): SourceInfo | undefined {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return undefined;
  const o = v as Record<string, unknown>;
  if (typeof o.path !== "string" || typeof o.format !== "string") return undefined;
  const info: SourceInfo = { path: o.path, format: o.format };
  if (o.label !== undefined) {
    if (o.label !== "normal" && o.label !== "attack") return undefined;
    info.label = o.label as Label;
  }
  for (const k of SOURCE_STRING_FIELDS) {
    const x = o[k];
    if (x === undefined) continue;
    if (typeof x !== "string") return undefined;
    info[k] = x;
  }
  if (o.attackTime !== undefined && o.attackTime !== null) {
    if (typeof o.attackTime !== "number") return undefined;
    info.attackTime = o.attackTime;
  }
  if (o.meta !== undefined) {
    if (typeof o.meta !== "object" || o.meta === null || Array.isArray(o.meta)) return undefined;
    info.meta = o.meta as Record<string, unknown>;
  }
  return info;
}

/** A parser of the binary format with access to its embedded sources and completeness. */
export function createBinaryTraceParser(options: BinaryParserOptions): BinaryTraceParser {
  return new BinaryTraceReader(options);
}

export const binaryTraceFormat: TraceFormat = {
  name: "homeostat",
  description: "homeostat's compact binary trace format (columnar, checksummed blocks)",
  sniff(head: Uint8Array): number {
    return hasBinaryTraceMagic(head) ? 1 : 0;
  },
  createParser(options: ParserOptions): BinaryTraceParser {
    return new BinaryTraceReader(options);
  },
};

export interface ReadBinaryOptions {
  lenient?: boolean;
  keepArgs?: boolean;
  /** Display path for errors (defaults to the path read). */
  file?: string;
}

function summary(p: BinaryTraceParser): BinaryReadSummary {
  return {
    complete: p.complete,
    truncatedAt: p.truncatedAt,
    calls: p.calls,
    notes: p.notes,
    sources: p.sources,
  };
}

/**
 * Reads whole bytes of a binary trace into a sink, calling sink.beginSource/endSource for each embedded source
 * (a default source for events outside any).
 */
export function readBinaryTrace(
  bytes: Uint8Array,
  vocab: Vocabulary,
  sink: EventSink,
  options: ReadBinaryOptions = {},
): BinaryReadSummary {
  const parser = createBinaryTraceParser({
    file: options.file ?? "<bytes>",
    vocab,
    sink,
    lenient: options.lenient,
    keepArgs: options.keepArgs,
    bracketSources: true,
  });
  parser.write(bytes);
  parser.end();
  return summary(parser);
}

/** Streams a binary trace file into a sink, bracketing its embedded sources like `readBinaryTrace`. */
export async function readBinaryTraceFile(
  path: string,
  vocab: Vocabulary,
  sink: EventSink,
  options: ReadBinaryOptions = {},
): Promise<BinaryReadSummary> {
  const file = options.file ?? path;
  const parser = createBinaryTraceParser({
    file,
    vocab,
    sink,
    lenient: options.lenient,
    keepArgs: options.keepArgs,
    bracketSources: true,
  });
  const stream = createReadStream(path, { highWaterMark: 1 << 20 });
  try {
    for await (const chunk of stream) parser.write(chunk as Buffer);
  } catch (err) {
    if (err instanceof HomeostatError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new HomeostatError(
      code === "ENOENT" ? "E_NOT_FOUND" : "E_IO",
      `cannot read ${file}: ${(err as Error).message}`,
      { file },
      { cause: err },
    );
  } finally {
    stream.destroy();
  }
  parser.end();
  return summary(parser);
}
