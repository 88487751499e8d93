// A per-executable profile that trains itself and becomes normal, with pH's lifecycle (Somayaji & Forrest 2000,
// "Automated response using system-call delays"; Somayaji's dissertation; the same rules as ebpH, Findlay &
// Somayaji). The model is pH's lookahead pairs: for each call and each lag 1..L-1 (L = 9), whether the pair (call,
// call at that lag) has been seen, one bit per lag in a byte per (call, earlier call) cell.
//
// Lifecycle, per call. pH keeps two tables: training never stops, and a normal profile tests against the copy of
// the training table taken when it became normal.
// - training: train_count++; a call that completes an unseen pair adds it, unfreezes, and sets last_mod_count = 0;
//   otherwise last_mod_count++, and the profile FREEZES when normal_count = train_count - last_mod_count > 0 and
//   train_count * normal_factor_den > normal_count * normal_factor (defaults 32 and 128); a frozen profile becomes
//   NORMAL once normal_wait has passed without a new pair (a new pair unfreezes it);
// - normal: each call with pairs missing from the normal table is an anomaly and enters the process's locality
//   frame; past anomaly_limit (30) anomalies the profile stops being normal; a process whose locality frame count
//   exceeds tolerize_limit (12) empties the training table, so that its behaviour is not learned as normal.
// Pure logic: the caller supplies time (so tests can set normal_wait small) and keeps one PhStream per process.

import { HomeostatError } from "../errors.js";

export interface PhSettings {
  /** Lookahead window L (pairs at lags 1..L-1); at most 9, since lags are bits of a byte. */
  lookahead: number;
  normalFactor: number;
  normalFactorDen: number;
  /** Seconds a frozen profile waits before becoming normal (pH: one week). */
  normalWait: number;
  anomalyLimit: number;
  tolerizeLimit: number;
  /** Locality frame length (pH: 128). */
  frame: number;
}

export const PH_DEFAULTS: Readonly<PhSettings> = Object.freeze({
  lookahead: 9,
  normalFactor: 128,
  normalFactorDen: 32,
  normalWait: 7 * 24 * 3600,
  anomalyLimit: 30,
  tolerizeLimit: 12,
  frame: 128,
});

export type PhState = "training" | "frozen" | "normal";

/** One process's recent calls and its locality frame (anomalous calls among the last `frame`). */
export class PhStream {
  readonly recent: Int32Array;
  private readonly frameBits: Uint8Array;
  private frameAt = 0;
  lfc = 0;
  maxLfc = 0;
  calls = 0;

  constructor(lookahead: number, frame: number) {
    this.recent = new Int32Array(lookahead - 1).fill(-1);
    this.frameBits = new Uint8Array(frame);
  }

  push(syscall: number): void {
    for (let i = this.recent.length - 1; i > 0; i--) this.recent[i] = this.recent[i - 1]!;
    if (this.recent.length > 0) this.recent[0] = syscall;
    this.calls++;
  }

  frame(anomalous: boolean): number {
    this.lfc += (anomalous ? 1 : 0) - this.frameBits[this.frameAt]!;
    this.frameBits[this.frameAt] = anomalous ? 1 : 0;
    this.frameAt = this.frameAt + 1 === this.frameBits.length ? 0 : this.frameAt + 1;
    if (this.lfc > this.maxLfc) this.maxLfc = this.lfc;
    return this.lfc;
  }
}

/** What one call did to the profile. */
export interface PhStep {
  /** Unseen pairs the call completed (0 = normal behaviour). */
  missing: number;
  /** The process's locality frame count after the call. */
  lfc: number;
  /** The profile's state after the call. */
  state: PhState;
  /** The call counted as an anomaly of a normal profile. */
  anomaly: boolean;
  /** The call changed the profile's state or reset it ("froze", "normal", "retrain", "tolerized"), else null. */
  transition: "froze" | "normal" | "retrain" | "tolerized" | null;
}

export class PhProfile {
  readonly settings: PhSettings;
  readonly symbols: number;
  /** pH's two tables: `train` keeps learning on every call; `test` is the frozen copy a normal profile tests. */
  private train: Uint8Array;
  private test: Uint8Array | null = null;
  trainCount = 0;
  lastModCount = 0;
  anomalies = 0;
  /** When a frozen profile may become normal (seconds, the caller's clock); NaN when not frozen. */
  normalTime = Number.NaN;
  private frozen = false;

