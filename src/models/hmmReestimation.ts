// The M-step of Baum-Welch (baumWelch.ts): Rabiner's re-estimation formulas ("A tutorial on hidden Markov models",
// Proc. IEEE 1989, equations 40a-c, summed over weighted sequences as in section V.B), from the expected counts the
// E-step accumulated. Rows without expected visits keep their old values rather than becoming 0/0.

import type { HmmParameters } from "./hmmParameters.js";
import { FLUSH } from "./hmmProducts.js";

/** The expected counts of one E-step over the training set, in the parameters' layouts. */
export interface ExpectedCounts {
  /** Expected initial states: sum of gamma_0(i). */
  readonly pi: Float64Array;
  /** Sum over t of alpha_t(i) bb_{t+1}(j), row-major: the transition counts without their factor A(i, j). */
  readonly xi: Float64Array;
  /** Expected emissions, symbol-major: sum of gamma_t(i) over the t where symbol k is emitted. */
  readonly b: Float64Array;
}

/** Replaces `p` (in place) by the maximum-likelihood parameters for the expected counts. */
export function reestimate(p: HmmParameters, counts: ExpectedCounts, n: number, m: number): void {
  reestimateTransitions(p.a, counts.xi, n);
  reestimateEmissions(p.b, counts.b, n, m);
  let sum = 0;
  for (let i = 0; i < n; i++) sum += counts.pi[i]!;
  if (sum > 0) {
    for (let i = 0; i < n; i++) {
      const v = counts.pi[i]! / sum;
      p.pi[i] = v < FLUSH ? 0 : v;
    }
  }
}

/**
 * xi_t(i, j) = alpha_t(i) A(i, j) bb_{t+1}(j), so A(i, j) is proportional to A(i, j) times the accumulated sum of
 * alpha_t(i) bb_{t+1}(j).
 */
function reestimateTransitions(a: Float64Array, xiAcc: Float64Array, n: number): void {
  for (let i = 0; i < n; i++) {
    const row = i * n;
    let sum = 0;
    for (let j = 0; j < n; j++) sum += a[row + j]! * xiAcc[row + j]!;
    if (!(sum > 0)) continue;
    for (let j = 0; j < n; j++) {
      const v = (a[row + j]! * xiAcc[row + j]!) / sum;
      a[row + j] = v < FLUSH ? 0 : v;
    }
  }
}

function reestimateEmissions(b: Float64Array, bAcc: Float64Array, n: number, m: number): void {
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (let k = 0; k < m; k++) sum += bAcc[k * n + i]!;
    if (!(sum > 0)) continue;
    for (let k = 0; k < m; k++) {
      const v = bAcc[k * n + i]! / sum;
      b[k * n + i] = v < FLUSH ? 0 : v;
    }
  }
}
