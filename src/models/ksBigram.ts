// The supervised KS bigram classifier of Bushouse ("Characterization of System Calls", Center for Cyber Defenders,
// Sandia): a trace becomes a histogram of bigrams of call categories (src/syscalls/categories.ts); each label gets
// `models` models cut from its labelled data, and the mean two-sample Kolmogorov-Smirnov distance to the `k` closest
// models of each label decides. What the poster leaves open and the choices made here: docs/ks-bigram.md.
// Counting is in ksBigramCounts.ts, the models in ksBigramModels.ts, the stored form in ksBigramCodec.ts.

import { HomeostatError } from "../errors.js";
import { encodeKsBigram, openKsBigram, readKsBigramHeader, readKsBigramSegments } from "./ksBigramCodec.js";
import {
  checkAlphabetShape,
  countSegments,
  countTrace,
  indicesByLabel,
  KsAlphabet,
  KsBigramState,
  type Segments,
  type TraceLabel,
} from "./ksBigramCounts.js";
import { KsModels, meanOfClosest } from "./ksBigramModels.js";
import { ksBigramOptionHelp, resolveKsBigramOptions, type KsBigramOptions } from "./ksBigramOptions.js";
import { ksPValue } from "./ksTest.js";
import { SeededRandom } from "./random.js";

export { KsBigramState, type TraceLabel } from "./ksBigramCounts.js";
export {
  KS_BIGRAM_DEFAULTS,
  ksBigramOptionHelp,
  resolveKsBigramOptions,
  type CellOrder,
  type KsBigramOptions,
} from "./ksBigramOptions.js";

export interface KsClassification {
  label: TraceLabel;
  /** meanD of the k closest benign models - meanD of the k closest malicious models (higher = more malicious). */
  score: number;
  /** D against every benign model, in model order. */
  benignD: number[];
  /** D against every malicious model, in model order. */
  maliciousD: number[];
  /** Asymptotic KS p-values, in model order (for reports only). */
  benignP: number[];
  maliciousP: number[];
  meanBenignD: number;
  meanMaliciousD: number;
  /** Bigrams in the sample. */
  bigrams: number;
}

/** Cap on cells times models, so that a mistaken alphabet cannot ask for gigabytes. */
const MAX_MODEL_CELLS = 1 << 26;

export class KsBigramClassifier {
  readonly kind = "ksbigram";
  /** Not meaningful: segments are cut from the whole ordered input, and scaled, clipped models cannot be added. */
  readonly mergeable = false;
  /** Symbols of the alphabet (categories). */
  readonly symbols: number;
  /** C * C bigram cells. */
  readonly cells: number;
  readonly fallback: number;

  private opts: KsBigramOptions;
  private readonly alphabet: KsAlphabet;
  private tracesPerLabel: [number, number] = [0, 0];
  /** The training data, kept (and stored) so that models can be rebuilt with other options; null = untrained. */
  private segments: Segments | null = null;
  private models: KsModels | null = null;

  private readonly scratchState: KsBigramState;
  private readonly sampleCdf: Float64Array;
  /** Distance to every model, then the k closest of one label: scratch of the last evaluation. */
  private dist: Float64Array = new Float64Array(0);
  private best: Float64Array = new Float64Array(0);

  constructor(
    lookup: Uint8Array | Uint16Array,
    symbols: number,
    options?: Partial<Record<string, number | string | boolean>>,
    fallback = symbols - 1,
  ) {
    checkAlphabetShape(symbols, fallback, lookup.length);
    this.opts = resolveKsBigramOptions(options);
    this.symbols = symbols;
    this.cells = symbols * symbols;
    if (this.cells * 2 * this.opts.models > MAX_MODEL_CELLS) {
      throw new HomeostatError(
        "E_LIMIT",
        `ksbigram with ${symbols} symbols and ${this.opts.models} models per label needs too many cells`,
      );
    }
    this.fallback = fallback;
    this.alphabet = new KsAlphabet(symbols, fallback, lookup);
    this.scratchState = new KsBigramState(this.cells);
    this.sampleCdf = new Float64Array(this.cells);
  }

  /** The options with every default filled in. */
  get options(): KsBigramOptions {
    return this.opts;
  }

  get isTrained(): boolean {
    return this.segments !== null;
  }

  /** Traces seen in training, per label. */
  get trainedTraces(): { normal: number; attack: number } {
    return { normal: this.tracesPerLabel[0], attack: this.tracesPerLabel[1] };
  }

