// Bounds-checked little-endian reads of an ELF file's bytes, held whole or read in pieces from a file (fileSource.ts),
// for the ELF parser (elfFile.ts and the elf*.ts files it composes). Every failure is an E_FORMAT HomeostatError
// naming the file, never a RangeError. The ELF64 data types it reads (Elf64_Half, _Word, _Xword, _Sxword, _Addr,
// _Off) and NUL-terminated string tables are those of the System V gABI.

import { HomeostatError } from "../errors.js";
import type { ByteSource } from "./fileSource.js";

/** File offsets [offset, end). */
export interface FileRange {
  offset: number;
  end: number;
}

/** Longer names than this are taken as corruption: it bounds the work a crafted string table can cause. */
const MAX_STRING = 1 << 16;

const utf8 = new TextDecoder("utf-8");

interface Piece {
  start: number;
  bytes: Uint8Array;
  view: DataView;
}

/** Pieces of a file read at once: a whole page or more, since the headers a loader reads lie close together. */
const PIECE_BYTES = 16384;

function pieceOf(start: number, bytes: Uint8Array): Piece {
  return { start, bytes, view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength) };
}

/**
 * Bounds-checked little-endian reads; every failure is an E_FORMAT naming the file. Over a file, only the pieces
 * read are held until something needs the whole file (`whole`): an object whose summary is cached needs its
 * headers and dynamic section, a few pages of a file of megabytes.
 */
export class Bytes {
  readonly length: number;
  private data: Uint8Array | undefined;
  private pieces: Piece[] = [];
  /** Where the file's bytes come from when they are not in memory (undefined: given whole, kept). */
  private readonly source: ByteSource | undefined;

  constructor(
    data: Uint8Array | ByteSource,
    readonly path: string,
  ) {
    if (data instanceof Uint8Array) {
      this.length = data.length;
      this.setWhole(data);
    } else {
      this.length = data.length;
      this.source = data;
    }
  }

  private setWhole(data: Uint8Array): void {
    this.data = data;
    this.pieces = [pieceOf(0, data)];
  }

  /** Lets go of the file's bytes, when they can be read again; the source checks then that the file is the same. */
  release(): void {
    if (this.source === undefined) return;
    this.data = undefined;
    this.pieces = [];
  }

  /** The whole file, read now if only pieces were. Bytes read before must be unchanged (E_IO otherwise). */
  whole(): Uint8Array {
    if (this.data !== undefined) return this.data;
    const all = this.source!.all();
    const same =
      all.length === this.length &&
      this.pieces.every((p) => Buffer.compare(p.bytes, all.subarray(p.start, p.start + p.bytes.length)) === 0);
    if (!same) throw new HomeostatError("E_IO", "the file changed while it was being analysed", { file: this.path });
    this.setWhole(all);
    return all;
  }

  /** A piece holding [at, at + length), which lies inside the file. */
  private piece(at: number, length: number): Piece {
    for (const p of this.pieces) if (at >= p.start && at + length <= p.start + p.bytes.length) return p;
    const end = Math.min(this.length, at + Math.max(length, PIECE_BYTES));
    const p = pieceOf(at, this.source!.range(at, end - at));
    this.pieces.push(p);
    return p;
  }

  fail(message: string): HomeostatError {
    return new HomeostatError("E_FORMAT", message, { file: this.path });
  }

  /** Throws unless [at, at + length) lies inside the file. */
  need(at: number, length: number, what: string): void {
    if (!(Number.isSafeInteger(at) && Number.isSafeInteger(length) && at >= 0 && length >= 0)) {
      throw this.fail(`corrupt ELF: ${what} has an impossible offset or size`);
    }
    if (at + length > this.length) throw this.fail(`truncated ELF: ${what} lies past the end of the file`);
  }

  /** Bytes [at, at + length) after `need`. */
  slice(at: number, length: number): Uint8Array {
    const p = this.piece(at, length);
    return p.bytes.subarray(at - p.start, at - p.start + length);
  }

  u8(at: number): number {
    this.need(at, 1, `a read at offset ${at}`);
    const p = this.piece(at, 1);
    return p.bytes[at - p.start]!;
  }
  u16(at: number): number {
    this.need(at, 2, `a read at offset ${at}`);
    const p = this.piece(at, 2);
    return p.view.getUint16(at - p.start, true);
  }
  u32(at: number): number {
    this.need(at, 4, `a read at offset ${at}`);
    const p = this.piece(at, 4);
    return p.view.getUint32(at - p.start, true);
  }
  u64(at: number): number {
    this.need(at, 8, `a read at offset ${at}`);
    const p = this.piece(at, 8);
    const i = at - p.start;
    return p.view.getUint32(i, true) + p.view.getUint32(i + 4, true) * 2 ** 32;
  }
  i64(at: number): number {
    this.need(at, 8, `a read at offset ${at}`);
    const p = this.piece(at, 8);
    const i = at - p.start;
    return p.view.getUint32(i, true) + p.view.getInt32(i + 4, true) * 2 ** 32;
  }

  /** The NUL-terminated string at `at`, which must end before `end`. */
  cstring(at: number, end: number, what: string): string {
    const limit = Math.min(end, this.length, at + MAX_STRING);
    if (!(at >= 0 && at < limit)) throw this.fail(`corrupt ELF: ${what} lies outside its string table`);
    const text = this.slice(at, limit - at);
    const stop = text.indexOf(0);
    if (stop < 0 && limit === at + MAX_STRING) throw this.fail(`corrupt ELF: ${what} is longer than 64 KiB`);
    if (stop < 0) throw this.fail(`corrupt ELF: ${what} is not terminated inside its string table`);
    return utf8.decode(text.subarray(0, stop));
  }
}
