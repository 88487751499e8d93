// The supervised KS bigram classifier of Bushouse ("Characterization of System Calls", Center for Cyber Defenders,
// Sandia). Calls are binned into categories by
// operating-system primitive (src/syscalls/categories.ts); a trace becomes a histogram of category bigrams; each label
// (benign, malicious) gets `models` (40) models cut from its labelled data; a sample is compared with every model by a
// two-sample Kolmogorov-Smirnov test and the mean distance of the `k` (3) closest models of each label decides.
//
// What the poster leaves open, and the choices made here:
// - Segments. Each label's traces, in input order (the poster's "unsorted models"; `shuffle` permutes the traces
//   with a seeded generator first, default off so that a model keeps neighbouring traces of one program or attack
//   together), are one stream of bigrams cut into `models` contiguous segments of equal bigram count (to within one):
//   segment s holds global bigrams [floor(s*T/M), floor((s+1)*T/M)). A trace may straddle two segments. Bigrams never
//   cross a trace boundary.
// - Models. A segment's histogram is scaled so that its most frequent bigram is `scale` (1000) and every other cell by
//   the same quotient; cells whose scaled value is below `clip` (1.0) are set to 0. Scaling is proportional, so for the
//   test its only effect is to drop the cells rarer than clip/scale of the segment's top cell.
// - The test. KS compares CDFs, which need an order of the C*C cells. Both distributions (the sample's empirical
//   bigram distribution and the model's normalised scaled histogram) are accumulated in one fixed cell order, and
//   D = max_j |F_sample(j) - F_model(j)|: the largest difference in the mass the two put on the first j cells. For any
//   order D is 0 exactly when the distributions are equal and never exceeds their total-variation distance; the order
//   decides which sets of cells are compared. With cells sorted by descending training frequency (`order`: "benign",
//   the default, sorts by the benign data's frequency, ties by the malicious data's, then by cell index; "balanced"
//   by the mean of the two labels' normalised frequencies; "index" keeps row-major cell order, kept for comparison),
//   every prefix is "the j most typical bigrams", so D asks how much more or less of its mass a sample puts on typical
//   bigrams than the model does: a sample that spends its calls on bigrams normal programs rarely use has a CDF that
//   lags. The head of that order is where counts are large and estimates reliable; clipped, noisy tail cells only add
//   small late steps. An arbitrary order (category numbering) would instead compare arbitrary runs of cells. On an
//   ADFA-LD held-out split the benign order gave the best AUC (0.81, against 0.80 balanced and 0.79 index), and
//   shuffling lowered it (0.80), hence the defaults.
// - p-values (ksTest.ts) use the sample's bigram count and the segment's raw bigram count as the two sizes; they are
//   reported, never used to decide (bigrams are neither independent nor continuous).
// - Decision. The score is meanD(k closest benign) - meanD(k closest malicious): higher is more malicious; a score
//   > 0 is "attack", a tie is "normal". A sample without bigrams has no distribution: every D is 1 and its score is 0.
// - Alphabet. The lookup maps vocabulary id -> symbol; categories give C = 31, but any dense mapping works (an
//   identity map gives the raw syscall bigrams that the poster's counts of unique bigrams suggest it used). Ids the
//   lookup does not cover (calls interned after it was built) map to `fallback`, by default the last symbol (the
//   "other" category).
// - Training replaces any earlier training. Merging is not meaningful: segments are cut from the whole ordered input,
//   and scaled, clipped models cannot be added; the raw segment histograms are kept (and serialised) so that models
//   can be rebuilt with other scale, clip, k or order (`rebuild`).

import { HomeostatError } from "../errors.js";
import { cumulativeInOrder, ksPValue, ksStatistic } from "./ksTest.js";

export type TraceLabel = "normal" | "attack";
export type CellOrder = "benign" | "balanced" | "index";

export interface KsBigramOptions {
  /** Models per label. */
  readonly models: number;
  /** The value a model's most frequent bigram is scaled to. */
  readonly scale: number;
  /** Scaled cells below this are set to 0. */
  readonly clip: number;
  /** Closest models per label whose mean distance is compared. */
  readonly k: number;
  /** Permute each label's traces before segmenting. */
  readonly shuffle: boolean;
  /** Seed of the shuffle. */
  readonly seed: number;
  /** Order of the cells for the CDFs. */
  readonly order: CellOrder;
}

