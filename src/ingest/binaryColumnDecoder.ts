// Decoders of the columns of an EVENTS block of homeostat's binary trace format (docs/binary-trace-format.md):
// stream runs, u8/u16 syscall ids, f64 columns (absent, raw or scaled-integer varints) and argument strings, each
// a tight loop into reused typed arrays, and the loops that hand the decoded calls to a sink.
//
// Each decoder returns the position after its column, or -1 (bad data); loops check bounds per byte.

import type { EventSink } from "./event.js";
import { F64Mode, HOST_LITTLE_ENDIAN, POW10, unzigzag } from "./binaryTraceLayout.js";

export function decodeStreamRuns(b: Uint8Array, p: number, pe: number, out: Int32Array, count: number): number {
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
export function decodeSyscalls8(
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

export function decodeSyscalls16(
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
export function decodeF64Column(
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
export function decodeArgs(
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

export function emitCalls(
  sink: EventSink,
  count: number,
  streams: Int32Array,
  syscalls: Uint16Array,
  times: Float64Array,
  rets: Float64Array,
): void {
  for (let i = 0; i < count; i++) sink.call(streams[i]!, syscalls[i]!, times[i]!, rets[i]!, undefined);
}

export function emitCallsWithArgs(
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
export const VARINT = new Float64Array(1);

/** Reads a LEB128 varint of at most 8 bytes into VARINT[0]; returns the next position or -1. */
export function readVarintAt(b: Uint8Array, p: number, pe: number): number {
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
