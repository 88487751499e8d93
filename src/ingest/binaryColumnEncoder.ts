// Encoders of the columns of an EVENTS block of homeostat's binary trace format (docs/binary-trace-format.md), the
// writer's side of binaryColumnDecoder.ts: stream runs, u8/u16 syscall ids, and f64 columns stored as absent,
// scaled integers (zigzag varints, optionally deltas) when one power of ten represents every value exactly, or raw.
// Each is one loop in its own small function, so that V8 optimises each with full type feedback.
//
// Each encoder writes at `p` into a buffer the writer has already grown enough, and returns the position after.

import { F64Mode, HOST_LITTLE_ENDIAN, POW10, SCALED_LIMIT, writeVarint, zigzag } from "./binaryTraceLayout.js";

/** Streams as runs: varint run count, then per run zigzag varint stream and varint length. */
export function encodeStreamRuns(b: Uint8Array, p: number, streams: Int32Array, n: number): number {
  let runs = 1;
  for (let i = 1; i < n; i++) if (streams[i] !== streams[i - 1]) runs++;
  p = writeVarint(b, p, runs);
  let runStart = 0;
  for (let i = 1; i <= n; i++) {
    if (i === n || streams[i] !== streams[runStart]) {
      p = writeVarint(b, p, zigzag(streams[runStart]!));
      p = writeVarint(b, p, i - runStart);
      runStart = i;
    }
  }
  return p;
}

export function encodeSyscalls8(b: Uint8Array, p: number, syscalls: Uint16Array, n: number): number {
  b[p++] = 1;
  for (let i = 0; i < n; i++) b[p + i] = syscalls[i]!;
  return p + n;
}

export function encodeSyscalls16(b: Uint8Array, p: number, syscalls: Uint16Array, n: number): number {
  b[p++] = 2;
  for (let i = 0; i < n; i++) {
    const s = syscalls[i]!;
    b[p + 2 * i] = s & 0xff;
    b[p + 2 * i + 1] = s >>> 8;
  }
  return p + 2 * n;
}

/**
 * Encodes an f64 column: ABSENT when all NaN; SCALED (integers m with m / 10^e === v exactly, zigzag varints,
 * 0 = NaN, optionally deltas) when one exponent fits every value; RAW f64 otherwise.
 */
export function writeF64Column(
  b: Buffer,
  p: number,
  col: Float64Array,
  n: number,
  exponents: readonly number[],
  delta: boolean,
  codes: Float64Array,
): number {
  let any = false;
  for (let i = 0; i < n; i++) {
    if (!Number.isNaN(col[i]!)) {
      any = true;
      break;
    }
  }
  if (!any) {
    b[p++] = F64Mode.ABSENT;
    return p;
  }
  let exp = -1;
  for (const e of exponents) {
    if (fitsScale(col, n, POW10[e]!)) {
      exp = e;
      break;
    }
  }
  if (exp < 0) {
    b[p++] = F64Mode.RAW;
    if (HOST_LITTLE_ENDIAN) {
      b.set(new Uint8Array(col.buffer, col.byteOffset, n * 8), p);
      return p + n * 8;
    }
    for (let i = 0; i < n; i++) b.writeDoubleLE(col[i]!, p + 8 * i);
    return p + n * 8;
  }
  const scale = POW10[exp]!;
  computeCodes(col, n, scale, delta, codes);
  b[p++] = F64Mode.SCALED;
  b[p++] = exp;
  b[p++] = delta ? 1 : 0;
  return encodeVarints(b, p, codes, n);
}

/** Codes of the scaled encoding: 0 = NaN, else zigzag(m or the delta of m) + 1. */
function computeCodes(col: Float64Array, n: number, scale: number, delta: boolean, codes: Float64Array): void {
  let prev = 0;
  for (let i = 0; i < n; i++) {
    const v = col[i]!;
    if (Number.isNaN(v)) {
      codes[i] = 0;
      continue;
    }
    const m = Math.round(v * scale);
    let d = m;
    if (delta) {
      d = m - prev;
      prev = m;
    }
    codes[i] = (d >= 0 ? 2 * d : -2 * d - 1) + 1;
  }
}

function encodeVarints(b: Uint8Array, p: number, codes: Float64Array, n: number): number {
  for (let i = 0; i < n; i++) {
    const c = codes[i]!;
    if (c < 0x80) b[p++] = c;
    else p = writeVarint(b, p, c);
  }
  return p;
}

/** Whether every non-NaN value is exactly m / scale for an integer m within SCALED_LIMIT (and not -0). */
function fitsScale(col: Float64Array, n: number, scale: number): boolean {
  for (let i = 0; i < n; i++) {
    const v = col[i]!;
    if (Number.isNaN(v)) continue;
    const m = Math.round(v * scale);
    if (!(m <= SCALED_LIMIT && m >= -SCALED_LIMIT) || m / scale !== v || (v === 0 && 1 / v < 0)) return false;
  }
  return true;
}
