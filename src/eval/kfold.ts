// Deterministic stratified k-fold cross-validation splits: each fold holds (within one trace) the same share of
// every label as the whole set, and the split is a pure function of (labels, k, seed).
//
// Method: the indices of each label (labels taken in ascending order) are shuffled with a seeded Fisher-Yates
// shuffle (SeededRandom, src/models/random.ts), the shuffled groups are laid end to end, and position p goes to
// fold p mod k. A label with n_c traces occupies a contiguous block of positions, so every fold receives
// floor(n_c / k) or ceil(n_c / k) of them; and every fold receives floor(n / k) or ceil(n / k) traces in all.
// (This is the scheme of scikit-learn's StratifiedKFold with shuffling, re-derived, not ported.)

import { HomeostatError } from "../errors.js";
import { SeededRandom } from "../models/random.js";

export interface Fold {
  /** Indices held out for testing, ascending. */
  test: Int32Array;
  /** All other indices, ascending. */
  train: Int32Array;
}

/** k stratified folds over `labels` (integers >= 0, e.g. 0 = normal, 1 = attack). Throws E_USAGE on bad input. */
export function stratifiedKFold(labels: ArrayLike<number>, k: number, seed: number): Fold[] {
  const n = labels.length;
  if (!(Number.isInteger(k) && k >= 2)) throw new HomeostatError("E_USAGE", `k must be an integer >= 2, got ${k}`);
  if (k > n) throw new HomeostatError("E_USAGE", `cannot split ${n} traces into ${k} folds`);
  if (!Number.isInteger(seed)) throw new HomeostatError("E_USAGE", `seed must be an integer, got ${seed}`);

  const byLabel = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const label = labels[i]!;
    if (!(Number.isInteger(label) && label >= 0)) {
      throw new HomeostatError("E_USAGE", `label ${i} must be an integer >= 0, got ${label}`);
    }
    let group = byLabel.get(label);
    if (group === undefined) {
      group = [];
      byLabel.set(label, group);
    }
    group.push(i);
  }

  const rng = new SeededRandom(seed);
  const foldOf = new Int32Array(n);
  let position = 0;
  for (const label of [...byLabel.keys()].sort((a, b) => a - b)) {
    const group = byLabel.get(label)!;
    for (let i = group.length - 1; i > 0; i--) {
      const j = rng.nextInt(i + 1);
      const t = group[i]!;
      group[i] = group[j]!;
      group[j] = t;
    }
    for (const idx of group) {
      const f = position % k;
      foldOf[idx] = f;
      position++;
    }
  }

  return foldsOfAssignment(foldOf, k);
}

/** The folds of an assignment of each index to a fold in [0, k), both index lists ascending. */
export function foldsOfAssignment(foldOf: Int32Array, k: number): Fold[] {
  const n = foldOf.length;
  const testSize = new Int32Array(k);
  for (let i = 0; i < n; i++) testSize[foldOf[i]!]!++;
  const folds: Fold[] = [];
  for (let f = 0; f < k; f++) {
    const size = testSize[f]!;
    folds.push({ test: new Int32Array(size), train: new Int32Array(n - size) });
  }
  const testFill = new Int32Array(k);
  const trainFill = new Int32Array(k);
  for (let i = 0; i < n; i++) {
    const own = foldOf[i]!;
    for (let f = 0; f < k; f++) {
      const fold = folds[f]!;
      if (f === own) fold.test[testFill[f]!++] = i;
      else fold.train[trainFill[f]!++] = i;
    }
  }
  return folds;
}