  constructor(symbols: number, settings: Partial<PhSettings> = {}) {
    this.settings = { ...PH_DEFAULTS, ...settings };
    const s = this.settings;
    if (!(Number.isInteger(s.lookahead) && s.lookahead >= 2 && s.lookahead <= 9)) {
      throw new HomeostatError("E_USAGE", `pH lookahead must be an integer in 2..9, got ${s.lookahead}`);
    }
    if (!(Number.isInteger(symbols) && symbols >= 1 && symbols <= 4096)) {
      throw new HomeostatError("E_USAGE", `pH profiles hold 1..4096 syscall ids, got ${symbols}`);
    }
    this.symbols = symbols;
    this.train = new Uint8Array(symbols * symbols);
  }

  get state(): PhState {
    return this.test !== null ? "normal" : this.frozen ? "frozen" : "training";
  }

  newStream(): PhStream {
    return new PhStream(this.settings.lookahead, this.settings.frame);
  }

  /** Unseen pairs (current call, call at lag) in `table`; ids out of range count as unseen. */
  private missing(table: Uint8Array, stream: PhStream, syscall: number): number {
    let n = 0;
    const inRange = syscall >= 0 && syscall < this.symbols;
    for (let lag = 0; lag < stream.recent.length; lag++) {
      const prev = stream.recent[lag]!;
      if (prev < 0) break;
      if (!inRange || prev >= this.symbols || (table[syscall * this.symbols + prev]! & (1 << lag)) === 0) n++;
    }
    return n;
  }

  private addPairs(stream: PhStream, syscall: number): void {
    if (syscall < 0 || syscall >= this.symbols) return;
    for (let lag = 0; lag < stream.recent.length; lag++) {
      const prev = stream.recent[lag]!;
      if (prev < 0) break;
      if (prev < this.symbols) this.train[syscall * this.symbols + prev]! |= 1 << lag;
    }
  }

  /** Processes one call of a stream at time `now` (seconds): test against the normal table, then train. */
  step(stream: PhStream, syscall: number, now: number): PhStep {
    const s = this.settings;
    let transition: PhStep["transition"] = null;
    if (this.frozen && now >= this.normalTime) {
      this.normalize();
      transition = "normal";
    }
    // Detection: only a normal profile has anomalies (pH tests against the copy made when it became normal).
    const missing = this.test !== null ? this.missing(this.test, stream, syscall) : 0;
    const lfc = stream.frame(missing > 0);
    const anomaly = missing > 0;
    if (anomaly) {
      this.anomalies++;
      if (this.anomalies > s.anomalyLimit) {
        this.test = null; // too many anomalies: the profile was not normal after all; keep training
        transition = "retrain";
      }
    }
    // Training continues on every call, into the training table.
    this.trainCount++;
    if (this.missing(this.train, stream, syscall) > 0) {
      this.frozen = false;
      this.normalTime = Number.NaN;
      this.addPairs(stream, syscall);
      this.lastModCount = 0;
    } else {
      this.lastModCount++;
      const normalCount = this.trainCount - this.lastModCount;
      if (
        !this.frozen &&
        this.test === null &&
        normalCount > 0 &&
        this.trainCount * s.normalFactorDen > normalCount * s.normalFactor
      ) {
        this.frozen = true;
        this.normalTime = now + s.normalWait;
        transition = "froze";
      }
    }
    // Tolerize limit: a process this anomalous must not be learned as normal: forget the training table.
    if (lfc > s.tolerizeLimit) {
      this.resetTraining();
      transition = "tolerized";
    }
    stream.push(syscall);
    return { missing, lfc, state: this.state, anomaly, transition };
  }

  private resetTraining(): void {
    this.train = new Uint8Array(this.symbols * this.symbols);
    this.trainCount = 0;
    this.lastModCount = 0;
    this.frozen = false;
    this.normalTime = Number.NaN;
  }

  /** Forgets everything (pH's reset). */
  reset(): void {
    this.resetTraining();
    this.test = null;
    this.anomalies = 0;
  }

  /** pH's "normalize": the training table becomes the normal one now. */
  normalize(): void {
    this.test = this.train.slice();
    this.frozen = false;
    this.anomalies = 0;
    this.lastModCount = 0;
    this.normalTime = Number.NaN;
  }

  /** pH's "sensitize": stop being normal and keep training. */
  sensitize(): void {
    this.test = null;
    this.frozen = false;
    this.normalTime = Number.NaN;
  }

  /** Pairs in the training table, for reports. */
  pairCount(): number {
    let n = 0;
    for (const b of this.train) for (let v = b; v !== 0; v &= v - 1) n++;
    return n;
  }
}
