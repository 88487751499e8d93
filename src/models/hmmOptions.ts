// Options of the HMM detector (hmm.ts) of Warrender, Forrest & Pearlmutter ("Detecting intrusions using system
// calls: alternative data models", IEEE S&P 1999): their defaults, help lines and validation. Why the defaults are
// what they are: docs/detectors.md, "The hidden Markov model".

import { integerRange, realRange, resolveOptions } from "./detectorOptions.js";

export interface HmmOptions {
  readonly states: number;
  readonly iterations: number;
  readonly tolerance: number;
  readonly seed: number;
  readonly restarts: number;
  readonly threshold: number;
}

const MAX_STATES = 1024;

export const hmmOptionHelp = {
  states: {
    default: 40,
    help: "hidden states (Warrender et al. used about as many states as distinct calls)",
    range: integerRange(1, MAX_STATES),
  },
  iterations: { default: 40, help: "most Baum-Welch iterations per fit", range: integerRange(1, 1_000_000) },
  tolerance: {
    default: 1e-3,
    help: "stop when the mean log-likelihood per training call improves by less (bits)",
    // A gain of a million bits per call never happens: the largest tolerance stops after the first iteration.
    range: realRange(0, 1_000_000),
  },
  // Seeds are used as 32-bit integers, signed or not.
  seed: {
    default: 1,
    help: "seed of the random initial parameters",
    range: integerRange(-2_147_483_648, 4_294_967_295),
  },
  restarts: {
    default: 1,
    help: "random starts; the fit with the best training likelihood is kept",
    range: integerRange(1, 1000),
  },
  threshold: {
    default: 0.001,
    help: "a call with predictive probability below this is anomalous",
    range: realRange(0, 1, { minExclusive: true, maxExclusive: true }),
  },
} as const;

/** Fills defaults and validates. Throws HomeostatError E_USAGE. */
export function resolveHmmOptions(options: Partial<Record<string, number | string | boolean>> = {}): HmmOptions {
  const o = resolveOptions("hmm", hmmOptionHelp, options);
  return {
    states: o.states as number,
    iterations: o.iterations as number,
    tolerance: o.tolerance as number,
    seed: o.seed as number,
    restarts: o.restarts as number,
    threshold: o.threshold as number,
  };
}
