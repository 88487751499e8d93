// Stratified k-fold splits that never split a group: every index of one group (e.g. every trace of one ADFA-LD
// attack session, Attack_Data_Master/<Type>_<n>) lands in the same fold. Traces of one session share most of their
// behaviour, so a random split puts near-copies of a test trace in training and measures recall of a session already
// seen, not detection of a new one (the leakage grouped cross-validation exists to prevent; cf. scikit-learn's
// StratifiedGroupKFold, re-derived here, not ported). A pure function of (labels, groups, k, seed).
//
// Method: indices with the same group key form a block; an index without a key is a block of its own. Each block
// takes the label of its first index. Per label (ascending), the blocks are shuffled with the seed, then stably
// sorted largest first, and each goes to the fold holding the fewest indices of that label so far (ties: the fewest
// indices in all, then the lowest fold). This greedy "largest first" rule keeps the folds' counts of a label within
// the size of that label's largest block of one another; with singleton blocks only it deals round-robin.

import { HomeostatError } from "../errors.js";
import { SeededRandom } from "../models/random.js";
import { type Fold, foldsOfAssignment } from "./kfold.js";

/** Blocks of indices per label: indices that share a group key form one block. */
function blocksByLabel(labels: ArrayLike<number>, groups: ArrayLike<string | undefined>): Map<number, number[][]> {
  const byKey = new Map<string, number[]>();
  const byLabel = new Map<number, number[][]>();
  const addBlock = (label: number, block: number[]): void => {
    const list = byLabel.get(label);
    if (list === undefined) byLabel.set(label, [block]);
    else list.push(block);
  };
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i]!;
    if (!(Number.isInteger(label) && label >= 0)) {
      throw new HomeostatError("E_USAGE", `label ${i} must be an integer >= 0, got ${label}`);
    }
    const key = groups[i];
    if (key === undefined) {
      addBlock(label, [i]);
      continue;
    }
    const block = byKey.get(key);
    if (block !== undefined) block.push(i);
    else {
      const fresh = [i];
      byKey.set(key, fresh);
      addBlock(label, fresh);
    }
  }
  return byLabel;
}

/**
 * k stratified folds over `labels` (integers >= 0) in which indices with the same `groups` key (undefined: no group)
 * are never split. Throws E_USAGE when k is not an integer >= 2, exceeds the number of blocks, or on bad input.
 */
export function groupedStratifiedKFold(
  labels: ArrayLike<number>,
  groups: ArrayLike<string | undefined>,
  k: number,
  seed: number,
): Fold[] {
  if (!(Number.isInteger(k) && k >= 2)) throw new HomeostatError("E_USAGE", `k must be an integer >= 2, got ${k}`);
  if (!Number.isInteger(seed)) throw new HomeostatError("E_USAGE", `seed must be an integer, got ${seed}`);
  if (groups.length !== labels.length) {
    throw new HomeostatError("E_USAGE", `${labels.length} labels but ${groups.length} group keys`);
  }
  const byLabel = blocksByLabel(labels, groups);
  let blocks = 0;
  for (const list of byLabel.values()) blocks += list.length;
  if (k > blocks) throw new HomeostatError("E_USAGE", `cannot split ${blocks} groups of traces into ${k} folds`);

  const rng = new SeededRandom(seed);
  const foldOf = new Int32Array(labels.length);
  const total = new Int32Array(k);
  for (const label of [...byLabel.keys()].sort((a, b) => a - b)) {
    const list = byLabel.get(label)!;
    rng.shuffle(list);
    list.sort((a, b) => b.length - a.length); // stable: equal sizes keep the shuffled order
    const ofLabel = new Int32Array(k);
    for (const block of list) {
      let best = 0;
      for (let f = 1; f < k; f++) {
        if (ofLabel[f]! < ofLabel[best]! || (ofLabel[f] === ofLabel[best] && total[f]! < total[best]!)) best = f;
      }
      for (const i of block) foldOf[i] = best;
      ofLabel[best]! += block.length;
      total[best]! += block.length;
    }
  }
  return foldsOfAssignment(foldOf, k);
}