  /** Bigrams seen in training, per label. */
  get trainedBigrams(): { normal: number; attack: number } {
    const m = this.opts.models;
    const bigrams = this.segments?.bigrams ?? new Float64Array(0);
    let b = 0;
    let a = 0;
    for (let s = 0; s < bigrams.length; s++) {
      if (s < m) b += bigrams[s]!;
      else a += bigrams[s]!;
    }
    return { normal: b, attack: a };
  }

  /**
   * Replaces the id -> symbol lookup (for instance after the vocabulary grew). Every entry must be < symbols.
   * Trained models are kept: they are over symbols, not ids.
   */
  setLookup(lookup: Uint8Array | Uint16Array): void {
    this.alphabet.set(lookup);
  }

  /**
   * Builds the models from labelled traces (replacing any earlier training). Throws E_MODEL when the lengths differ,
   * a label is unknown, or a label has fewer bigrams than `models`.
   */
  train(traces: readonly Uint16Array[], labels: readonly TraceLabel[]): void {
    const byLabel = indicesByLabel(traces.length, labels);
    if (this.opts.shuffle) {
      const rng = SeededRandom.unmixed(this.opts.seed);
      rng.shuffle(byLabel[0]);
      rng.shuffle(byLabel[1]);
    }
    const segments = countSegments(this.alphabet, traces, byLabel, this.opts.models);
    this.restore(segments, [byLabel[0].length, byLabel[1].length]);
  }

  /** Rebuilds the models from the kept raw segment histograms with other scale, clip, k or order. */
  rebuild(options: Partial<Pick<KsBigramOptions, "scale" | "clip" | "k" | "order">>): void {
    this.opts = resolveKsBigramOptions({ ...this.opts, ...options });
    if (this.segments !== null) this.buildModels(this.segments);
  }

  /** Always throws: see `mergeable`. */
  merge(_other: KsBigramClassifier): never {
    throw new HomeostatError(
      "E_MODEL",
      "ksbigram models cannot be merged: segments are cut from the whole ordered input and models are scaled and clipped; retrain on the combined traces",
    );
  }

  newState(): KsBigramState {
    return new KsBigramState(this.cells);
  }

  /** Adds one call of a stream to its bigram counts. Allocation-free. */
  step(state: KsBigramState, syscall: number): void {
    const c = this.alphabet.lut[syscall] ?? this.fallback;
    if (state.prevRow >= 0) {
      state.counts[state.prevRow + c]!++;
      state.bigrams++;
    }
    state.prevRow = c * this.symbols;
  }

  /** Classifies a stream from the bigrams it has accumulated so far. */
  classifyState(state: KsBigramState): KsClassification {
    this.evaluate(state);
    return this.report(state.bigrams);
  }

  /** The score of a stream's bigrams so far. Allocation-free. */
  scoreState(state: KsBigramState): number {
    this.evaluate(state);
    return this.scoreFromDist();
  }

  classify(trace: Uint16Array): KsClassification {
    const s = this.countScratch(trace);
    this.evaluate(s);
    return this.report(s.bigrams);
  }

  /** The anomaly score of a trace (higher = more malicious). Allocation-free. */
  score(trace: Uint16Array): number {
    const s = this.countScratch(trace);
    this.evaluate(s);
    return this.scoreFromDist();
  }

  /** The cell order of the CDFs (a copy): position j holds cell prev*C+next. */
  cellOrderCopy(): Uint32Array {
    return this.models?.cellOrder.slice() ?? new Uint32Array(0);
  }

  /** A model's scaled, clipped histogram (a copy), indexed by cell. */
  model(label: TraceLabel, index: number): Float64Array {
    return this.row(this.trainedModels().scaled, label, index).slice();
  }

  /** A model's raw segment histogram (a copy), indexed by cell. */
  rawSegment(label: TraceLabel, index: number): Float64Array {
    return this.row(this.trainedSegments().raw, label, index).slice();
  }

  /** Bigrams in each segment of a label, in model order (none before training). */
  segmentSizes(label: TraceLabel): number[] {
    if (this.segments === null) return [];
    const base = this.segments.first(label);
    return Array.from(this.segments.bigrams.subarray(base, base + this.opts.models));
  }

  /** Non-zero cells of each model of a label after clipping (the poster's "model size"). */
  modelSizes(label: TraceLabel): number[] {
    const out: number[] = [];
    if (this.models === null) return out;
    for (let i = 0; i < this.opts.models; i++) {
      const row = this.row(this.models.scaled, label, i);
      let n = 0;
      for (let c = 0; c < row.length; c++) if (row[c]! > 0) n++;
      out.push(n);
    }
    return out;
  }

  memoryBytes(): number {
    const segments = this.segments === null ? 0 : this.segments.raw.byteLength + this.segments.bigrams.byteLength;
    return (
      segments +
      (this.models?.memoryBytes() ?? 0) +
      this.alphabet.memoryBytes() +
      this.sampleCdf.byteLength +
      this.scratchState.counts.byteLength
    );
  }

