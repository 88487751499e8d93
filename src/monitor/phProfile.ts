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
// Admin operations as pH-admin and ebpH name them: normalize (start normal monitoring now), tolerize (stop normal
// monitoring, keep training: accept what the program now does), sensitize (forget the training data, so recent
// behaviour is not learned), reset (forget everything).
// Tables are kept as one row of `symbols` bytes per current call, allocated on first use: a program makes a few
// dozen distinct calls, so a profile costs tens of kilobytes, not symbols^2.
// Pure logic: the caller supplies time (so tests can set normal_wait small) and keeps one PhStream per process.

import { deflateRawSync, inflateRawSync } from "node:zlib";
import { HomeostatError } from "../errors.js";
import type { LiveProfile, LiveStream } from "./liveProfile.js";

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
export class PhStream implements LiveStream {
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

  /** A copy, for a forked child: pH keeps the sequence and locality frame in the task, which fork copies. */
  clone(): PhStream {
    const c = new PhStream(this.recent.length + 1, this.frameBits.length);
    c.recent.set(this.recent);
    c.frameBits.set(this.frameBits);
    c.frameAt = this.frameAt;
    c.lfc = this.lfc;
    c.maxLfc = this.maxLfc;
    return c;
  }

  /** Bytes this stream holds (for the monitor's per-process memory bound). */
  memoryBytes(): number {
    return this.recent.byteLength + this.frameBits.byteLength + 64;
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

/** A pair table: one row of `symbols` bytes per current call (bit lag-1 set = pair seen at that lag). */
type PairRows = (Uint8Array | undefined)[];

function copyRows(rows: PairRows): PairRows {
  return rows.map((r) => r?.slice());
}

const BLOB_MAGIC = 0x48_50_48_31; // "HPH1"

export class PhProfile implements LiveProfile {
  readonly settings: PhSettings;
  readonly symbols: number;
  /** pH's two tables: `train` keeps learning on every call; `test` is the frozen copy a normal profile tests. */
  private train: PairRows;
  private test: PairRows | null = null;
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
    for (const k of ["normalFactor", "normalFactorDen", "anomalyLimit", "tolerizeLimit", "frame"] as const) {
      if (!(Number.isInteger(s[k]) && s[k] >= 1)) {
        throw new HomeostatError("E_USAGE", `pH ${k} must be a positive integer, got ${s[k]}`);
      }
    }
    if (!(s.normalWait >= 0)) throw new HomeostatError("E_USAGE", `pH normalWait must be >= 0, got ${s.normalWait}`);
    this.symbols = symbols;
    this.train = new Array<Uint8Array | undefined>(symbols).fill(undefined);
  }

  get state(): PhState {
    return this.test !== null ? "normal" : this.frozen ? "frozen" : "training";
  }

  get model(): string {
    return `ph:L=${this.settings.lookahead}`;
  }

  newStream(): PhStream {
    return new PhStream(this.settings.lookahead, this.settings.frame);
  }

  /** pH learns every call as it comes: nothing is buffered. */
  endStream(_stream: LiveStream): void {}

  /** Unseen pairs (current call, call at lag) in `table`; ids out of range count as unseen. */
  private missing(table: PairRows, stream: PhStream, syscall: number): number {
    let n = 0;
    const row = syscall >= 0 && syscall < this.symbols ? table[syscall] : undefined;
    const recent = stream.recent;
    for (let lag = 0; lag < recent.length; lag++) {
      const prev = recent[lag]!;
      if (prev < 0) break;
      if (row === undefined || prev >= this.symbols || (row[prev]! & (1 << lag)) === 0) n++;
    }
    return n;
  }

  private addPairs(stream: PhStream, syscall: number): void {
    if (syscall < 0 || syscall >= this.symbols) return;
    let row = this.train[syscall];
    if (row === undefined) {
      row = new Uint8Array(this.symbols);
      this.train[syscall] = row;
    }
    for (let lag = 0; lag < stream.recent.length; lag++) {
      const prev = stream.recent[lag]!;
      if (prev < 0) break;
      if (prev < this.symbols) row[prev]! |= 1 << lag;
    }
  }

  /** Processes one call of a stream at time `now` (seconds): test against the normal table, then train. */
  // (PhStream, not LiveStream: a pH profile's streams are its own; method parameters are checked bivariantly.)
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
    this.train = new Array<Uint8Array | undefined>(this.symbols).fill(undefined);
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
    this.test = copyRows(this.train);
    this.frozen = false;
    this.anomalies = 0;
    this.lastModCount = 0;
    this.normalTime = Number.NaN;
  }

  /** pH's "tolerize": stop normal monitoring and keep training, so that what the program does now is accepted. */
  tolerize(): void {
    this.test = null;
    this.frozen = false;
    this.normalTime = Number.NaN;
  }

  /** pH's "sensitize": forget the training data, so that recent (possibly hostile) behaviour is not learned. */
  sensitize(): void {
    this.resetTraining();
  }

  /** Pairs in the training table, for reports. */
  pairCount(): number {
    return countPairs(this.train);
  }

  /** Pairs in the normal table (0 when not normal). */
  normalPairCount(): number {
    return this.test === null ? 0 : countPairs(this.test);
  }

