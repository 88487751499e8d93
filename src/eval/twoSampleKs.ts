// The two-sample Kolmogorov-Smirnov statistic of two samples of non-negative values, where most values are zero and
// only the positive ones are listed: the per-trace frequency of one bigram is zero in every trace that lacks it. The
// empirical CDFs start with a step of (zeros / size) at 0; D is the largest gap between them over all values, ties
// taken together. (src/models/ksTest.ts compares two histograms over ordered cells, the KS classifier's distance;
// this compares two samples of one quantity, the textbook test.)

/**
 * D = sup_x |F_a(x) - F_b(x)| for samples of sizes `sizeA` and `sizeB` whose positive values are `a` and `b`
 * (sorted ascending; the remaining sizeA - a.length values of a are zeros, likewise for b). 0 when a sample is empty.
 */
export function twoSampleKs(a: Float64Array, sizeA: number, b: Float64Array, sizeB: number): number {
  if (sizeA === 0 || sizeB === 0) return 0;
  let ia = 0;
  let ib = 0;
  let fa = (sizeA - a.length) / sizeA;
  let fb = (sizeB - b.length) / sizeB;
  let d = Math.abs(fa - fb);
  while (ia < a.length || ib < b.length) {
    const x = ia < a.length && (ib >= b.length || a[ia]! <= b[ib]!) ? a[ia]! : b[ib]!;
    while (ia < a.length && a[ia] === x) ia++;
    while (ib < b.length && b[ib] === x) ib++;
    fa = (sizeA - a.length + ia) / sizeA;
    fb = (sizeB - b.length + ib) / sizeB;
    const gap = Math.abs(fa - fb);
    if (gap > d) d = gap;
  }
  return d;
}
