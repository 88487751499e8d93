// The alphabet of the HMM detector (hmm.ts; Warrender, Forrest & Pearlmutter, IEEE S&P 1999): the call ids seen in
// training, ascending, become symbols 0..D-1 and every other id the one "unseen" symbol D. Fitting, scoring and
// the stored form (hmmCodec.ts) all map ids through the table built here, so they agree on every id.

import type { TraceMultiset } from "./traceMultiset.js";

const IDS = 65_536;

/** id -> symbol index for the ascending `seen` ids: -1 for ids not seen, up to the largest seen id. */
export function symbolTable(seen: Uint16Array): Int32Array {
  const max = seen.length === 0 ? -1 : seen[seen.length - 1]!;
  const symbolOf = new Int32Array(max + 1).fill(-1);
  for (let k = 0; k < seen.length; k++) symbolOf[seen[k]!] = k;
  return symbolOf;
}

/**
 * The ids of the retained traces, ascending, and the weight of each symbol in random starts: its id's frequency
 * in the retained traces (multiplicities counted), 0 for the unseen symbol.
 */
export function retainedAlphabet(retained: TraceMultiset): { seen: Uint16Array; symbolWeights: Float64Array } {
  const present = new Uint8Array(IDS);
  const freq = new Float64Array(IDS);
  const { traces, weights } = retained;
  for (let u = 0; u < traces.length; u++) {
    const t = traces[u]!;
    const w = weights[u]!;
    for (let i = 0; i < t.length; i++) {
      present[t[i]!] = 1;
      freq[t[i]!]! += w;
    }
  }
  let count = 0;
  for (let id = 0; id < IDS; id++) count += present[id]!;
  const seen = new Uint16Array(count);
  for (let id = 0, k = 0; id < IDS; id++) if (present[id] === 1) seen[k++] = id;
  const symbolWeights = new Float64Array(seen.length + 1);
  for (let k = 0; k < seen.length; k++) symbolWeights[k] = freq[seen[k]!]!;
  return { seen, symbolWeights };
}

/** The traces as symbol sequences under `symbolOf`, which must cover every id in them. */
export function symbolSequences(traces: readonly Uint16Array[], symbolOf: Int32Array): Uint16Array[] {
  const sequences: Uint16Array[] = [];
  for (const t of traces) {
    const s = new Uint16Array(t.length);
    for (let i = 0; i < t.length; i++) s[i] = symbolOf[t[i]!]!;
    sequences.push(s);
  }
  return sequences;
}
