// The weighted training set of Baum-Welch (baumWelch.ts; Rabiner, "A tutorial on hidden Markov models", Proc. IEEE
// 1989, section V.B, several observation sequences): symbol sequences concatenated in one array, each with a weight
// (the multiplicity of identical traces), so that fitting costs what fitting the distinct traces costs.

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