export const KS_BIGRAM_DEFAULTS: KsBigramOptions = {
  models: 40,
  scale: 1000,
  clip: 1,
  k: 3,
  shuffle: false,
  seed: 1,
  order: "benign",
};

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

const ORDER_CODES: readonly CellOrder[] = ["benign", "balanced", "index"];
const MAX_SYMBOLS = 1024;
/** Cap on cells times models, so that a mistaken alphabet cannot ask for gigabytes. */
const MAX_MODEL_CELLS = 1 << 26;
const MAGIC = 0x4742534b; // "KSBG" little-endian
const FORMAT_VERSION = 1;

export const ksBigramOptionHelp: Readonly<
  Record<keyof KsBigramOptions, { default: number | string | boolean; help: string }>
> = {
  models: {
    default: KS_BIGRAM_DEFAULTS.models,
    help: "models per label, cut from contiguous equal segments of its data",
  },
  scale: { default: KS_BIGRAM_DEFAULTS.scale, help: "value a model's most frequent bigram is scaled to" },
  clip: { default: KS_BIGRAM_DEFAULTS.clip, help: "scaled bigram values below this are clipped to 0" },
  k: { default: KS_BIGRAM_DEFAULTS.k, help: "closest models per label whose mean KS distance is compared" },
  shuffle: {
    default: KS_BIGRAM_DEFAULTS.shuffle,
    help: "shuffle each label's traces (seeded) before segmenting",
  },
  seed: { default: KS_BIGRAM_DEFAULTS.seed, help: "seed of the shuffle" },
  order: {
    default: KS_BIGRAM_DEFAULTS.order,
    help: "cell order of the CDFs: benign (benign frequency), balanced (mean label frequency) or index",
  },
};

/** Validates options (from code or the command line) and fills the defaults. Throws E_USAGE. */
export function resolveKsBigramOptions(
  partial: Partial<Record<string, number | string | boolean>> = {},
): KsBigramOptions {
  for (const key of Object.keys(partial)) {
    if (!(key in KS_BIGRAM_DEFAULTS)) throw usage(`unknown ksbigram option "${key}"`);
  }
  const num = (key: keyof KsBigramOptions): number => {
    const v = partial[key] ?? KS_BIGRAM_DEFAULTS[key];
    if (typeof v !== "number" || !Number.isFinite(v))
      throw usage(`ksbigram option ${key} must be a finite number`);
    return v;
  };
  const models = num("models");
  const scale = num("scale");
  const clip = num("clip");
  const k = num("k");
  const seed = num("seed");
  const shuffle = partial.shuffle ?? KS_BIGRAM_DEFAULTS.shuffle;
  const order = partial.order ?? KS_BIGRAM_DEFAULTS.order;
  if (!Number.isInteger(models) || models < 1) throw usage("ksbigram option models must be an integer >= 1");
  if (!(scale > 0)) throw usage("ksbigram option scale must be > 0");
  // clip <= scale keeps every model's top cell, so no model is ever empty.
  if (!(clip >= 0) || clip > scale) throw usage("ksbigram option clip must be in 0..scale");
  if (!Number.isInteger(k) || k < 1 || k > models)
    throw usage("ksbigram option k must be an integer in 1..models");
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw usage("ksbigram option seed must be an integer in 0..4294967295");
  }
  if (typeof shuffle !== "boolean") throw usage("ksbigram option shuffle must be true or false");
  if (typeof order !== "string" || !ORDER_CODES.includes(order as CellOrder)) {
    throw usage(`ksbigram option order must be one of ${ORDER_CODES.join(", ")}`);
  }
  return { models, scale, clip, k, shuffle, seed, order: order as CellOrder };
}

export class KsBigramClassifier {
  readonly kind = "ksbigram";
  /** Not meaningful: see the header. */
  readonly mergeable = false;
  /** Symbols of the alphabet (categories). */
  readonly symbols: number;
  /** C * C bigram cells. */
  readonly cells: number;
  readonly fallback: number;

