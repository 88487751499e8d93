// The parameters of a discrete hidden Markov model (initial distribution, transitions, emissions), their random
// initialisation and the reference forward likelihood (Rabiner, "A tutorial on hidden Markov models", Proc. IEEE
// 1989, section V.A). Baum-Welch (baumWelch.ts) fits them; the HMM detector (hmm.ts) scores and stores them.

import { HomeostatError } from "../errors.js";
import type { SeededRandom } from "./random.js";

/** The parameters of a discrete HMM with `states` states and `symbols` output symbols. */
export class HmmParameters {
  /**
   * @param pi initial state distribution, length states
   * @param a transitions, row-major: a[i * states + j] = P(next state j | state i)
   * @param b emissions, symbol-major: b[k * states + i] = P(symbol k | state i)
   */
  readonly states: number;
  readonly symbols: number;

  constructor(
    states: number,
    symbols: number,
    readonly pi: Float64Array,
    readonly a: Float64Array,
    readonly b: Float64Array,
  ) {
    // Integer representation for the hot loops (see BaumWelch's constructor).
    this.states = states | 0;
    this.symbols = symbols | 0;
    if (pi.length !== states || a.length !== states * states || b.length !== symbols * states) {
      throw new HomeostatError("E_MODEL", "hmm: parameter arrays do not match the numbers of states and symbols");
    }
  }

  clone(): HmmParameters {
    return new HmmParameters(this.states, this.symbols, this.pi.slice(), this.a.slice(), this.b.slice());
  }

  /**
   * Random parameters from `rng`: every row is a draw of independent Exp(1) weights, normalised (a flat Dirichlet
   * draw), with emission weights multiplied by `symbolWeights` (default all 1). Draws this spread break the symmetry
   * between states within a few iterations; near-uniform starts leave Baum-Welch creeping for dozens.
   */
  static random(states: number, symbols: number, rng: SeededRandom, symbolWeights?: ArrayLike<number>): HmmParameters {
    const pi = new Float64Array(states);
    const a = new Float64Array(states * states);
    const b = new Float64Array(symbols * states);
    const draw = (): number => -Math.log(1 - rng.next());
    let sum = 0;
    for (let i = 0; i < states; i++) sum += pi[i] = draw();
    for (let i = 0; i < states; i++) pi[i]! /= sum;
    for (let i = 0; i < states; i++) {
      sum = 0;
      for (let j = 0; j < states; j++) sum += a[i * states + j] = draw();
      for (let j = 0; j < states; j++) a[i * states + j]! /= sum;
    }
    for (let i = 0; i < states; i++) {
      sum = 0;
      for (let k = 0; k < symbols; k++) {
        const w = symbolWeights === undefined ? 1 : symbolWeights[k]!;
        sum += b[k * states + i] = w * draw();
      }
      for (let k = 0; k < symbols; k++) b[k * states + i]! /= sum;
    }
    return new HmmParameters(states, symbols, pi, a, b);
  }

  /** ln P(sequence) by the scaled forward algorithm; `sequence` holds symbol indices. */
  logLikelihood(sequence: ArrayLike<number>): number {
    const n = this.states;
    let cur = new Float64Array(n);
    let next = new Float64Array(n);
    let ll = 0;
    for (let t = 0; t < sequence.length; t++) {
      const base = sequence[t]! * n;
      if (t === 0) cur.set(this.pi);
      else {
        next.fill(0);
        for (let i = 0; i < n; i++) {
          const f = cur[i]!;
          if (f === 0) continue;
          const row = i * n;
          for (let j = 0; j < n; j++) next[j]! += f * this.a[row + j]!;
        }
        const tmp = cur;
        cur = next;
        next = tmp;
      }
      let s = 0;
      for (let j = 0; j < n; j++) s += cur[j]! *= this.b[base + j]!;
      if (!(s > 0)) return Number.NEGATIVE_INFINITY;
      for (let j = 0; j < n; j++) cur[j]! /= s;
      ll += Math.log(s);
    }
    return ll;
  }
}
