// Sequence covering (Marteau 2019, "Sequence Covering for Efficient Host-Based Intrusion Detection", IEEE TIFS
// 14(4)): normal is the set of factors (contiguous subsequences) of the training traces, held in a suffix automaton
// (suffixAutomaton.ts). A trace is covered from left to right by the longest factors of the training set: a piece
// extends while the automaton has a transition for the next call; where it has none, a new piece starts at that
// call (a call never seen in training is a piece of its own). Because the factors of a set are closed under taking
// factors, this greedy covering uses the fewest pieces any covering can: the size of a minimal covering, on
// which the paper's covering similarity rests.
//
// Per-call signal ("mismatch"): 1 at a call that starts a new piece, after the first call; 0 otherwise. The rate
// score is then (pieces - 1) / calls, the paper's pieces per call less one piece, and locality frame counts count
// piece starts. The model has no option: the automaton holds every factor, of any length.
//
// The profile stores the training traces that added factors (a trace that is already a factor of the model adds
// none and is dropped), 2 bytes a call; loading rebuilds the automaton in linear time, and merging inserts the
// other model's stored traces, which gives exactly the model that training on both inputs gives.

import { HomeostatError } from "../errors.js";
import type { Detector, DetectorFactory, DetectorOptions, SignalInfo, TraceLearner } from "./detector.js";
import { checkMergeable, resolveOptions } from "./detectorOptions.js";
import { PayloadReader, PayloadWriter, readTrainingPrelude } from "./payload.js";
import { NO_STATE, ROOT, SuffixAutomaton } from "./suffixAutomaton.js";

const PAYLOAD_VERSION = 1;

export const SEQUENCE_COVER_OPTIONS = {} as const;

/** Where a stream is in its current piece. */
export class CoverState {
  /** The automaton state of the current piece; ROOT before the first call, NO_STATE after an unseen call. */
  at = ROOT;
  /** Calls in the current piece. */
  pieceLength = 0;
  /** The last call (the whole piece when `at` is NO_STATE). */
  lastCall = 0;

  reset(): void {
    this.at = ROOT;
    this.pieceLength = 0;
    this.lastCall = 0;
  }
}

/** The training traces that added factors, end to end, with their lengths: what the profile stores. */
class StoredTraces {
  calls = new Uint16Array(1024);
  lengths = new Uint32Array(64);
  count = 0;
  totalCalls = 0;

  add(trace: Uint16Array): void {
    if (this.count === this.lengths.length) this.lengths = grownCopy(this.lengths, this.count * 2);
    const need = this.totalCalls + trace.length;
    if (need > this.calls.length) this.calls = grownCopy(this.calls, Math.max(need, this.calls.length * 2));
    this.calls.set(trace, this.totalCalls);
    this.lengths[this.count++] = trace.length;
    this.totalCalls = need;
  }

  /** Calls each stored trace in order. */
  forEach(fn: (trace: Uint16Array) => void): void {
    for (let i = 0, at = 0; i < this.count; i++) {
      const n = this.lengths[i]!;
      fn(this.calls.subarray(at, at + n));
      at += n;
    }
  }

  memoryBytes(): number {
    return this.calls.byteLength + this.lengths.byteLength;
  }
}

export class SequenceCover implements Detector<CoverState> {
  readonly kind = "cover";
  readonly options: DetectorOptions;
  readonly signal: SignalInfo = { kind: "mismatch", anomalousAt: 1 };
  readonly mergeable = true;
  private automaton = new SuffixAutomaton();
  private stored = new StoredTraces();
  private calls = 0;
  private traces = 0;

  /** Options must already be resolved (there are none). */
  constructor(options: DetectorOptions) {
    this.options = Object.freeze({ ...options });
  }

  get trainedCalls(): number {
    return this.calls;
  }

  get trainedTraces(): number {
    return this.traces;
  }

  /** States of the suffix automaton (at most 2n for n stored calls). */
  get states(): number {
    return this.automaton.states;
  }

  /** Transitions of the suffix automaton. */
  get transitions(): number {
    return this.automaton.transitions;
  }

  /** Training traces kept because they added factors. */
  get storedTraces(): number {
    return this.stored.count;
  }

  /** Calls of the kept training traces. */
  get storedCalls(): number {
    return this.stored.totalCalls;
  }

  train(traces: readonly Uint16Array[]): void {
    for (const t of traces) this.learnTrace(t);
  }

  /** Learns one whole trace: inserted and kept only when it adds factors. */
  private learnTrace(trace: Uint16Array): void {
    if (!this.automaton.isFactor(trace)) {
      this.automaton.addTrace(trace);
      this.stored.add(trace);
    }
    this.calls += trace.length;
    this.traces++;
  }

  /**
   * A learner holds its trace's calls (2 bytes each, far less than the automaton states they may add) until `end`,
   * which learns the trace as `train` does: so learners give the model, and the bytes, that `train` gives when
   * their traces end in the same order.
   */
  learner(): TraceLearner {
    let buffer = new Uint16Array(256);
    let n = 0;
    return {
      push: (syscall: number): void => {
        if (n === buffer.length) buffer = grownCopy(buffer, n * 2);
        buffer[n++] = syscall;
      },
      end: (): void => {
        this.learnTrace(buffer.subarray(0, n));
        buffer = new Uint16Array(0);
        n = 0;
      },
    };
  }

