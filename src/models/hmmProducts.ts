// The matrix products of the HMM in plain JavaScript, for Baum-Welch (baumWelch.ts; Rabiner, "A tutorial on hidden
// Markov models", Proc. IEEE 1989) and the forward filter (hmmFilter.ts): a row vector times A, where the
// WebAssembly SIMD kernel (simdKernel.ts) is unavailable, with results bit-identical to it, and the transition
// counts as one blocked matrix product per sequence. FLUSH keeps every factor of these products normal.

/**
 * Values below this are set to zero: far below anything that changes a likelihood, and the product of two stays
 * above the denormal range (a denormal product runs two orders of magnitude slower).
 */
export const FLUSH = 1e-100;

/**
 * out[outOff + j] = sum_i x[xOff + i] * m[i * n + j] for j < n: a row vector times a row-major n x n matrix. Eight
 * outputs are accumulated at once so that each x[i] is loaded once per eight products and the sums stay in
 * registers (about 2.5x faster in V8 than updating `out` row by row). Sums run over i in increasing order.
 */
export function vecMat(x: Float64Array, xOff: number, m: Float64Array, n: number, out: Float64Array, outOff: number) {
  let j = 0;
  for (; j + 8 <= n; j += 8) {
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    let s4 = 0;
    let s5 = 0;
    let s6 = 0;
    let s7 = 0;
    for (let i = 0, r = j; i < n; i++, r += n) {
      const f = x[xOff + i]!;
      s0 += f * m[r]!;
      s1 += f * m[r + 1]!;
      s2 += f * m[r + 2]!;
      s3 += f * m[r + 3]!;
      s4 += f * m[r + 4]!;
      s5 += f * m[r + 5]!;
      s6 += f * m[r + 6]!;
      s7 += f * m[r + 7]!;
    }
    out[outOff + j] = s0;
    out[outOff + j + 1] = s1;
    out[outOff + j + 2] = s2;
    out[outOff + j + 3] = s3;
    out[outOff + j + 4] = s4;
    out[outOff + j + 5] = s5;
    out[outOff + j + 6] = s6;
    out[outOff + j + 7] = s7;
  }
  for (; j < n; j++) {
    let s = 0;
    for (let i = 0, r = j; i < n; i++, r += n) s += x[xOff + i]! * m[r]!;
    out[outOff + j] = s;
  }
}

/** Rows of t processed together by `outerSum`: two 40-state blocks of them fit in a 64 KB L1 cache. */
const T_CHUNK = 64;

/**
 * acc[i * n + j] += w * sum_{t < count} x[t * n + i] * y[(t + 1) * n + j]: the sum of outer products of
 * consecutive rows, as a blocked matrix product (2 x 4 accumulators in registers, t in cache-sized chunks).
 */
export function outerSum(
  x: Float64Array,
  y: Float64Array,
  count: number,
  n: number,
  w: number,
  acc: Float64Array,
): void {
  for (let t0 = 0; t0 < count; t0 += T_CHUNK) {
    const t1 = Math.min(count, t0 + T_CHUNK);
    let i = 0;
    for (; i + 2 <= n; i += 2) {
      let j = 0;
      for (; j + 4 <= n; j += 4) {
        let a0 = 0;
        let a1 = 0;
        let a2 = 0;
        let a3 = 0;
        let b0 = 0;
        let b1 = 0;
        let b2 = 0;
        let b3 = 0;
        for (let t = t0; t < t1; t++) {
          const xr = t * n + i;
          const x0 = x[xr]!;
          const x1 = x[xr + 1]!;
          const yr = xr - i + n + j;
          const y0 = y[yr]!;
          const y1 = y[yr + 1]!;
          const y2 = y[yr + 2]!;
          const y3 = y[yr + 3]!;
          a0 += x0 * y0;
          a1 += x0 * y1;
          a2 += x0 * y2;
          a3 += x0 * y3;
          b0 += x1 * y0;
          b1 += x1 * y1;
          b2 += x1 * y2;
          b3 += x1 * y3;
        }
        const r0 = i * n + j;
        const r1 = r0 + n;
        acc[r0]! += w * a0;
        acc[r0 + 1]! += w * a1;
        acc[r0 + 2]! += w * a2;
        acc[r0 + 3]! += w * a3;
        acc[r1]! += w * b0;
        acc[r1 + 1]! += w * b1;
        acc[r1 + 2]! += w * b2;
        acc[r1 + 3]! += w * b3;
      }
      for (; j < n; j++) {
        let a0 = 0;
        let b0 = 0;
        for (let t = t0; t < t1; t++) {
          const v = y[(t + 1) * n + j]!;
          a0 += x[t * n + i]! * v;
          b0 += x[t * n + i + 1]! * v;
        }
        acc[i * n + j]! += w * a0;
        acc[(i + 1) * n + j]! += w * b0;
      }
    }
    for (; i < n; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let t = t0; t < t1; t++) s += x[t * n + i]! * y[(t + 1) * n + j]!;
        acc[i * n + j]! += w * s;
      }
    }
  }
}