  private opts: KsBigramOptions;
  private lookupCopy: Uint8Array | Uint16Array;
  /** id -> symbol for every 16-bit id, so that the hot loops never test bounds or undefined. */
  private readonly lut: Uint16Array;

  private trained = false;
  private tracesPerLabel: [number, number] = [0, 0];
  /** Raw segment histograms: benign models 0..M-1, malicious M..2M-1, each `cells` long. */
  private raw: Float64Array = new Float64Array(0);
  /** Bigrams per segment. */
  private segmentBigrams: Float64Array = new Float64Array(0);
  /** Scaled and clipped models, same layout as raw. */
  private scaled: Float64Array = new Float64Array(0);
  /** Each model's CDF in cellOrder, same layout. */
  private cdf: Float64Array = new Float64Array(0);
  private cellOrder: Uint32Array = new Uint32Array(0);

  private readonly scratchState: KsBigramState;
  private readonly sampleCdf: Float64Array;
  private dist: Float64Array = new Float64Array(0);
  private best: Float64Array = new Float64Array(0);

  constructor(
    lookup: Uint8Array | Uint16Array,
    symbols: number,
    options?: Partial<Record<string, number | string | boolean>>,
    fallback = symbols - 1,
  ) {
    if (!Number.isInteger(symbols) || symbols < 1 || symbols > MAX_SYMBOLS) {
      throw new HomeostatError("E_MODEL", `ksbigram needs 1..${MAX_SYMBOLS} symbols, got ${symbols}`);
    }
    if (!Number.isInteger(fallback) || fallback < 0 || fallback >= symbols) {
      throw new HomeostatError("E_MODEL", `ksbigram fallback symbol ${fallback} is not in 0..${symbols - 1}`);
    }
    if (lookup.length > 65_536) throw new HomeostatError("E_MODEL", "ksbigram lookup longer than 65536 ids");
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
    this.lut = new Uint16Array(65_536);
    this.lookupCopy = lookup.slice();
    this.setLookup(lookup);
    this.scratchState = new KsBigramState(this.cells);
    this.sampleCdf = new Float64Array(this.cells);
  }

  /** The options with every default filled in. */
  get options(): KsBigramOptions {
    return this.opts;
  }

  get isTrained(): boolean {
    return this.trained;
  }

  /** Traces seen in training, per label. */
  get trainedTraces(): { normal: number; attack: number } {
    return { normal: this.tracesPerLabel[0], attack: this.tracesPerLabel[1] };
  }

  /** Bigrams seen in training, per label. */
  get trainedBigrams(): { normal: number; attack: number } {
    const m = this.opts.models;
    let b = 0;
    let a = 0;
    for (let s = 0; s < this.segmentBigrams.length; s++) {
      if (s < m) b += this.segmentBigrams[s]!;
      else a += this.segmentBigrams[s]!;
    }
    return { normal: b, attack: a };
  }