  newState(): CoverState {
    return new CoverState();
  }

  step(state: CoverState, syscall: number): number {
    const sam = this.automaton;
    sam.prepare();
    let at = state.at;
    // Training since the last call may have split the class of the current piece: the piece's state is then the
    // suffix-link ancestor whose lengths hold it, and a call unseen before may have become a factor. On a model
    // that did not change, neither test fires, so that step equals scoreTrace.
    if (at > ROOT) {
      while (sam.lengthOf(sam.linkOf(at)) >= state.pieceLength) at = sam.linkOf(at);
    } else if (at === NO_STATE) {
      at = sam.go(ROOT, state.lastCall);
    }
    let signal = 0;
    const to = sam.go(at, syscall);
    if (to >= 0) {
      at = to;
      state.pieceLength++;
    } else {
      // A new piece starts here; the first call of a stream starts the first piece, which is no signal.
      signal = state.pieceLength > 0 ? 1 : 0;
      at = sam.go(ROOT, syscall);
      state.pieceLength = 1;
    }
    state.at = at;
    state.lastCall = syscall;
    return signal;
  }

  scoreTrace(trace: Uint16Array, out: Float64Array): void {
    if (out.length < trace.length) {
      throw new HomeostatError("E_MODEL", `score buffer holds ${out.length} values for a trace of ${trace.length}`);
    }
    const sam = this.automaton;
    sam.prepare();
    let at = ROOT;
    for (let i = 0; i < trace.length; i++) {
      const c = trace[i]!;
      const to = sam.go(at, c);
      if (to >= 0) {
        at = to;
        out[i] = 0;
      } else {
        out[i] = i > 0 ? 1 : 0;
        at = sam.go(ROOT, c);
      }
    }
  }

  /** The number of pieces of the greedy covering of a trace (0 for the empty trace). */
  pieces(trace: Uint16Array): number {
    if (trace.length === 0) return 0;
    const out = new Float64Array(trace.length);
    this.scoreTrace(trace, out);
    let starts = 1;
    for (const v of out) starts += v;
    return starts;
  }

  merge(other: Detector): void {
    checkMergeable(this, other);
    if (!(other instanceof SequenceCover)) {
      throw new HomeostatError("E_MODEL", `cannot merge a foreign ${other.kind} model`);
    }
    // Stored traces are those that added factors, so inserting them adds every factor the other model holds.
    other.stored.forEach((t) => {
      if (!this.automaton.isFactor(t)) {
        this.automaton.addTrace(t);
        this.stored.add(t);
      }
    });
    this.calls += other.calls;
    this.traces += other.traces;
  }

  serialize(): Uint8Array {
    const w = new PayloadWriter().u8(PAYLOAD_VERSION).f64(this.calls).f64(this.traces);
    w.u32(this.stored.count);
    w.u32s(this.stored.lengths.subarray(0, this.stored.count));
    w.u16s(this.stored.calls.subarray(0, this.stored.totalCalls));
    return w.finish();
  }

  /** Restores what `serialize` wrote into this fresh detector, rebuilding the automaton from the stored traces. */
  load(bytes: Uint8Array): this {
    const r = new PayloadReader(bytes, this.kind);
    const prelude = readTrainingPrelude(r, PAYLOAD_VERSION);
    const count = r.u32();
    if (count > prelude.traces) throw r.fail(`${count} stored traces of ${prelude.traces} trained`);
    if (count * 4 > r.remaining) throw r.fail(`${count} stored traces do not fit in ${r.remaining} bytes`);
    const lengths = r.u32s(count);
    let total = 0;
    for (const n of lengths) {
      if (n === 0) throw r.fail("an empty stored trace");
      total += n;
    }
    if (total > prelude.calls) throw r.fail(`${total} stored calls of ${prelude.calls} trained`);
    if (total * 2 !== r.remaining) throw r.fail(`${total} stored calls in ${r.remaining} bytes`);
    const calls = r.u16s(total);
    r.end();
    for (let i = 0, at = 0; i < count; i++) {
      const trace = calls.subarray(at, at + lengths[i]!);
      this.automaton.addTrace(trace);
      this.stored.add(trace);
      at += trace.length;
    }
    this.calls = prelude.calls;
    this.traces = prelude.traces;
    return this;
  }

  memoryBytes(): number {
    return this.automaton.memoryBytes() + this.stored.memoryBytes();
  }
}

function grownCopy<T extends Uint16Array | Uint32Array>(a: T, size: number): T {
  const out = new (a.constructor as new (n: number) => T)(size);
  out.set(a.subarray(0, Math.min(a.length, size)));
  return out;
}

export const sequenceCoverFactory: DetectorFactory<SequenceCover> = {
  kind: "cover",
  description:
    "sequence covering (Marteau 2019): a call starts a new piece when the longest training factor covering the " +
    "calls before it cannot extend to it",
  optionHelp: SEQUENCE_COVER_OPTIONS,
  create(options) {
    return new SequenceCover(resolveOptions("cover", SEQUENCE_COVER_OPTIONS, options));
  },
  deserialize(options, bytes) {
    return new SequenceCover(resolveOptions("cover", SEQUENCE_COVER_OPTIONS, options)).load(bytes);
  },
};
