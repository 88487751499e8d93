// Bigram counting for the KS bigram classifier (ksBigram.ts): ids mapped to symbols, a stream's bigram histogram,
// and each label's training traces cut into contiguous segments of equal bigram count (docs/ks-bigram.md,
// "Segments"). A bigram is cell prev * C + next of a C * C histogram.

import { HomeostatError } from "../errors.js";

export type TraceLabel = "normal" | "attack";

export const MAX_SYMBOLS = 1024;
const IDS = 65_536;

/** Throws E_MODEL unless `symbols`, `fallback` and a lookup of `lookupLength` ids can form an alphabet. */
export function checkAlphabetShape(symbols: number, fallback: number, lookupLength: number): void {
  if (!Number.isInteger(symbols) || symbols < 1 || symbols > MAX_SYMBOLS) {
    throw new HomeostatError("E_MODEL", `ksbigram needs 1..${MAX_SYMBOLS} symbols, got ${symbols}`);
  }
  if (!Number.isInteger(fallback) || fallback < 0 || fallback >= symbols) {
    throw new HomeostatError("E_MODEL", `ksbigram fallback symbol ${fallback} is not in 0..${symbols - 1}`);
  }
  if (lookupLength > IDS) throw new HomeostatError("E_MODEL", "ksbigram lookup longer than 65536 ids");
}

/** The id -> symbol map. Ids the lookup does not cover map to the fallback symbol. */
export class KsAlphabet {
  /** id -> symbol for every 16-bit id, so that the hot loops never test bounds or undefined. */
  readonly lut = new Uint16Array(IDS);
  private lookupCopy: Uint8Array | Uint16Array;

  constructor(
    readonly symbols: number,
    readonly fallback: number,
    lookup: Uint8Array | Uint16Array,
  ) {
    checkAlphabetShape(symbols, fallback, lookup.length);
    this.lookupCopy = lookup.slice();
    this.set(lookup);
  }

  /** The lookup as given (a copy kept for serialisation; do not modify). */
  get lookup(): Uint8Array | Uint16Array {
    return this.lookupCopy;
  }

  /** Replaces the lookup. Every entry must be < symbols (E_MODEL). */
  set(lookup: Uint8Array | Uint16Array): void {
    if (lookup.length > IDS) throw new HomeostatError("E_MODEL", "ksbigram lookup longer than 65536 ids");
    for (let i = 0; i < lookup.length; i++) {
      if (lookup[i]! >= this.symbols) {
        throw new HomeostatError(
          "E_MODEL",
          `ksbigram lookup maps id ${i} to symbol ${lookup[i]}, beyond ${this.symbols - 1}`,
        );
      }
    }
    this.lut.fill(this.fallback);
    this.lut.set(lookup);
    this.lookupCopy = lookup.slice();
  }

  memoryBytes(): number {
    return this.lut.byteLength + this.lookupCopy.byteLength;
  }
}

/** A stream's accumulated bigram counts, for classifying live streams on demand. */
export class KsBigramState {
  readonly counts: Float64Array;
  /** Row offset (symbol * C) of the previous call, or -1 at a stream's start. */
  prevRow = -1;
  bigrams = 0;
  constructor(cells: number) {
    this.counts = new Float64Array(cells);
  }
  reset(): void {
    this.counts.fill(0);
    this.prevRow = -1;
    this.bigrams = 0;
  }
}

/** Counts a whole trace's bigrams into `state` (reset first). Allocation-free. */
export function countTrace(alphabet: KsAlphabet, trace: Uint16Array, state: KsBigramState): void {
  state.reset();
  const n = trace.length;
  if (n < 2) return;
  const C = alphabet.symbols;
  const lut = alphabet.lut;
  const counts = state.counts;
  let prevRow = lut[trace[0]!]! * C;
  for (let i = 1; i < n; i++) {
    const c = lut[trace[i]!]!;
    counts[prevRow + c]!++;
    prevRow = c * C;
  }
  state.bigrams = n - 1;
  state.prevRow = prevRow;
}

