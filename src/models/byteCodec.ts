// Little-endian byte writer and bounds-checked reader for detectors' `serialize` / `deserialize`. Numbers are
// written as fixed-width fields (u16, u32, f64) so that a restored model holds bit-identical parameters; the reader
// throws HomeostatError E_PARSE on truncated or trailing bytes instead of reading garbage.

import { HomeostatError } from "../errors.js";

export class ByteWriter {
  private buf = new Uint8Array(256);
  private view = new DataView(this.buf.buffer);
  private used = 0;

  private reserve(extra: number): void {
    if (this.used + extra <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.used + extra) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.used));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u16(v: number): void {
    this.reserve(2);
    this.view.setUint16(this.used, v, true);
    this.used += 2;
  }

  u32(v: number): void {
    this.reserve(4);
    this.view.setUint32(this.used, v, true);
    this.used += 4;
  }

  i32(v: number): void {
    this.reserve(4);
    this.view.setInt32(this.used, v, true);
    this.used += 4;
  }

  f64(v: number): void {
    this.reserve(8);
    this.view.setFloat64(this.used, v, true);
    this.used += 8;
  }

  f64Array(a: Float64Array, start = 0, end = a.length): void {
    this.reserve((end - start) * 8);
    for (let i = start; i < end; i++) {
      this.view.setFloat64(this.used, a[i]!, true);
      this.used += 8;
    }
  }

  u16Array(a: Uint16Array, start = 0, end = a.length): void {
    this.reserve((end - start) * 2);
    for (let i = start; i < end; i++) {
      this.view.setUint16(this.used, a[i]!, true);
      this.used += 2;
    }
  }

  /** The bytes written so far (a copy of exactly that length). */
  finish(): Uint8Array {
    return this.buf.slice(0, this.used);
  }
}

export class ByteReader {
  private readonly view: DataView;
  private pos = 0;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly what: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get remaining(): number {
    return this.bytes.byteLength - this.pos;
  }

  private need(n: number): void {
    if (this.pos + n > this.bytes.byteLength) {
      throw new HomeostatError(
        "E_PARSE",
        `${this.what}: truncated model data (needed ${n} bytes at offset ${this.pos})`,
      );
    }
  }

  u16(): number {
    this.need(2);
    const v = this.view.getUint16(this.pos, true);
    this.pos += 2;
    return v;
  }

  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }

  i32(): number {
    this.need(4);
    const v = this.view.getInt32(this.pos, true);
    this.pos += 4;
    return v;
  }

  f64(): number {
    this.need(8);
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  /** Reads `count` doubles into a new array; `count` is checked against the bytes left before allocating. */
  f64Array(count: number): Float64Array {
    this.need(count * 8);
    const out = new Float64Array(count);
    for (let i = 0; i < count; i++) {
      out[i] = this.view.getFloat64(this.pos, true);
      this.pos += 8;
    }
    return out;
  }

  u16Array(count: number): Uint16Array {
    this.need(count * 2);
    const out = new Uint16Array(count);
    for (let i = 0; i < count; i++) {
      out[i] = this.view.getUint16(this.pos, true);
      this.pos += 2;
    }
    return out;
  }

  /** Throws unless every byte was consumed. */
  end(): void {
    if (this.pos !== this.bytes.byteLength) {
      throw new HomeostatError(
        "E_PARSE",
        `${this.what}: ${this.bytes.byteLength - this.pos} unexpected trailing bytes`,
      );
    }
  }

  fail(message: string): never {
    throw new HomeostatError("E_PARSE", `${this.what}: ${message}`);
  }
}
