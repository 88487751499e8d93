// Baum-Welch re-estimation of a discrete hidden Markov model with scaling (Rabiner, "A tutorial on hidden Markov
// models and selected applications in speech recognition", Proc. IEEE 1989: sections III.C and V.A-B, scaled
// forward/backward variables and several weighted observation sequences): the E-step here, the M-step in
// hmmReestimation.ts. The HMM detector (hmm.ts) trains with this and scores with the same parameter layout
// (hmmParameters.ts).
//
// Layout: A row-major (a[i * S + j] = P(j | i)) and B symbol-major (b[k * S + i] = P(k | i)), Float64Arrays, so
// that every loop over states reads contiguous memory. Products by A and by its transpose run in the WebAssembly
// SIMD kernel (simdKernel.ts) when available, on forward/backward variables that live in the kernel's memory, or
// in `vecMat` otherwise (hmmProducts.ts), with bit-identical results. Forward and backward variables below FLUSH
// are set to zero, so that no product of two of them is a denormal.

import { HomeostatError } from "../errors.js";
import type { HmmParameters } from "./hmmParameters.js";
import { FLUSH, outerSum, vecMat } from "./hmmProducts.js";
import { reestimate, type ExpectedCounts } from "./hmmReestimation.js";
import type { HmmTrainingSet } from "./hmmTrainingSet.js";
import { createVecMatKernel, paddedStride, type VecMatKernel } from "./simdKernel.js";

export { FLUSH, vecMat } from "./hmmProducts.js";
export { HmmTrainingSet } from "./hmmTrainingSet.js";

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
  /** The accumulators above, as the M-step reads them. */
  private readonly expected: ExpectedCounts;
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
    this.expected = { pi: this.piAcc, xi: this.xiAcc, b: this.bAcc };
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
    reestimate(p, this.expected, n, this.m);
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
