// The windows of a window table as a list: flattened (window i is windows[i*k .. i*k+k)), in lexicographic order,
// with their counts. It is what a profile stores, what a merge inserts, what a change of key packing re-inserts,
// and what the Hamming-distance scan reads.

/** The windows of a table in lexicographic order, flattened (window i is windows[i*k .. i*k+k)), with counts. */
export interface WindowList {
  readonly windows: Uint16Array;
  readonly counts: Uint32Array;
}

/** Whether window i of a flattened list comes after window i - 1 in lexicographic order. */
export function windowAfter(windows: Uint16Array, i: number, k: number): boolean {
  let d = 0;
  for (let j = 0; j < k && d === 0; j++) d = windows[i * k + j]! - windows[(i - 1) * k + j]!;
  return d > 0;
}
