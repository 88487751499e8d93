// The two-sample Kolmogorov-Smirnov test over a finite, ordered set of cells, the distance of Bushouse's KS bigram
// classifier ("Characterization of System Calls", Center for Cyber Defenders; docs/ks-bigram.md says how the cells
// are ordered). Two histograms over the same cells, taken in one fixed order, define two step CDFs; the statistic is
// D = max_j |F_a(j) - F_b(j)|, i.e. the largest difference in the mass the two put on a prefix of the order.
//
// The p-value uses the asymptotic Kolmogorov distribution with the two-sample effective size n*m/(n+m) and Stephens'
// small-sample correction of the argument, lambda = (sqrt(ne) + 0.12 + 0.11/sqrt(ne)) * D (as in Numerical Recipes'
// `kstwo` and older scipy `ks_2samp`). It assumes independent draws from continuous distributions: bigrams of one
// trace are neither independent nor continuous (ties at every cell), so the p-value is a figure for reports, never
// the decision rule, which uses D alone.

/**
 * Fills out[0..order.length) with the normalised cumulative distribution of `counts` taken in `order`
 * (out[j] = sum of counts[order[0..j]] / total) and returns the total. A zero total leaves out all zero.
 * Allocation-free.
 */
export function cumulativeInOrder(counts: ArrayLike<number>, order: ArrayLike<number>, out: Float64Array): number {
  const n = order.length;
  let total = 0;
  for (let j = 0; j < n; j++) total += counts[order[j]!]!;
  if (total <= 0) {
    out.fill(0, 0, n);
    return 0;
  }
  let run = 0;
  for (let j = 0; j < n; j++) {
    run += counts[order[j]!]!;
    out[j] = run / total;
  }
  // The last step is exactly 1, so that rounding cannot create a spurious difference at the end of the order.
  out[n - 1] = 1;
  return total;
}

/**
 * The KS statistic between two CDFs over the same ordered cells: max |a[j] - b[j]| for j < length.
 * `bOffset` lets b be one row of a packed array of CDFs (the classifier's models). Allocation-free.
 */
export function ksStatistic(a: Float64Array, b: Float64Array, length: number = a.length, bOffset = 0): number {
  let d = 0;
  for (let j = 0; j < length; j++) {
    const diff = a[j]! - b[bOffset + j]!;
    if (diff > d) d = diff;
    else if (-diff > d) d = -diff;
  }
  return d;
}

/** Convenience for tests and reports: D between two histograms taken in `order` (identity order by default). */
export function ksStatisticOfCounts(
  countsA: ArrayLike<number>,
  countsB: ArrayLike<number>,
  order?: ArrayLike<number>,
): number {
  const cells = order ?? identityOrder(countsA.length);
  const fa = new Float64Array(cells.length);
  const fb = new Float64Array(cells.length);
  if (cumulativeInOrder(countsA, cells, fa) === 0 || cumulativeInOrder(countsB, cells, fb) === 0) return 1;
  return ksStatistic(fa, fb);
}

export function identityOrder(n: number): Uint32Array {
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  return order;
}

/**
 * The survival function of the Kolmogorov distribution, Q(lambda) = P(K > lambda)
 * = 2 * sum_{j>=1} (-1)^(j-1) exp(-2 j^2 lambda^2). For small lambda that alternating series converges slowly, so
 * the equivalent theta-function form 1 - sqrt(2 pi)/lambda * sum_{j>=1} exp(-(2j-1)^2 pi^2 / (8 lambda^2)) is used.
 */
export function kolmogorovQ(lambda: number): number {
  if (!(lambda > 0)) return 1;
  if (lambda < 1.18) {
    const f = (-Math.PI * Math.PI) / (8 * lambda * lambda);
    let sum = 0;
    for (let j = 1; j <= 8; j++) {
      const k = 2 * j - 1;
      sum += Math.exp(k * k * f);
    }
    const q = 1 - (Math.sqrt(2 * Math.PI) / lambda) * sum;
    return Math.max(0, Math.min(1, q));
  }
  let sum = 0;
  let sign = 1;
  for (let j = 1; j <= 100; j++) {
    const term = Math.exp(-2 * j * j * lambda * lambda);
    sum += sign * term;
    if (term < 1e-17) break;
    sign = -sign;
  }
  const q = 2 * sum;
  return Math.max(0, Math.min(1, q));
}

/** Asymptotic two-sample KS p-value of statistic d for sample sizes n and m (see the header). */
export function ksPValue(d: number, n: number, m: number): number {
  if (!(n > 0) || !(m > 0)) return 1;
  const en = Math.sqrt((n * m) / (n + m));
  return kolmogorovQ((en + 0.12 + 0.11 / en) * d);
}
