// The forward filter the HMM detector (hmm.ts; Warrender, Forrest & Pearlmutter, IEEE S&P 1999) scores with: per
// stream the filtered state distribution P(state_t | calls_<=t), advanced by one product with A and the call's
// emissions, then rescaled as in Rabiner's scaled forward pass (Proc. IEEE 1989, V.A); the scale is
// P(call | previous calls). Why the filtered signal and the smoothed emissions: docs/detectors.md, "The hidden
// Markov model".

import type { DetectorState } from "./detector.js";
import type { HmmParameters } from "./hmmParameters.js";
import { FLUSH, vecMat } from "./hmmProducts.js";
import { createVecMatKernel, paddedStride, type VecMatKernel } from "./simdKernel.js";

/** Per-stream state: the filtered state distribution P(state_t | calls_<=t). */
export class HmmState implements DetectorState {
  started = false;
  readonly filt: Float64Array;
  readonly pred: Float64Array;

  constructor(states: number) {
    this.filt = new Float64Array(states);
    this.pred = new Float64Array(states);
  }

  reset(): void {
    this.started = false;
  }
}

/** The scoring tables of one set of fitted parameters: smoothed emissions and A in the SIMD kernel. */
export class HmmFilter {
  /** The weight of the uniform distribution mixed into every state's emissions. */
  readonly escape: number;
  private readonly scoreB: Float64Array;
  // The SIMD kernel holding A (padded rows) for the filter's product; null = the JS loop.
  private readonly kernel: VecMatKernel | null;
  private readonly kernelX: Float64Array;
  private readonly kernelY: Float64Array;
  private readonly kernelXByte: number;
  private readonly kernelYByte: number;
  private readonly kernelBlocks: number;

  /** Tables for `params` of a model trained on `trainedCalls` calls; `params` must not change afterwards. */
  constructor(
    private readonly params: HmmParameters,
    trainedCalls: number,
  ) {
    const p = params;
    const n = p.states;
    const m = p.symbols;
    const d = m - 1;
    this.escape = trainedCalls + d > 0 ? d / (trainedCalls + d) : 1;
    const u = this.escape / m;
    const keep = 1 - this.escape;
    this.scoreB = new Float64Array(m * n);
    for (let x = 0; x < m * n; x++) this.scoreB[x] = keep * p.b[x]! + u;
    const stride = paddedStride(n);
    this.kernelBlocks = stride / 8;
    this.kernelXByte = n * stride * 8;
    this.kernelYByte = this.kernelXByte + stride * 8;
    this.kernel = createVecMatKernel(this.kernelYByte + stride * 8);
    if (this.kernel !== null) {
      const f64 = this.kernel.f64;
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) f64[i * stride + j] = p.a[i * n + j]!;
      this.kernelX = new Float64Array(f64.buffer, this.kernelXByte, n);
      this.kernelY = new Float64Array(f64.buffer, this.kernelYByte, n);
    } else {
      this.kernelX = new Float64Array(0);
      this.kernelY = new Float64Array(0);
    }
  }

  /** Advances `state` by one call of symbol index `symbol`; returns its surprisal in bits. */
  step(state: HmmState, symbol: number): number {
    const p = this.params;
    const n = p.states;
    const filt = state.filt;
    const pred = state.pred;
    if (!state.started) {
      pred.set(p.pi);
      state.started = true;
    } else if (this.kernel !== null) {
      this.kernelX.set(filt);
      this.kernel.vecmat(this.kernelXByte, 0, this.kernelYByte, n, this.kernelBlocks);
      pred.set(this.kernelY);
    } else {
      vecMat(filt, 0, p.a, n, pred, 0);
    }
    const base = symbol * n;
    const b = this.scoreB;
    let s = 0;
    for (let j = 0; j < n; j++) {
      const v = pred[j]! * b[base + j]!;
      filt[j] = v;
      s += v;
    }
    const inv = 1 / s;
    for (let j = 0; j < n; j++) {
      const v = filt[j]! * inv;
      filt[j] = v < FLUSH ? 0 : v;
    }
    return -Math.log2(s);
  }

  memoryBytes(): number {
    return this.scoreB.byteLength + (this.kernel === null ? 0 : this.kernel.f64.byteLength);
  }
}