  /** Ids of the calls the profile has seen as a current call (the normal table's when normal, else training's). */
  syscallsSeen(): number[] {
    const table = this.test ?? this.train;
    const out: number[] = [];
    for (let i = 0; i < table.length; i++) if (table[i] !== undefined) out.push(i);
    return out;
  }

  /** Bytes of memory the tables hold. */
  memoryBytes(): number {
    let n = 0;
    for (const t of [this.train, this.test]) if (t !== null) for (const r of t) if (r !== undefined) n += r.length;
    return n + this.symbols * 16;
  }

  /**
   * The profile as bytes: a JSON header (settings, counters, state) and both tables, row by row, deflated (tables
   * are mostly zero). The store adds versioning and a checksum; this format checks its own magic and lengths.
   */
  serialize(): Uint8Array {
    const header = Buffer.from(
      JSON.stringify({
        symbols: this.symbols,
        settings: this.settings,
        trainCount: this.trainCount,
        lastModCount: this.lastModCount,
        anomalies: this.anomalies,
        normalTime: Number.isNaN(this.normalTime) ? null : this.normalTime,
        frozen: this.frozen,
        normal: this.test !== null,
      }),
      "utf8",
    );
    const tables = [encodeRows(this.train, this.symbols), this.test === null ? null : encodeRows(this.test, this.symbols)];
    const parts: Buffer[] = [];
    const head = Buffer.alloc(8);
    head.writeUInt32LE(BLOB_MAGIC, 0);
    head.writeUInt32LE(header.length, 4);
    parts.push(head, header);
    for (const t of tables) {
      const len = Buffer.alloc(4);
      len.writeUInt32LE(t === null ? 0xffffffff : t.length, 0);
      parts.push(len);
      if (t !== null) parts.push(t);
    }
    return deflateRawSync(Buffer.concat(parts));
  }

  /** Restores `serialize()` output; E_PARSE on anything malformed. */
  static deserialize(bytes: Uint8Array, what = "pH profile"): PhProfile {
    const bad = (why: string): HomeostatError => new HomeostatError("E_PARSE", `${what}: ${why}`);
    let raw: Buffer;
    try {
      raw = inflateRawSync(bytes);
    } catch {
      throw bad("not a deflated pH profile");
    }
    if (raw.length < 8 || raw.readUInt32LE(0) !== BLOB_MAGIC) throw bad("bad magic");
    const hlen = raw.readUInt32LE(4);
    if (8 + hlen > raw.length) throw bad("truncated header");
    let h: {
      symbols: number;
      settings: PhSettings;
      trainCount: number;
      lastModCount: number;
      anomalies: number;
      normalTime: number | null;
      frozen: boolean;
      normal: boolean;
    };
    try {
      h = JSON.parse(raw.subarray(8, 8 + hlen).toString("utf8")) as typeof h;
    } catch {
      throw bad("header is not JSON");
    }
    const p = new PhProfile(h.symbols, h.settings);
    let at = 8 + hlen;
    const readTable = (): PairRows | null => {
      if (at + 4 > raw.length) throw bad("truncated table");
      const len = raw.readUInt32LE(at);
      at += 4;
      if (len === 0xffffffff) return null;
      if (at + len > raw.length) throw bad("truncated table");
      const rows = decodeRows(raw.subarray(at, at + len), h.symbols, bad);
      at += len;
      return rows;
    };
    const train = readTable();
    if (train === null) throw bad("no training table");
    p.train = train;
    p.test = readTable();
    if (p.test === null && h.normal) throw bad("normal profile without its normal table");
    p.trainCount = h.trainCount;
    p.lastModCount = h.lastModCount;
    p.anomalies = h.anomalies;
    p.normalTime = h.normalTime ?? Number.NaN;
    p.frozen = h.frozen;
    return p;
  }
}

function countPairs(rows: PairRows): number {
  let n = 0;
  for (const row of rows) if (row !== undefined) for (const b of row) for (let v = b; v !== 0; v &= v - 1) n++;
  return n;
}

/** Rows as (u16 index, `symbols` bytes) records. */
function encodeRows(rows: PairRows, symbols: number): Buffer {
  const used = rows.reduce((n, r) => n + (r !== undefined ? 1 : 0), 0);
  const out = Buffer.alloc(used * (2 + symbols));
  let at = 0;
  rows.forEach((r, i) => {
    if (r === undefined) return;
    out.writeUInt16LE(i, at);
    out.set(r, at + 2);
    at += 2 + symbols;
  });
  return out;
}

function decodeRows(bytes: Buffer, symbols: number, bad: (why: string) => HomeostatError): PairRows {
  const rows: PairRows = new Array<Uint8Array | undefined>(symbols).fill(undefined);
  if (bytes.length % (2 + symbols) !== 0) throw bad("table length is not a whole number of rows");
  for (let at = 0; at < bytes.length; at += 2 + symbols) {
    const i = bytes.readUInt16LE(at);
    if (i >= symbols) throw bad(`row ${i} out of range`);
    rows[i] = new Uint8Array(bytes.subarray(at + 2, at + 2 + symbols));
  }
  return rows;
}
