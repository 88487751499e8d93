// Test helper: small detectors that implement the Detector contract (src/models/detector.ts) so that the scoring
// layer is tested without waiting for the real models. Not shipped (tsconfig.build.json excludes testing/).
// - BigramDetector: a seen-set of call pairs (stide with k = 2): signal 1 for an unseen pair, NaN at a stream's
//   first call; offers minHammingDistance for Hofmeyr's normalised anomaly signal.
// - UnigramSurprisal: -log2 of the add-one-smoothed frequency of the call (a surprisal detector), NaN for the
//   first `skip` calls of a stream.
// - ScriptedDetector: returns a given signal sequence by position, for hand-worked examples.

import { HomeostatError } from "../../errors.js";
import type { Detector, DetectorOptions, DetectorState, SignalInfo } from "../../models/detector.js";

abstract class ToyDetector<S extends DetectorState> implements Detector<S> {
  abstract readonly kind: string;
  abstract readonly options: DetectorOptions;
  abstract readonly signal: SignalInfo;
  trainedCalls = 0;
  trainedTraces = 0;
  readonly mergeable = false;
  abstract train(traces: readonly Uint16Array[]): void;
  abstract newState(): S;
  abstract step(state: S, syscall: number): number;
  scoreTrace(trace: Uint16Array, out: Float64Array): void {
    const s = this.newState();
    for (let i = 0; i < trace.length; i++) out[i] = this.step(s, trace[i]!);
  }
  merge(_other: Detector): void {
    throw new HomeostatError("E_MODEL", `${this.kind} cannot merge`);
  }
  serialize(): Uint8Array {
    return new Uint8Array(0);
  }
  memoryBytes(): number {
    return 0;
  }
}

export class BigramState implements DetectorState {
  prev = -1;
  prevPrev = -1;
  reset(): void {
    this.prev = -1;
    this.prevPrev = -1;
  }
}

export class BigramDetector extends ToyDetector<BigramState> {
  readonly kind = "bigram";
  readonly options: DetectorOptions = { k: 2 };
  readonly signal: SignalInfo = { kind: "mismatch", anomalousAt: 1 };
  private readonly seen = new Set<number>();
  hammingCalls = 0;

  train(traces: readonly Uint16Array[]): void {
    for (const t of traces) {
      this.trainedTraces++;
      this.trainedCalls += t.length;
      for (let i = 1; i < t.length; i++) this.seen.add(t[i - 1]! * 65536 + t[i]!);
    }
  }

  newState(): BigramState {
    return new BigramState();
  }

  step(state: BigramState, syscall: number): number {
    const prev = state.prev;
    state.prevPrev = prev;
    state.prev = syscall;
    if (prev < 0) return Number.NaN;
    return this.seen.has(prev * 65536 + syscall) ? 0 : 1;
  }

  /** Min Hamming distance from the pair the last step completed to every trained pair. */
  minHammingDistance(state: BigramState): number {
    this.hammingCalls++;
    let best = 2;
    for (const key of this.seen) {
      const a = Math.floor(key / 65536);
      const b = key % 65536;
      const d = (a === state.prevPrev ? 0 : 1) + (b === state.prev ? 0 : 1);
      if (d < best) best = d;
    }
    return best;
  }
}

export class CountingState implements DetectorState {
  position = 0;
  reset(): void {
    this.position = 0;
  }
}

export class UnigramSurprisal extends ToyDetector<CountingState> {
  readonly kind = "unigram";
  readonly options: DetectorOptions;
  readonly signal: SignalInfo = { kind: "surprisal", anomalousAt: 4 };
  private counts = new Float64Array(16);
  private total = 0;
  private readonly skip: number;

  constructor(skip = 0) {
    super();
    this.skip = skip;
    this.options = { skip };
  }

  train(traces: readonly Uint16Array[]): void {
    for (const t of traces) {
      this.trainedTraces++;
      this.trainedCalls += t.length;
      for (const c of t) {
        if (c >= this.counts.length) {
          const grown = new Float64Array(Math.max(c + 1, this.counts.length * 2));
          grown.set(this.counts);
          this.counts = grown;
        }
        this.counts[c]!++;
        this.total++;
      }
    }
  }

  newState(): CountingState {
    return new CountingState();
  }

  step(state: CountingState, syscall: number): number {
    if (state.position++ < this.skip) return Number.NaN;
    const c = syscall < this.counts.length ? this.counts[syscall]! : 0;
    return -Math.log2((c + 1) / (this.total + this.counts.length));
  }
}

/** Returns signals[position] at each call of a stream (NaN past the end). */
export class ScriptedDetector extends ToyDetector<CountingState> {
  readonly kind = "scripted";
  readonly options: DetectorOptions = {};
  readonly signal: SignalInfo;
  private readonly signals: readonly number[];

  constructor(signals: readonly number[], signal: SignalInfo = { kind: "mismatch", anomalousAt: 1 }) {
    super();
    this.signals = signals;
    this.signal = signal;
  }

  train(_traces: readonly Uint16Array[]): void {}

  newState(): CountingState {
    return new CountingState();
  }

  step(state: CountingState, _syscall: number): number {
    return this.signals[state.position++] ?? Number.NaN;
  }
}
