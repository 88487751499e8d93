// stide, the sequence time-delay embedding (Forrest, Hofmeyr, Somayaji & Longstaff 1996, "A Sense of Self for Unix
// Processes"; Hofmeyr, Forrest & Somayaji 1998, "Intrusion Detection using Sequences of System Calls"). Normal is
// the set of distinct length-k windows of the training traces; a call whose window (it and the k-1 calls before
// it, in one stream) is not in the set is a mismatch. The first k-1 calls of a stream have no complete window and
// no signal (NaN); windows never span two traces. An untrained stide flags every complete window.
//
// Hofmeyr et al. also measure how far a window is from normal: the minimum Hamming distance d_min to any stored
// window, and a trace's normalised anomaly signal max(d_min) / k. Those are exact but scan the database, so they
// are methods for reports, not part of per-call scoring.

import { HomeostatError } from "../errors.js";
import type { Detector, DetectorFactory, DetectorOptions, SignalInfo, TraceLearner } from "./detector.js";
import { checkMergeable, integerRange, numberOption, resolveOptions } from "./detectorOptions.js";
import { PayloadReader, PayloadWriter, readTrainingPrelude } from "./payload.js";
import { MAX_WINDOW, MIN_WINDOW, type WindowState, WindowTable, type WindowTableTuning } from "./windowTable.js";

const PAYLOAD_VERSION = 1;

export const STIDE_OPTIONS = {
  k: {
    default: 6,
    help: `window length in calls (${MIN_WINDOW}..${MAX_WINDOW}); Hofmeyr et al. used 6 to 10`,
    range: integerRange(MIN_WINDOW, MAX_WINDOW),
  },
} as const;

export class Stide implements Detector<WindowState> {
  readonly kind: string = "stide";
  readonly options: DetectorOptions;
  readonly signal: SignalInfo = { kind: "mismatch", anomalousAt: 1 };
  readonly mergeable = true;
  /** Window length. */
  readonly k: number;
  protected readonly table: WindowTable;
  /** Stored windows with a count below this are anomalous too (0 for stide; t-stide's rare windows). */
  protected minCount = 0;
  private calls = 0;
  private traces = 0;

  /** Options must already be resolved (every key present); `tuning` is for tests of the hash table only. */
  constructor(options: DetectorOptions, counted = false, tuning?: WindowTableTuning) {
    this.options = Object.freeze({ ...options });
    this.k = numberOption(this.kindName(), options, "k", STIDE_OPTIONS.k.range);
    this.table = new WindowTable(this.k, counted, tuning);
  }

  /** The kind for messages during construction (subclasses override, before their field initialisers run). */
  protected kindName(): string {
    return "stide";
  }

  get trainedCalls(): number {
    return this.calls;
  }

  get trainedTraces(): number {
    return this.traces;
  }

  /** Distinct windows in the database. */
  get distinctWindows(): number {
    return this.table.size;
  }

  /** All windows seen in training, with multiplicity. */
  get totalWindows(): number {
    return this.table.total;
  }

  /** Whether the database keys windows exactly by packing (false: verified hashes, for long windows). */
  get packedKeys(): boolean {
    return this.table.isPacked;
  }

  train(traces: readonly Uint16Array[]): void {
    this.table.addTraces(traces);
    for (const t of traces) this.calls += t.length;
    this.traces += traces.length;
    this.refresh();
  }

  learner(): TraceLearner {
    const table = this.table;
    const learning = table.newLearning();
    let calls = 0;
    return {
      push: (syscall: number): void => {
        table.learnCall(learning, syscall);
        calls++;
      },
      end: (): void => {
        table.endLearning();
        this.calls += calls;
        this.traces++;
        this.refresh();
      },
    };
  }

  /** Recomputes what depends on the whole database after it changed. */
  protected refresh(): void {}

  newState(): WindowState {
    return this.table.newState();
  }

  step(state: WindowState, syscall: number): number {
    const s = this.table.stepSlot(state, syscall);
    if (s === -2) return Number.NaN;
    if (s < 0) return 1;
    return this.minCount > 0 && this.table.countAt(s) < this.minCount ? 1 : 0;
  }

  scoreTrace(trace: Uint16Array, out: Float64Array): void {
    if (out.length < trace.length) {
      throw new HomeostatError("E_MODEL", `score buffer holds ${out.length} values for a trace of ${trace.length}`);
    }
    this.table.scoreTrace(trace, out, this.minCount);
  }

  /** Times a window (ids, oldest first) occurred in training: 0 when never; stide keeps no counts, so 1 when seen. */
  windowCount(window: ArrayLike<number>): number {
    return this.table.countOf(window);
  }

  /**
   * Hofmeyr et al.'s minimum Hamming distance from the stream's current window to the database: 0 when the window
   * is stored, up to k; NaN before the first complete window. Exact; costs a scan of the database when the window
   * is not stored.
   */
  minHammingDistance(state: WindowState): number {
    return this.table.minHammingDistance(state);
  }

  /**
   * Hofmeyr et al.'s normalised anomaly signal of a trace: the largest d_min over its windows divided by k, in
   * [0, 1]; NaN for a trace shorter than k.
   */
  anomalySignal(trace: Uint16Array): number {
    const st = this.table.newState();
    let worst = Number.NaN;
    for (let i = 0; i < trace.length; i++) {
      const s = this.table.stepSlot(st, trace[i]!);
      if (s === -2) continue;
      const d = s >= 0 ? 0 : this.table.minHammingDistance(st);
      if (!(d <= worst)) worst = d;
    }
    return worst / this.k;
  }

  merge(other: Detector): void {
    checkMergeable(this, other);
    if (!(other instanceof Stide)) throw new HomeostatError("E_MODEL", `cannot merge a foreign ${other.kind} model`);
    this.table.mergeFrom(other.table);
    this.calls += other.calls;
    this.traces += other.traces;
    this.refresh();
  }

  serialize(): Uint8Array {
    const w = new PayloadWriter().u8(PAYLOAD_VERSION).f64(this.calls).f64(this.traces);
    this.table.write(w);
    return w.finish();
  }

  /** Restores what `serialize` wrote into this fresh detector. */
  load(bytes: Uint8Array): this {
    const r = new PayloadReader(bytes, this.kind);
    const prelude = readTrainingPrelude(r, PAYLOAD_VERSION);
    this.calls = prelude.calls;
    this.traces = prelude.traces;
    this.table.read(r);
    r.end();
    this.refresh();
    return this;
  }

  memoryBytes(): number {
    return this.table.memoryBytes();
  }
}

export const stideFactory: DetectorFactory<Stide> = {
  kind: "stide",
  description: "stide (Forrest et al. 1996): a call is a mismatch when its length-k window never occurred in training",
  optionHelp: STIDE_OPTIONS,
  create(options) {
    return new Stide(resolveOptions("stide", STIDE_OPTIONS, options));
  },
  deserialize(options, bytes) {
    return new Stide(resolveOptions("stide", STIDE_OPTIONS, options)).load(bytes);
  },
};