  /**
   * Replaces the id -> symbol lookup (for instance after the vocabulary grew). Every entry must be < symbols.
   * Trained models are kept: they are over symbols, not ids.
   */
  setLookup(lookup: Uint8Array | Uint16Array): void {
    if (lookup.length > 65_536) throw new HomeostatError("E_MODEL", "ksbigram lookup longer than 65536 ids");
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

  /**
   * Builds the models from labelled traces (replacing any earlier training). Throws E_MODEL when the lengths differ,
   * a label is unknown, or a label has fewer bigrams than `models`.
   */
  train(traces: readonly Uint16Array[], labels: readonly TraceLabel[]): void {
    if (traces.length !== labels.length) {
      throw new HomeostatError(
        "E_MODEL",
        `ksbigram train: ${traces.length} traces but ${labels.length} labels`,
      );
    }
    const byLabel: [number[], number[]] = [[], []];
    for (let i = 0; i < labels.length; i++) {
      const l = labels[i];
      if (l === "normal") byLabel[0].push(i);
      else if (l === "attack") byLabel[1].push(i);
      else
        throw new HomeostatError(
          "E_MODEL",
          `ksbigram train: unknown label ${JSON.stringify(l)} at trace ${i}`,
        );
    }
    const m = this.opts.models;
    if (this.opts.shuffle) {
      const rand = mulberry32(this.opts.seed);
      shuffleInPlace(byLabel[0], rand);
      shuffleInPlace(byLabel[1], rand);
    }
    const raw = new Float64Array(2 * m * this.cells);
    const segmentBigrams = new Float64Array(2 * m);
    for (let label = 0; label < 2; label++) {
      const indices = byLabel[label]!;
      let total = 0;
      for (const i of indices) total += Math.max(0, traces[i]!.length - 1);
      if (total < m) {
        throw new HomeostatError(
          "E_MODEL",
          `ksbigram train: ${label === 0 ? "normal" : "attack"} traces hold ${total} bigrams, fewer than models=${m}`,
        );
      }
      this.countSegments(traces, indices, total, raw, segmentBigrams, label * m);
    }
    this.raw = raw;
    this.segmentBigrams = segmentBigrams;
    this.tracesPerLabel = [byLabel[0].length, byLabel[1].length];
    this.trained = true;
    this.buildModels();
  }

  /** Rebuilds the models from the kept raw segment histograms with other scale, clip, k or order. */
  rebuild(options: Partial<Pick<KsBigramOptions, "scale" | "clip" | "k" | "order">>): void {
    this.opts = resolveKsBigramOptions({ ...this.opts, ...options });
    if (this.trained) this.buildModels();
  }

  /** Always throws: see the header. */
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
    const c = this.lut[syscall] ?? this.fallback;
    if (state.prevRow >= 0) {
      state.counts[state.prevRow + c]!++;
      state.bigrams++;
    }
    state.prevRow = c * this.symbols;
  }

  /** Classifies a stream from the bigrams it has accumulated so far. */
  classifyState(state: KsBigramState): KsClassification {
    this.requireTrained();
    this.evaluate(state.counts, state.bigrams);
    return this.report(state.bigrams);
  }

  /** The score of a stream's bigrams so far. Allocation-free. */
  scoreState(state: KsBigramState): number {
    this.requireTrained();
    this.evaluate(state.counts, state.bigrams);
    return this.scoreFromDist();
  }

  classify(trace: Uint16Array): KsClassification {
    this.requireTrained();
    const s = this.countTrace(trace);
    this.evaluate(s.counts, s.bigrams);
    return this.report(s.bigrams);
  }

  /** The anomaly score of a trace (higher = more malicious). Allocation-free. */
  score(trace: Uint16Array): number {
    this.requireTrained();
    const s = this.countTrace(trace);
    this.evaluate(s.counts, s.bigrams);
    return this.scoreFromDist();
  }

  /** The cell order of the CDFs (a copy): position j holds cell prev*C+next. */
  cellOrderCopy(): Uint32Array {
    return this.cellOrder.slice();
  }

  /** A model's scaled, clipped histogram (a copy), indexed by cell. */
  model(label: TraceLabel, index: number): Float64Array {
    return this.row(this.scaled, label, index).slice();
  }

  /** A model's raw segment histogram (a copy), indexed by cell. */
  rawSegment(label: TraceLabel, index: number): Float64Array {
    return this.row(this.raw, label, index).slice();
  }

  /** Bigrams in each segment of a label, in model order. */
  segmentSizes(label: TraceLabel): number[] {
    const m = this.opts.models;
    const base = label === "normal" ? 0 : m;
    return Array.from(this.segmentBigrams.subarray(base, base + m));
  }

