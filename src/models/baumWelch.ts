// Baum-Welch re-estimation of a discrete hidden Markov model with scaling (Rabiner, "A tutorial on hidden Markov
// models and selected applications in speech recognition", Proc. IEEE 1989: sections III.C and V.A-B, scaled
// forward/backward variables and several weighted observation sequences). The HMM detector (hmm.ts) trains with
// this and scores with the same parameter layout (hmmParameters.ts).
//
// Layout: A row-major (a[i * S + j] = P(j | i)) and B symbol-major (b[k * S + i] = P(k | i)), Float64Arrays, so
// that every loop over states reads contiguous memory. Products by A and by its transpose run in the WebAssembly
// SIMD kernel (simdKernel.ts) when available, on forward/backward variables that live in the kernel's memory, or
// in `vecMat` otherwise, with bit-identical results; the transition counts are summed as one blocked matrix
// product per sequence (`outerSum`). Parameters, forward and backward variables below FLUSH are set to zero, so
// that no product of two of them is a denormal (which runs two orders of magnitude slower).

import { HomeostatError } from "../errors.js";
import type { HmmParameters } from "./hmmParameters.js";
import { createVecMatKernel, paddedStride, type VecMatKernel } from "./simdKernel.js";

/**
 * Values below this are set to zero: far below anything that changes a likelihood, and the product of two stays
 * above the denormal range.
 */
export const FLUSH = 1e-100;

/** Training sequences of symbol indices with weights (multiplicities of identical traces). */
export class HmmTrainingSet {
  readonly maxLength: number;
  /** Sum over sequences of weight * length. */
  readonly weightedCalls: number;

  constructor(
    /** All sequences' symbols, concatenated. */
    readonly symbols: Uint16Array,
    /** Sequence s is symbols[offsets[s], offsets[s + 1]). */
    readonly offsets: Int32Array,
    readonly weights: Float64Array,
  ) {
    let max = 0;
    let calls = 0;
    for (let s = 0; s + 1 < offsets.length; s++) {
      const len = offsets[s + 1]! - offsets[s]!;
      if (len > max) max = len;
      calls += len * weights[s]!;
    }
    this.maxLength = max;
    this.weightedCalls = calls;
  }

  get size(): number {
    return this.offsets.length - 1;
  }

