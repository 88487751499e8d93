// The framing of homeostat's binary trace format (docs/binary-trace-format.md): cuts a byte stream, in chunks of
// any size, into the 16-byte header and whole blocks, carrying a partly received item over to the next chunk. It
// checks the header (magic, version, flags, CRC-32) and each block's length bound and CRC-32, then hands the
// block's type and payload to the reader (binaryTraceReader.ts), which gives the blocks their meaning.
//
// Only a cut-off tail is forgiven, and only in lenient mode: `end()` then records where it began (`truncatedAt`)
// and reports it through onSkip instead of failing.

import { crc32 } from "node:zlib";
import { ParseError } from "../errors.js";
import {
  BINARY_TRACE_MAGIC,
  BINARY_TRACE_VERSION,
  BLOCK_HEAD_BYTES,
  BLOCK_OVERHEAD_BYTES,
  binaryTraceError,
  HEADER_BYTES,
  MAX_BLOCK_PAYLOAD,
  readU32,
} from "./binaryTraceLayout.js";

/** What the framer hands each checked block to. */
export interface BinaryBlockHandler {
  /** A block whose CRC matched: its type and its payload `b[ps, pe)`. */
  block(type: number, b: Uint8Array, ps: number, pe: number): void;
}

export interface BinaryBlockFramerOptions {
  file: string;
  lenient: boolean;
  onSkip: ((err: ParseError) => void) | undefined;
}

export class BinaryBlockFramer {
  /** File offset of the first byte not yet consumed (the start of `pending`, or of the block being handled). */
  offset = 0;
  /** Set by the reader once the END block is read: any byte after it is an error. */
  ended = false;
  /** Lenient mode only: byte offset of a trailing partial block (or header) that was ignored. */
  truncatedAt: number | undefined = undefined;

  private readonly handler: BinaryBlockHandler;
  private readonly file: string;
  private readonly lenient: boolean;
  private readonly onSkip: ((err: ParseError) => void) | undefined;
  private headerDone = false;
  private pending = new Uint8Array(0);
  private pendingLen = 0;

  constructor(handler: BinaryBlockHandler, options: BinaryBlockFramerOptions) {
    this.handler = handler;
    this.file = options.file;
    this.lenient = options.lenient;
    this.onSkip = options.onSkip;
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

  /** The input is over: a partial item left is a cut-off file (an error unless lenient). */
  end(): void {
    if (this.pendingLen === 0 && this.headerDone) return;
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
    this.onSkip?.(
      new ParseError(`ignored a truncated ${this.headerDone ? "block" : "header"} at byte offset ${at}`, {
        file: this.file,
      }),
    );
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
    const pe = s + size - 4;
    if (crc32(b.subarray(s, pe)) !== readU32(b, pe)) {
      this.fail("E_CHECKSUM", `checksum mismatch in block at byte offset ${this.offset}`, this.offset);
    }
    this.handler.block(b[s]!, b, s + BLOCK_HEAD_BYTES, pe);
  }

  private fail(
    code: "E_FORMAT" | "E_VERSION" | "E_CHECKSUM" | "E_ARCHIVE" | "E_PARSE",
    msg: string,
    at: number,
  ): never {
    throw binaryTraceError(code, msg, this.file, at);
  }
}
