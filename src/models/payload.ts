// Little-endian byte writer and reader for every stored model (the bytes `Detector.serialize` returns and
// `DetectorFactory.deserialize` reads, and the KS bigram format); the one codec of src/models. The reader never
// reads past the end: a short or malformed payload is E_PARSE naming the model kind, never a RangeError, so that
// every model reports damaged bytes the same way, as malformed input (profile.ts adds the file's name). A payload
// of another format version is not damage but a build that cannot read it: E_VERSION, alike for every model.

import { HomeostatError } from "../errors.js";

/**
 * Whether this host is little-endian, the payloads' byte order: then arrays are copied as bytes, where a loop of
 * DataView calls would run once per profile, mostly unoptimised.
 */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function bytesOf(values: Uint16Array | Uint32Array): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

export class PayloadWriter {
  private bytes = new Uint8Array(256);
  private view = new DataView(this.bytes.buffer);
  private used = 0;

  private reserve(n: number): void {
    if (this.used + n <= this.bytes.length) return;
    const next = new Uint8Array(Math.max(this.bytes.length * 2, this.used + n));
    next.set(this.bytes.subarray(0, this.used));
    this.bytes = next;
    this.view = new DataView(next.buffer);
  }

  u8(v: number): this {
    this.reserve(1);
    this.view.setUint8(this.used, v);
    this.used += 1;
    return this;
  }

  u16(v: number): this {
    this.reserve(2);
    this.view.setUint16(this.used, v, true);
    this.used += 2;
    return this;
  }

  u32(v: number): this {
    this.reserve(4);
    this.view.setUint32(this.used, v, true);
    this.used += 4;
    return this;
  }

  i32(v: number): this {
    this.reserve(4);
    this.view.setInt32(this.used, v, true);
    this.used += 4;
    return this;
  }

  f64(v: number): this {
    this.reserve(8);
    this.view.setFloat64(this.used, v, true);
    this.used += 8;
    return this;
  }

  u16s(values: Uint16Array): this {
    if (LITTLE_ENDIAN) return this.raw(bytesOf(values));
    this.reserve(values.length * 2);
    for (let i = 0; i < values.length; i++) this.view.setUint16(this.used + i * 2, values[i]!, true);
    this.used += values.length * 2;
    return this;
  }

  f64s(values: Float64Array): this {
    this.reserve(values.length * 8);
    for (let i = 0; i < values.length; i++) this.view.setFloat64(this.used + i * 8, values[i]!, true);
    this.used += values.length * 8;
    return this;
  }

  u32s(values: Uint32Array): this {
    if (LITTLE_ENDIAN) return this.raw(bytesOf(values));
    this.reserve(values.length * 4);
    for (let i = 0; i < values.length; i++) this.view.setUint32(this.used + i * 4, values[i]!, true);
    this.used += values.length * 4;
    return this;
  }

  raw(values: Uint8Array): this {
    this.reserve(values.length);
    this.bytes.set(values, this.used);
    this.used += values.length;
    return this;
  }

  /** The bytes written so far, as a view that the next write may invalidate (to checksum them). */
  written(): Uint8Array {
    return this.bytes.subarray(0, this.used);
  }

  finish(): Uint8Array {
    return this.bytes.slice(0, this.used);
  }
}

export class PayloadReader {
  private readonly view: DataView;
  private at = 0;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly kind: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** The error for a payload that is not what this model writes (E_PARSE). */
  fail(message: string): HomeostatError {
    return new HomeostatError("E_PARSE", `corrupt ${this.kind} model payload: ${message}`);
  }

  /**
   * The error for an intact payload whose leading version field is not the one this build writes (E_VERSION): the
   * profile's checksum has already ruled out a damaged byte, so another version is a build mismatch.
   */
  wrongVersion(found: number, expected: number): HomeostatError {
    return new HomeostatError(
      "E_VERSION",
      `${this.kind} model payload version ${found} is not supported (this build reads version ${expected})`,
    );
  }

  /** Reads an unsigned version field of `bytes` bytes (1, 2 or 4) and throws E_VERSION unless it is `expected`. */
  version(expected: number, bytes: 1 | 2 | 4): void {
    const v = bytes === 1 ? this.u8() : bytes === 2 ? this.u16() : this.u32();
    if (v !== expected) throw this.wrongVersion(v, expected);
  }

  private need(n: number): number {
    if (!Number.isSafeInteger(n) || n < 0 || this.at + n > this.bytes.length) {
      throw this.fail(`truncated at byte ${this.at} (needs ${n} more of ${this.bytes.length})`);
    }
    const at = this.at;
    this.at += n;
    return at;
  }

  u8(): number {
    return this.view.getUint8(this.need(1));
  }

  u16(): number {
    return this.view.getUint16(this.need(2), true);
  }

  u32(): number {
    return this.view.getUint32(this.need(4), true);
  }

  i32(): number {
    return this.view.getInt32(this.need(4), true);
  }

  f64(): number {
    return this.view.getFloat64(this.need(8), true);
  }

  /** A count of calls or traces: a non-negative safe integer. */
  count(what: string): number {
    const v = this.f64();
    if (!Number.isSafeInteger(v) || v < 0) throw this.fail(`${what} is not a count (${v})`);
    return v;
  }

  u16s(n: number): Uint16Array {
    const at = this.need(n * 2);
    const out = new Uint16Array(n);
    if (LITTLE_ENDIAN) {
      bytesOf(out).set(this.bytes.subarray(at, at + n * 2));
      return out;
    }
    for (let i = 0; i < n; i++) out[i] = this.view.getUint16(at + i * 2, true);
    return out;
  }

  f64s(n: number): Float64Array {
    const at = this.need(n * 8);
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = this.view.getFloat64(at + i * 8, true);
    return out;
  }

  /** Bytes not read yet (to check a stored count against the data before allocating). */
  get remaining(): number {
    return this.bytes.length - this.at;
  }

  u32s(n: number): Uint32Array {
    const at = this.need(n * 4);
    const out = new Uint32Array(n);
    if (LITTLE_ENDIAN) {
      bytesOf(out).set(this.bytes.subarray(at, at + n * 4));
      return out;
    }
    for (let i = 0; i < n; i++) out[i] = this.view.getUint32(at + i * 4, true);
    return out;
  }

  raw(n: number): Uint8Array {
    const at = this.need(n);
    return this.bytes.slice(at, at + n);
  }

  /** Throws unless every byte was read: trailing bytes mean a different layout. */
  end(): void {
    if (this.at !== this.bytes.length) throw this.fail(`${this.bytes.length - this.at} unexpected trailing bytes`);
  }
}

/**
 * Reads the prelude stide and lookahead payloads share: a version byte, then trained calls and traces. Each model
 * keeps its own version number, so one can change its layout without the other.
 */
export function readTrainingPrelude(r: PayloadReader, version: number): { calls: number; traces: number } {
  r.version(version, 1);
  return { calls: r.count("trained calls"), traces: r.count("trained traces") };
}