  /** Non-zero cells of each model of a label after clipping (the poster's "model size"). */
  modelSizes(label: TraceLabel): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.opts.models && this.trained; i++) {
      const row = this.row(this.scaled, label, i);
      let n = 0;
      for (let c = 0; c < row.length; c++) if (row[c]! > 0) n++;
      out.push(n);
    }
    return out;
  }

  memoryBytes(): number {
    return (
      this.raw.byteLength +
      this.scaled.byteLength +
      this.cdf.byteLength +
      this.cellOrder.byteLength +
      this.segmentBigrams.byteLength +
      this.lut.byteLength +
      this.lookupCopy.byteLength +
      this.sampleCdf.byteLength +
      this.scratchState.counts.byteLength
    );
  }

  /**
   * Versioned bytes: magic "KSBG", version, options, the lookup, the raw segment histograms (sparse) and an FNV-1a
   * checksum. Models, CDFs and the cell order are rebuilt on load.
   */
  serialize(): Uint8Array {
    this.requireTrained();
    const m2 = 2 * this.opts.models;
    let nonZero = 0;
    for (let i = 0; i < this.raw.length; i++) if (this.raw[i] !== 0) nonZero++;
    const width = this.lookupCopy instanceof Uint16Array ? 2 : 1;
    const size = 64 + width * this.lookupCopy.length + m2 * 12 + nonZero * 12 + 4;
    const buf = new ArrayBuffer(size);
    const v = new DataView(buf);
    let p = 0;
    const u8 = (x: number) => {
      v.setUint8(p, x);
      p += 1;
    };
    const u16 = (x: number) => {
      v.setUint16(p, x, true);
      p += 2;
    };
    const u32 = (x: number) => {
      v.setUint32(p, x, true);
      p += 4;
    };
    const f64 = (x: number) => {
      v.setFloat64(p, x, true);
      p += 8;
    };
    u32(MAGIC);
    u16(FORMAT_VERSION);
    u8(width);
    u8(ORDER_CODES.indexOf(this.opts.order));
    u8(this.opts.shuffle ? 1 : 0);
    u8(0);
    u16(this.symbols);
    u16(this.fallback);
    u16(0);
    u32(this.opts.models);
    u32(this.opts.k);
    u32(this.opts.seed);
    f64(this.opts.scale);
    f64(this.opts.clip);
    u32(this.tracesPerLabel[0]);
    u32(this.tracesPerLabel[1]);
    u32(this.lookupCopy.length);
    for (let i = 0; i < this.lookupCopy.length; i++) {
      if (width === 2) u16(this.lookupCopy[i]!);
      else u8(this.lookupCopy[i]!);
    }
    for (let s = 0; s < m2; s++) {
      const base = s * this.cells;
      let n = 0;
      for (let c = 0; c < this.cells; c++) if (this.raw[base + c] !== 0) n++;
      f64(this.segmentBigrams[s]!);
      u32(n);
      for (let c = 0; c < this.cells; c++) {
        const x = this.raw[base + c]!;
        if (x === 0) continue;
        u32(c);
        f64(x);
      }
    }
    const bytes = new Uint8Array(buf, 0, p + 4);
    v.setUint32(p, fnv1a(bytes, 0, p), true);
    return bytes;
  }

  /** Restores a classifier from `serialize()` output. Throws E_FORMAT, E_VERSION, E_CHECKSUM or E_MODEL. */
  static deserialize(bytes: Uint8Array): KsBigramClassifier {
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const bad = (why: string) => new HomeostatError("E_MODEL", `ksbigram model bytes are corrupt: ${why}`);
    if (bytes.length < 68) throw new HomeostatError("E_FORMAT", "not a ksbigram model: too short");
    if (v.getUint32(0, true) !== MAGIC)
      throw new HomeostatError("E_FORMAT", "not a ksbigram model: bad magic");
    const version = v.getUint16(4, true);
    if (version !== FORMAT_VERSION) {
      throw new HomeostatError(
        "E_VERSION",
        `ksbigram model format version ${version} is not supported (this build reads ${FORMAT_VERSION})`,
      );
    }
    const end = bytes.length - 4;
    if (fnv1a(bytes, 0, end) !== v.getUint32(end, true)) {
      throw new HomeostatError("E_CHECKSUM", "ksbigram model checksum does not match");
    }
    let p = 6;
    const need = (n: number) => {
      if (p + n > end) throw bad("truncated");
    };
    const u8 = () => {
      need(1);
      return v.getUint8(p++);
    };
    const u16 = () => {
      need(2);
      const x = v.getUint16(p, true);
      p += 2;
      return x;
    };
    const u32 = () => {
      need(4);
      const x = v.getUint32(p, true);
      p += 4;
      return x;
    };
    const f64 = () => {
      need(8);
      const x = v.getFloat64(p, true);
      p += 8;
      return x;
    };
    const width = u8();
    const order = ORDER_CODES[u8()];
    const shuffle = u8() === 1;
    u8();
    const symbols = u16();
    const fallback = u16();
    u16();
    const models = u32();
    const k = u32();
    const seed = u32();
    const scale = f64();
    const clip = f64();
    const tracesNormal = u32();
    const tracesAttack = u32();
    if (order === undefined || (width !== 1 && width !== 2)) throw bad("unknown order or lookup width");
    const lookupLength = u32();
    if (lookupLength > 65_536) throw bad("lookup too long");
    const lookup = width === 2 ? new Uint16Array(lookupLength) : new Uint8Array(lookupLength);
    for (let i = 0; i < lookupLength; i++) lookup[i] = width === 2 ? u16() : u8();
    let cls: KsBigramClassifier;
    try {
      cls = new KsBigramClassifier(
        lookup,
        symbols,
        { models, k, seed, scale, clip, shuffle, order },
        fallback,
      );
    } catch (err) {
      throw bad(err instanceof Error ? err.message : String(err));
    }
    const m2 = 2 * models;
    const raw = new Float64Array(m2 * cls.cells);
    const segmentBigrams = new Float64Array(m2);
    for (let s = 0; s < m2; s++) {
      segmentBigrams[s] = f64();
      const n = u32();
      let sum = 0;
      for (let j = 0; j < n; j++) {
        const c = u32();
        const x = f64();
        if (c >= cls.cells || !(x > 0)) throw bad("cell out of range");
        raw[s * cls.cells + c] = x;
        sum += x;
      }
      if (sum !== segmentBigrams[s] || sum === 0) throw bad("segment total does not match its cells");
    }
    if (p !== end) throw bad("trailing bytes");
    cls.raw = raw;
    cls.segmentBigrams = segmentBigrams;
    cls.tracesPerLabel = [tracesNormal, tracesAttack];
    cls.trained = true;
    cls.buildModels();
    return cls;
  }

  // ---- internals ----

  /**
   * Counts the bigrams of the label's traces (in `indices` order) into `models` contiguous segments of equal bigram
   * count. The inner loop is one symbol read and one increment per bigram.
   */
  private countSegments(
    traces: readonly Uint16Array[],
    indices: readonly number[],
    total: number,
    raw: Float64Array,
    segmentBigrams: Float64Array,
    firstSegment: number,
  ): void {
    const m = this.opts.models;
    const C = this.symbols;
    const cells = this.cells;
    const lut = this.lut;
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
        const room = end - g;
        const avail = n - i;
        const take = Math.min(avail, room);
        const stop = i + take;
        for (; i < stop; i++) {
          const c = lut[t[i]!]!;
          raw[prevRow + c]!++;
          prevRow = base + c * C;
        }
        g += take;
        counted += take;
        if (g === end && s < m - 1) {
          segmentBigrams[firstSegment + s] = counted;
          counted = 0;
          s++;
          end = Math.floor(((s + 1) * total) / m);
          // Move the previous call's row into the next segment's histogram.
          prevRow += cells;
          base += cells;
        }
      }
    }
    segmentBigrams[firstSegment + s] = counted;
  }

  private buildModels(): void {
    const m = this.opts.models;
    const m2 = 2 * m;
    const cells = this.cells;
    this.cellOrder = this.computeOrder();
    this.scaled = new Float64Array(m2 * cells);
    this.cdf = new Float64Array(m2 * cells);
    const { scale, clip } = this.opts;
    const tmp = new Float64Array(cells);
    for (let s = 0; s < m2; s++) {
      const base = s * cells;
      let max = 0;
      for (let c = 0; c < cells; c++) if (this.raw[base + c]! > max) max = this.raw[base + c]!;
      const q = scale / max;
      for (let c = 0; c < cells; c++) {
        const x = this.raw[base + c]! * q;
        this.scaled[base + c] = x < clip ? 0 : x;
      }
      cumulativeInOrder(this.scaled.subarray(base, base + cells), this.cellOrder, tmp);
      this.cdf.set(tmp, base);
    }
    this.dist = new Float64Array(m2);
    this.best = new Float64Array(this.opts.k);
  }

  private computeOrder(): Uint32Array {
    const cells = this.cells;
    const m = this.opts.models;
    const freq = [new Float64Array(cells), new Float64Array(cells)] as const;
    for (let label = 0; label < 2; label++) {
      const f = freq[label]!;
      let total = 0;
      for (let s = label * m; s < (label + 1) * m; s++) {
        const base = s * cells;
        for (let c = 0; c < cells; c++) f[c]! += this.raw[base + c]!;
        total += this.segmentBigrams[s]!;
      }
      for (let c = 0; c < cells; c++) f[c]! /= total;
    }
    const idx = Array.from({ length: cells }, (_, i) => i);
    const [fb, fm] = freq;
    switch (this.opts.order) {
      case "benign":
        idx.sort((a, b) => fb[b]! - fb[a]! || fm[b]! - fm[a]! || a - b);
        break;
      case "balanced":
        idx.sort((a, b) => fb[b]! + fm[b]! - (fb[a]! + fm[a]!) || a - b);
        break;
      case "index":
        break;
    }
    return Uint32Array.from(idx);
  }

  private countTrace(trace: Uint16Array): KsBigramState {
    const s = this.scratchState;
    s.reset();
    const n = trace.length;
    if (n < 2) return s;
    const C = this.symbols;
    const lut = this.lut;
    const counts = s.counts;
    let prevRow = lut[trace[0]!]! * C;
    for (let i = 1; i < n; i++) {
      const c = lut[trace[i]!]!;
      counts[prevRow + c]!++;
      prevRow = c * C;
    }
    s.bigrams = n - 1;
    s.prevRow = prevRow;
    return s;
  }

  /** Fills dist[0..2M) with the KS distance from the sample to every model. */
  private evaluate(counts: Float64Array, bigrams: number): void {
    const dist = this.dist;
    if (bigrams === 0) {
      dist.fill(1);
      return;
    }
    const cells = this.cells;
    cumulativeInOrder(counts, this.cellOrder, this.sampleCdf);
    for (let s = 0; s < dist.length; s++) dist[s] = ksStatistic(this.sampleCdf, this.cdf, cells, s * cells);
  }

  /** Mean of the k smallest of dist[from, from+count), by insertion into a sorted k-buffer. Allocation-free. */
  private meanOfClosest(from: number, count: number): number {
    const k = this.opts.k;
    const best = this.best;
    let filled = 0;
    for (let i = from; i < from + count; i++) {
      const d = this.dist[i]!;
      if (filled === k && d >= best[k - 1]!) continue;
      let j = filled < k ? filled++ : k - 1;
      while (j > 0 && best[j - 1]! > d) {
        best[j] = best[j - 1]!;
        j--;
      }
      best[j] = d;
    }
    let sum = 0;
    for (let i = 0; i < k; i++) sum += best[i]!;
    return sum / k;
  }

  private scoreFromDist(): number {
    const m = this.opts.models;
    return this.meanOfClosest(0, m) - this.meanOfClosest(m, m);
  }

  private report(bigrams: number): KsClassification {
    const m = this.opts.models;
    const meanBenignD = this.meanOfClosest(0, m);
    const meanMaliciousD = this.meanOfClosest(m, m);
    const score = meanBenignD - meanMaliciousD;
    const benignD = Array.from(this.dist.subarray(0, m));
    const maliciousD = Array.from(this.dist.subarray(m, 2 * m));
    const p = (d: number, s: number) => (bigrams === 0 ? 1 : ksPValue(d, bigrams, this.segmentBigrams[s]!));
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
    this.requireTrained();
    const m = this.opts.models;
    if (!Number.isInteger(index) || index < 0 || index >= m) {
      throw new HomeostatError("E_MODEL", `ksbigram has no model ${index} (models=${m})`);
    }
    const s = (label === "normal" ? 0 : m) + index;
    return a.subarray(s * this.cells, (s + 1) * this.cells);
  }

  private requireTrained(): void {
    if (!this.trained) throw new HomeostatError("E_MODEL", "ksbigram classifier used before training");
  }
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

function usage(message: string): HomeostatError {
  return new HomeostatError("E_USAGE", message);
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffleInPlace(a: number[], rand: () => number): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = a[i]!;
    a[i] = a[j]!;
    a[j] = t;
  }
}

function fnv1a(bytes: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) {
    h ^= bytes[i]!;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
