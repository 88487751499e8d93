// The reader of homeostat's binary trace format (docs/binary-trace-format.md): gives the blocks that the framer
// (binaryBlockFramer.ts) cuts out of the bytes their meaning. VOCAB blocks map the file's syscall ids onto the
// caller's vocabulary; EVENTS blocks decode column by column (binaryColumnDecoder.ts) into reused typed arrays and
// go to the sink; NOTE, SOURCE and END_SOURCE blocks become notes and sources; the END and END_SOURCE totals must
// match what was read, which catches a block that went missing.
//
// Sources inside a file: by the TraceFormat contract a parser never calls sink.beginSource/endSource (its caller
// does, once per input file). A binary file may hold many sources (a converted dataset), so this parser reports
// them through `BinaryParserOptions.onSource` / `onEndSource` callbacks and its `sources` property. With
// `bracketSources: true` the parser itself calls sink.beginSource/endSource around each embedded source (events
// outside any SOURCE block get a default source `{ path: file, format: "homeostat" }`).

import { ParseError } from "../errors.js";
import { MAX_VOCABULARY, type Vocabulary } from "../syscalls/vocabulary.js";
import type { EventSink, SourceInfo, StreamNote } from "./event.js";
import { locateError, type ParserOptions, type TraceParser } from "./format.js";
import { BinaryBlockFramer, type BinaryBlockHandler } from "./binaryBlockFramer.js";
import {
  decodeArgs,
  decodeF64Column,
  decodeStreamRuns,
  decodeSyscalls16,
  decodeSyscalls8,
  emitCalls,
  emitCallsWithArgs,
  readVarintAt,
  VARINT,
} from "./binaryColumnDecoder.js";
import {
  binaryTraceError,
  BlockType,
  blockName,
  FIRST_SKIPPABLE_BLOCK,
  NOTE_KINDS,
  readU32,
  unzigzag,
} from "./binaryTraceLayout.js";
import { toSourceInfo } from "./binarySourceInfo.js";

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

export class BinaryTraceReader implements BinaryTraceParser, BinaryBlockHandler {
  complete = false;
  calls = 0;
  notes = 0;
  readonly sources: SourceInfo[] = [];

  private readonly file: string;
  private readonly vocab: Vocabulary;
  private readonly sink: EventSink;
  private readonly keepArgs: boolean;
  private readonly options: BinaryParserOptions;
  private readonly framer: BinaryBlockFramer;

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
    this.keepArgs = options.keepArgs === true;
    this.framer = new BinaryBlockFramer(this, {
      file: options.file,
      lenient: options.lenient === true,
      onSkip: options.onSkip,
    });
  }

  /** Lenient mode only: byte offset of a trailing partial block (or header) that was ignored. */
  get truncatedAt(): number | undefined {
    return this.framer.truncatedAt;
  }

  write(input: Uint8Array): void {
    this.framer.write(input);
  }

  end(): void {
    this.framer.end();
    if (this.options.bracketSources === true && (this.sourceOpen || this.defaultOpen)) {
      this.sourceOpen = false;
      this.defaultOpen = false;
      this.sink.endSource();
    }
  }

  block(type: number, b: Uint8Array, ps: number, pe: number): void {
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
          this.fail(
            "E_VERSION",
            `unknown block type ${blockName(type)} (written by a newer homeostat?)`,
            this.framer.offset,
          );
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
        this.framer.offset,
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
        this.framer.offset,
      );
    }
    this.framer.ended = true;
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
    throw new ParseError(`malformed ${block} block at byte offset ${this.framer.offset}: ${why}`, {
      file: this.file,
    });
  }

  private fail(code: "E_VERSION" | "E_ARCHIVE", msg: string, at?: number): never {
    throw binaryTraceError(code, msg, this.file, at);
  }
}