  /** The stored form (ksBigramCodec.ts). Throws E_MODEL before training. */
  serialize(): Uint8Array {
    return encodeKsBigram({
      lookup: this.alphabet.lookup,
      symbols: this.symbols,
      fallback: this.fallback,
      options: this.opts,
      traces: this.tracesPerLabel,
      segments: this.trainedSegments(),
    });
  }

  /** Restores a classifier from `serialize()` output. Throws E_FORMAT, E_VERSION, E_CHECKSUM or E_PARSE. */
  static deserialize(bytes: Uint8Array): KsBigramClassifier {
    const r = openKsBigram(bytes);
    const h = readKsBigramHeader(r);
    let cls: KsBigramClassifier;
    try {
      cls = new KsBigramClassifier(h.lookup, h.symbols, h.options, h.fallback);
    } catch (err) {
      throw r.fail(err instanceof Error ? err.message : String(err));
    }
    cls.restore(readKsBigramSegments(r, cls.opts.models, cls.cells), [h.traces[0], h.traces[1]]);
    return cls;
  }

  // ---- internals ----

  private restore(segments: Segments, tracesPerLabel: [number, number]): void {
    this.segments = segments;
    this.tracesPerLabel = tracesPerLabel;
    this.buildModels(segments);
  }

  private buildModels(segments: Segments): void {
    this.models = KsModels.build(segments, this.opts);
    this.dist = new Float64Array(2 * this.opts.models);
    this.best = new Float64Array(this.opts.k);
  }

  private countScratch(trace: Uint16Array): KsBigramState {
    countTrace(this.alphabet, trace, this.scratchState);
    return this.scratchState;
  }

  /** Fills dist with the KS distance from the sample to every model. */
  private evaluate(sample: KsBigramState): void {
    this.trainedModels().distances(sample.counts, sample.bigrams, this.sampleCdf, this.dist);
  }

  private scoreFromDist(): number {
    const m = this.opts.models;
    return meanOfClosest(this.dist, 0, m, this.best) - meanOfClosest(this.dist, m, m, this.best);
  }

  private report(bigrams: number): KsClassification {
    const m = this.opts.models;
    const meanBenignD = meanOfClosest(this.dist, 0, m, this.best);
    const meanMaliciousD = meanOfClosest(this.dist, m, m, this.best);
    const score = meanBenignD - meanMaliciousD;
    const benignD = Array.from(this.dist.subarray(0, m));
    const maliciousD = Array.from(this.dist.subarray(m, 2 * m));
    const sizes = this.trainedSegments().bigrams;
    const p = (d: number, s: number) => (bigrams === 0 ? 1 : ksPValue(d, bigrams, sizes[s]!));
    return {
      label: score > 0 ? "attack" : "normal",
      score,
      benignD,
      maliciousD,
      benignP: benignD.map((d, i) => p(d, i)),
      maliciousP: maliciousD.map((d, i) => p(d, m + i)),
      meanBenignD,
      meanMaliciousD,
      bigrams,
    };
  }

  private row(a: Float64Array, label: TraceLabel, index: number): Float64Array {
    const m = this.opts.models;
    if (!Number.isInteger(index) || index < 0 || index >= m) {
      throw new HomeostatError("E_MODEL", `ksbigram has no model ${index} (models=${m})`);
    }
    const s = (label === "normal" ? 0 : m) + index;
    return a.subarray(s * this.cells, (s + 1) * this.cells);
  }

  private trainedSegments(): Segments {
    if (this.segments === null) throw untrained();
    return this.segments;
  }

  private trainedModels(): KsModels {
    if (this.models === null) throw untrained();
    return this.models;
  }
}

function untrained(): HomeostatError {
  return new HomeostatError("E_MODEL", "ksbigram classifier used before training");
}

/** Constructs and restores KS bigram classifiers. Supervised, so it is not a one-class DetectorFactory. */
export const ksBigramFactory = {
  kind: "ksbigram",
  description:
    "Bushouse's supervised KS bigram classifier: category-bigram models per label, two-sample KS distance, mean of the k closest models per label",
  optionHelp: ksBigramOptionHelp,
  create(
    lookup: Uint8Array | Uint16Array,
    symbols: number,
    options?: Partial<Record<string, number | string | boolean>>,
    fallback?: number,
  ): KsBigramClassifier {
    return new KsBigramClassifier(lookup, symbols, options, fallback);
  },
  deserialize(bytes: Uint8Array): KsBigramClassifier {
    return KsBigramClassifier.deserialize(bytes);
  },
} as const;