/**
 * The raw segment histograms of both labels: segment s < M is benign model s, M + s malicious model s; each is
 * `cells` long, and `bigrams[s]` is its total.
 */
export class Segments {
  readonly raw: Float64Array;
  readonly bigrams: Float64Array;

  constructor(
    /** Segments (models) per label. */
    readonly models: number,
    readonly cells: number,
  ) {
    this.raw = new Float64Array(2 * models * cells);
    this.bigrams = new Float64Array(2 * models);
  }

  /** Segment s's histogram (a view). */
  row(s: number): Float64Array {
    return this.raw.subarray(s * this.cells, (s + 1) * this.cells);
  }

  /** The first segment of a label. */
  first(label: TraceLabel): number {
    return label === "normal" ? 0 : this.models;
  }
}

/** Trace indices per label, in input order: [normal, attack]. Throws E_MODEL on a count mismatch or unknown label. */
export function indicesByLabel(traceCount: number, labels: readonly TraceLabel[]): [number[], number[]] {
  if (traceCount !== labels.length) {
    throw new HomeostatError("E_MODEL", `ksbigram train: ${traceCount} traces but ${labels.length} labels`);
  }
  const byLabel: [number[], number[]] = [[], []];
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    if (l === "normal") byLabel[0].push(i);
    else if (l === "attack") byLabel[1].push(i);
    else throw new HomeostatError("E_MODEL", `ksbigram train: unknown label ${JSON.stringify(l)} at trace ${i}`);
  }
  return byLabel;
}

/**
 * Cuts each label's traces, taken in the given index order, into `models` segments of equal bigram count. Throws
 * E_MODEL when a label holds fewer bigrams than models.
 */
export function countSegments(
  alphabet: KsAlphabet,
  traces: readonly Uint16Array[],
  byLabel: readonly [readonly number[], readonly number[]],
  models: number,
): Segments {
  const segments = new Segments(models, alphabet.symbols * alphabet.symbols);
  for (let label = 0; label < 2; label++) {
    const indices = byLabel[label]!;
    let total = 0;
    for (const i of indices) total += Math.max(0, traces[i]!.length - 1);
    if (total < models) {
      throw new HomeostatError(
        "E_MODEL",
        `ksbigram train: ${label === 0 ? "normal" : "attack"} traces hold ${total} bigrams, fewer than models=${models}`,
      );
    }
    countLabel(alphabet, traces, indices, total, segments, label * models);
  }
  return segments;
}

/**
 * Counts one label's bigrams into segments firstSegment.. : segment s holds the label's global bigrams
 * [floor(s*T/M), floor((s+1)*T/M)). The inner loop is one symbol read and one increment per bigram.
 */
function countLabel(
  alphabet: KsAlphabet,
  traces: readonly Uint16Array[],
  indices: readonly number[],
  total: number,
  segments: Segments,
  firstSegment: number,
): void {
  const m = segments.models;
  const C = alphabet.symbols;
  const { cells, raw, bigrams } = segments;
  const lut = alphabet.lut;
  let s = 0;
  let g = 0; // global bigram index within the label
  let end = Math.floor(total / m);
  let base = firstSegment * cells;
  let counted = 0;
  for (const idx of indices) {
    const t = traces[idx]!;
    const n = t.length;
    if (n < 2) continue;
    let prevRow = base + lut[t[0]!]! * C;
    let i = 1;
    while (i < n) {
      const take = Math.min(n - i, end - g);
      const stop = i + take;
      for (; i < stop; i++) {
        const c = lut[t[i]!]!;
        raw[prevRow + c]!++;
        prevRow = base + c * C;
      }
      g += take;
      counted += take;
      if (g === end && s < m - 1) {
        bigrams[firstSegment + s] = counted;
        counted = 0;
        s++;
        end = Math.floor(((s + 1) * total) / m);
        // Move the previous call's row into the next segment's histogram: a trace may straddle two segments.
        prevRow += cells;
        base += cells;
      }
    }
  }
  bigrams[firstSegment + s] = counted;
}