  static of(sequences: readonly ArrayLike<number>[], weights?: readonly number[]): HmmTrainingSet {
    let total = 0;
    for (const s of sequences) total += s.length;
    const symbols = new Uint16Array(total);
    const offsets = new Int32Array(sequences.length + 1);
    let at = 0;
    sequences.forEach((s, i) => {
      for (let t = 0; t < s.length; t++) symbols[at + t] = s[t]!;
      at += s.length;
      offsets[i + 1] = at;
    });
    const w = new Float64Array(sequences.length);
    for (let i = 0; i < sequences.length; i++) w[i] = weights?.[i] ?? 1;
    return new HmmTrainingSet(symbols, offsets, w);
  }
}

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
function outerSum(x: Float64Array, y: Float64Array, count: number, n: number, w: number, acc: Float64Array): void {
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

/** Largest training buffer (forward and backward variables of the longest distinct trace) BaumWelch allocates. */
const MAX_TRAINING_BYTES = 2 ** 31;

/**
 * Baum-Welch re-estimation with scaling over a weighted training set; buffers are allocated once. The products by
 * A and its transpose run in the WebAssembly SIMD kernel (simdKernel.ts) when available, on forward/backward
 * variables that live in the kernel's memory, or in `vecMat` otherwise; both give bit-identical results.
 */
export class BaumWelch {
  private readonly n: number;
  private readonly m: number;
  // Per call of the current sequence: scaled forward variables, and bb_t(j) = B(j, o_t) beta_t(j) / c_t.
  private readonly alpha: Float64Array;
  private readonly bb: Float64Array;
  /** The product of the last `mul`: n values. */
  private readonly y: Float64Array;
  private readonly scale: Float64Array;
  private readonly beta: Float64Array;
  private readonly a: Float64Array;
  private readonly at: Float64Array;
  private readonly piAcc: Float64Array;
  private readonly xiAcc: Float64Array;
  private readonly bAcc: Float64Array;
  private readonly kernel: VecMatKernel | null;
  private readonly blocks: number;
  private readonly aByte: number;
  private readonly atByte: number;
  private readonly yByte: number;

  constructor(
    states: number,
    symbols: number,
    private readonly data: HmmTrainingSet,
  ) {
    // `| 0` keeps these small integers in V8's integer representation: a size that arrives as a heap double makes
    // every index computation in the hot loops floating point (measured 2x slower).
    const n = states | 0;
    this.n = n;
    this.m = symbols | 0;
    const len = Math.max(1, data.maxLength);
    for (let i = 0; i < data.symbols.length; i++) {
      if (data.symbols[i]! >= symbols) throw new HomeostatError("E_MODEL", "hmm: training symbol outside the alphabet");
    }
    if (len * n * 16 > MAX_TRAINING_BYTES) {
      throw new HomeostatError(
        "E_LIMIT",
        `hmm: a training trace of ${len} calls needs ${Math.ceil((len * n * 16) / 2 ** 20)} MiB for Baum-Welch with ${n} states; split long traces`,
      );
    }
    const stride = paddedStride(n);
    this.blocks = stride / 8;
    // Kernel memory: A and A transposed (padded rows), the product, the forward and backward variables.
    this.aByte = 0;
    this.atByte = n * stride * 8;
    this.yByte = this.atByte + n * stride * 8;
    const alphaByte = this.yByte + stride * 8;
    const bbByte = alphaByte + len * n * 8;
    this.kernel = createVecMatKernel(bbByte + len * n * 8);
    if (this.kernel !== null) {
      const buf = this.kernel.f64.buffer;
      this.y = new Float64Array(buf, this.yByte, n);
      this.alpha = new Float64Array(buf, alphaByte, len * n);
      this.bb = new Float64Array(buf, bbByte, len * n);
    } else {
      this.y = new Float64Array(n);
      this.alpha = new Float64Array(len * n);
      this.bb = new Float64Array(len * n);
    }
    this.a = new Float64Array(n * n);
    this.at = new Float64Array(n * n);
    this.scale = new Float64Array(len);
    this.beta = new Float64Array(n);
    this.piAcc = new Float64Array(n);
    this.xiAcc = new Float64Array(n * n);
    this.bAcc = new Float64Array(this.m * n);
  }

  /** Training log-likelihood (natural log, weighted) of `p`, by the forward pass only. */
  logLikelihood(p: HmmParameters): number {
    this.load(p);
    const d = this.data;
    let ll = 0;
    for (let s = 0; s < d.size; s++) {
      if (d.offsets[s + 1]! > d.offsets[s]!) ll += d.weights[s]! * this.forward(p, d.offsets[s]!, d.offsets[s + 1]!);
    }
    return ll;
  }

  /**
   * One iteration: the E-step with `p` and the M-step into `p` (in place). Returns the training log-likelihood
   * of `p` before the update (natural log).
   */
  iterate(p: HmmParameters): number {
    this.load(p);
    const n = this.n;
    const d = this.data;
    const a = p.a;
    this.piAcc.fill(0);
    this.xiAcc.fill(0);
    this.bAcc.fill(0);
    let ll = 0;
    for (let s = 0; s < d.size; s++) {
      const start = d.offsets[s]!;
      const end = d.offsets[s + 1]!;
      if (end === start) continue;
      const w = d.weights[s]!;
      ll += w * this.forward(p, start, end);
      this.backward(p, start, end, w);
    }
    // M-step. xi_t(i, j) = alpha_t(i) A(i, j) bb_{t+1}(j), so A(i, j) is proportional to A(i, j) times the
    // accumulated sum of alpha_t(i) bb_{t+1}(j). Rows with no expected visits keep their old values.
    for (let i = 0; i < n; i++) {
      const row = i * n;
      let sum = 0;
      for (let j = 0; j < n; j++) sum += a[row + j]! * this.xiAcc[row + j]!;
      if (!(sum > 0)) continue;
      for (let j = 0; j < n; j++) {
        const v = (a[row + j]! * this.xiAcc[row + j]!) / sum;
        a[row + j] = v < FLUSH ? 0 : v;
      }
    }
    const b = p.b;
    for (let i = 0; i < n; i++) {
      let sum = 0;
      for (let k = 0; k < this.m; k++) sum += this.bAcc[k * n + i]!;
      if (!(sum > 0)) continue;
      for (let k = 0; k < this.m; k++) {
        const v = this.bAcc[k * n + i]! / sum;
        b[k * n + i] = v < FLUSH ? 0 : v;
      }
    }
    let sum = 0;
    for (let i = 0; i < n; i++) sum += this.piAcc[i]!;
    if (sum > 0) {
      for (let i = 0; i < n; i++) {
        const v = this.piAcc[i]! / sum;
        p.pi[i] = v < FLUSH ? 0 : v;
      }
    }
    return ll;
  }

  /** Takes A (and its transpose) from `p` for the products. */
  private load(p: HmmParameters): void {
    if (p.states !== this.n || p.symbols !== this.m) {
      throw new HomeostatError("E_MODEL", "hmm: parameters do not match the trainer's states and symbols");
    }
    const n = this.n;
    const a = p.a;
    this.a.set(a);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) this.at[j * n + i] = a[i * n + j]!;
    const k = this.kernel;
    if (k !== null) {
      const stride = this.blocks * 8;
      const f64 = k.f64;
      const ao = this.aByte / 8;
      const to = this.atByte / 8;
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          f64[ao + i * stride + j] = a[i * n + j]!;
          f64[to + i * stride + j] = a[j * n + i]!;
        }
      }
    }
  }

  /** y = src[off, off + n) times A (or its transpose). `src` is `alpha` or `bb`. */
  private mul(src: Float64Array, off: number, transposed: boolean): void {
    const k = this.kernel;
    if (k !== null) {
      k.vecmat(src.byteOffset + off * 8, transposed ? this.atByte : this.aByte, this.yByte, this.n, this.blocks);
    } else {
      vecMat(src, off, transposed ? this.at : this.a, this.n, this.y, 0);
    }
  }

  /** Scaled forward pass over symbols[start, end) into alpha/scale; returns ln P(sequence). */
  private forward(p: HmmParameters, start: number, end: number): number {
    const n = this.n;
    const alpha = this.alpha;
    const y = this.y;
    const b = p.b;
    const syms = this.data.symbols;
    let ll = 0;
    for (let t = 0; start + t < end; t++) {
      const at = t * n;
      const base = syms[start + t]! * n;
      let s = 0;
      if (t === 0) {
        for (let j = 0; j < n; j++) s += alpha[at + j] = p.pi[j]! * b[base + j]!;
      } else {
        this.mul(alpha, at - n, false);
        for (let j = 0; j < n; j++) s += alpha[at + j] = y[j]! * b[base + j]!;
      }
      if (!(s > 0) || !Number.isFinite(s)) {
        throw new HomeostatError("E_MODEL", "hmm: a training sequence has zero probability (numerical underflow)");
      }
      const inv = 1 / s;
      for (let j = 0; j < n; j++) {
        const v = alpha[at + j]! * inv;
        alpha[at + j] = v < FLUSH ? 0 : v;
      }
      this.scale[t] = s;
      ll += Math.log(s);
    }
    return ll;
  }

  /**
   * Scaled backward pass, accumulating weighted expected counts. With bb_{t+1}(j) = B(j, o_{t+1}) beta_{t+1}(j) /
   * c_{t+1}: beta_t(i) = sum_j A(i, j) bb_{t+1}(j) (a vector times the transposed A), gamma_t(i) = alpha_t(i)
   * beta_t(i), and the transition counts need sum_t alpha_t(i) bb_{t+1}(j), summed at the end as one blocked
   * matrix product.
   */
  private backward(p: HmmParameters, start: number, end: number, w: number): void {
    const n = this.n;
    const alpha = this.alpha;
    const bbAll = this.bb;
    const y = this.y;
    const b = p.b;
    const syms = this.data.symbols;
    const bAcc = this.bAcc;
    const beta = this.beta;
    const len = end - start;
    beta.fill(1);
    for (let t = len - 1; ; t--) {
      const at = t * n;
      const base = syms[start + t]! * n;
      for (let i = 0; i < n; i++) bAcc[base + i]! += w * alpha[at + i]! * beta[i]!;
      if (t === 0) break;
      const inv = 1 / this.scale[t]!;
      for (let j = 0; j < n; j++) {
        const v = b[base + j]! * beta[j]! * inv;
        bbAll[at + j] = v < FLUSH ? 0 : v;
      }
      this.mul(bbAll, at, true);
      for (let i = 0; i < n; i++) {
        const v = y[i]!;
        beta[i] = v < FLUSH ? 0 : v;
      }
    }
    for (let i = 0; i < n; i++) this.piAcc[i]! += w * alpha[i]! * beta[i]!;
    outerSum(alpha, bbAll, len - 1, n, w, this.xiAcc);
  }
}
