// Warm-started refitting of the HMM detector (hmm.ts; Warrender, Forrest & Pearlmutter, IEEE S&P 1999): the
// previous fit, carried over to the alphabet of all retained traces, is where Baum-Welch (baumWelch.ts) starts
// when the model is trained again. Why warm starts: docs/detectors.md, "The hidden Markov model".

import { HmmParameters } from "./hmmParameters.js";

/** Weight of the uniform distribution mixed into warm-started parameters. */
const WARM_MIX = 1e-3;

/**
 * Parameters for a warm start on a (possibly larger) alphabet: emissions carried over by call id, then everything
 * mixed with WARM_MIX of the uniform distribution (emissions over the seen calls only).
 */
export function warmStart(old: HmmParameters, oldSeen: Uint16Array, seen: Uint16Array): HmmParameters {
  const n = old.states;
  const m = seen.length + 1;
  const keep = 1 - WARM_MIX;
  const pi = new Float64Array(n);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) pi[i] = keep * old.pi[i]! + WARM_MIX / n;
  for (let x = 0; x < n * n; x++) a[x] = keep * old.a[x]! + WARM_MIX / n;
  const b = new Float64Array(m * n);
  let o = 0;
  for (let k = 0; k < seen.length; k++) {
    while (o < oldSeen.length && oldSeen[o]! < seen[k]!) o++;
    const carried = o < oldSeen.length && oldSeen[o] === seen[k];
    for (let i = 0; i < n; i++) b[k * n + i] = (carried ? keep * old.b[o * n + i]! : 0) + WARM_MIX / seen.length;
  }
  // Old emission rows lose the mass of calls that are no longer present (none, as traces are only added) and of
  // the old unseen symbol (zero after maximum likelihood training): renormalise each state's row.
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (let k = 0; k < seen.length; k++) sum += b[k * n + i]!;
    for (let k = 0; k < seen.length; k++) b[k * n + i]! /= sum;
  }
  return new HmmParameters(n, m, pi, a, b);
}
