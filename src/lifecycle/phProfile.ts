// pH's model of normal, lookahead pairs (Somayaji & Forrest 2000; Somayaji's dissertation; ebpH), under pH's
// lifecycle (lifecycleProfile.ts): for each call and each lag 1..L-1 (L = 9), whether the pair (call, call at
// that lag) has been seen, one bit per lag in a byte per (call, earlier call) cell. A call that completes an unseen
// pair is new to the training table and, for a normal profile, an anomaly.
// Tables are kept as one row of `symbols` bytes per current call, allocated on first use: a program makes a few
// dozen distinct calls, so a profile costs tens of kilobytes, not symbols^2.

import { HomeostatError } from "../errors.js";
import { LifecycleProfile } from "./lifecycleProfile.js";
import type { LifecycleSettings } from "./lifecycleSettings.js";
import type { LiveProfile, LiveStream } from "./liveProfile.js";
import { decodeBlob, encodeBlob } from "./profileBlob.js";

export {
  LIFECYCLE_DEFAULTS,
  type LifecycleSettings,
  type LifecycleStep,
  type ProfileState,
} from "./lifecycleSettings.js";

/** One process's recent calls and its locality frame (anomalous calls among the last `frame`). */
export class PhStream implements LiveStream {
  readonly recent: Int32Array;
  protected readonly frameBits: Uint8Array;
  protected frameAt = 0;
  lfc = 0;
  maxLfc = 0;

  constructor(lookahead: number, frame: number) {
    this.recent = new Int32Array(lookahead - 1).fill(-1);
    this.frameBits = new Uint8Array(frame);
  }

  /** A copy, for a forked child: pH keeps the sequence and locality frame in the task, which fork copies. */
  clone(): PhStream {
    return new PhStream(this.recent.length + 1, this.frameBits.length).copyFrom(this);
  }

  /** Takes `other`'s sequence and locality frame (same lengths). */
  protected copyFrom(other: PhStream): this {
    this.recent.set(other.recent);
    this.frameBits.set(other.frameBits);
    this.frameAt = other.frameAt;
    this.lfc = other.lfc;
    this.maxLfc = other.maxLfc;
    return this;
  }

  push(syscall: number): void {
    for (let i = this.recent.length - 1; i > 0; i--) this.recent[i] = this.recent[i - 1]!;
    if (this.recent.length > 0) this.recent[0] = syscall;
  }

  frame(anomalous: boolean): number {
    this.lfc += (anomalous ? 1 : 0) - this.frameBits[this.frameAt]!;
    this.frameBits[this.frameAt] = anomalous ? 1 : 0;
    this.frameAt = this.frameAt + 1 === this.frameBits.length ? 0 : this.frameAt + 1;
    if (this.lfc > this.maxLfc) this.maxLfc = this.lfc;
    return this.lfc;
  }
}

/** A pair table: one row of `symbols` bytes per current call (bit lag-1 set = pair seen at that lag). */
type PairRows = (Uint8Array | undefined)[];

function copyRows(rows: PairRows): PairRows {
  return rows.map((r) => r?.slice());
}

const BLOB_MAGIC = 0x48_50_48_31; // "HPH1"

export class PhProfile extends LifecycleProfile<PhStream> {
  readonly symbols: number;
  /** pH's two tables: `train` keeps learning on every call; `test` is the frozen copy a normal profile tests. */
  private train: PairRows;
  private test: PairRows | null = null;

  constructor(symbols: number, settings: Partial<LifecycleSettings> = {}) {
    super(settings);
    if (!(Number.isInteger(symbols) && symbols >= 1 && symbols <= 4096)) {
      throw new HomeostatError("E_USAGE", `pH profiles hold 1..4096 syscall ids, got ${symbols}`);
    }
    this.symbols = symbols;
    this.train = new Array<Uint8Array | undefined>(symbols).fill(undefined);
  }

  get model(): string {
    return `ph:L=${this.settings.lookahead}`;
  }

  readonly kind = "ph";
  readonly modelUnit = "lookahead pairs";

  newStream(): PhStream {
    return new PhStream(this.settings.lookahead, this.settings.frame);
  }

  /** pH learns every call as it comes: nothing is buffered. */
  endStream(_stream: LiveStream): void {}

  protected hasNormal(): boolean {
    return this.test !== null;
  }

  protected testCall(stream: PhStream, syscall: number): number {
    return this.missing(this.test!, stream, syscall);
  }

  protected trainCall(stream: PhStream, syscall: number): boolean {
    if (this.missing(this.train, stream, syscall) === 0) return false;
    this.addPairs(stream, syscall);
    return true;
  }

  protected snapshotNormal(): void {
    this.test = copyRows(this.train);
  }

  protected dropNormal(): void {
    this.test = null;
  }

  protected clearTraining(): void {
    this.train = new Array<Uint8Array | undefined>(this.symbols).fill(undefined);
  }

  protected mergeModels(other: LiveProfile, normals: boolean): void {
    if (!(other instanceof PhProfile) || other.symbols !== this.symbols) {
      throw new HomeostatError("E_MODEL", `cannot merge pH profiles of different vocabularies`);
    }
    orRows(this.train, other.train);
    if (normals) orRows(this.test!, other.test!);
    else this.test = null;
  }

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

  /** Pairs in the training table, for reports. */
  modelSize(): number {
    return countPairs(this.train);
  }

  /** Pairs in the normal table (0 when not normal). */
  normalModelSize(): number {
    return this.test === null ? 0 : countPairs(this.test);
  }

  /** Ids of the calls the profile has seen as a current call (the normal table's when normal, else training's). */
  syscallsSeen(): number[] {
    const table = this.test ?? this.train;
    const out: number[] = [];
    for (let i = 0; i < table.length; i++) if (table[i] !== undefined) out.push(i);
    return out;
  }

  /**
   * The pairs seen at `lag` (1: consecutive calls, the bigrams), as [previous call, call] ids, from the table
   * syscallsSeen reads (the normal one when normal).
   */
  pairsAtLag(lag = 1): [number, number][] {
    if (!(Number.isInteger(lag) && lag >= 1 && lag < this.settings.lookahead)) {
      throw new HomeostatError("E_USAGE", `lag must be in 1..${this.settings.lookahead - 1}, got ${lag}`);
    }
    const table = this.test ?? this.train;
    const bit = 1 << (lag - 1);
    const out: [number, number][] = [];
    table.forEach((row, next) => {
      if (row !== undefined)
        for (let prev = 0; prev < row.length; prev++) if ((row[prev]! & bit) !== 0) out.push([prev, next]);
    });
    return out;
  }

  /** Bytes of memory the tables hold. */
  memoryBytes(): number {
    let n = 0;
    for (const t of [this.train, this.test]) if (t !== null) for (const r of t) if (r !== undefined) n += r.length;
    return n + this.symbols * 16;
  }

  /** The profile as bytes (profileBlob.ts): settings, counters and state, then both tables row by row. */
  serialize(): Uint8Array {
    return encodeBlob(
      BLOB_MAGIC,
      { symbols: this.symbols, settings: this.settings, ...this.lifecycleState(), normal: this.test !== null },
      [encodeRows(this.train, this.symbols), this.test === null ? null : encodeRows(this.test, this.symbols)],
    );
  }

  /** Restores `serialize()` output; E_PARSE on anything malformed. */
  static deserialize(bytes: Uint8Array, what = "pH profile"): PhProfile {
    const { header, sections } = decodeBlob(bytes, BLOB_MAGIC, 2, what);
    const bad = (why: string): HomeostatError => new HomeostatError("E_PARSE", `${what}: ${why}`);
    const h = header as Parameters<PhProfile["restoreLifecycle"]>[0] & {
      symbols: number;
      settings: LifecycleSettings;
      normal: boolean;
    };
    const p = new PhProfile(h.symbols, h.settings);
    if (sections[0] === null || sections[0] === undefined) throw bad("no training table");
    p.train = decodeRows(sections[0], h.symbols, bad);
    p.test = sections[1] === null || sections[1] === undefined ? null : decodeRows(sections[1], h.symbols, bad);
    if (p.test === null && h.normal) throw bad("normal profile without its normal table");
    p.restoreLifecycle(h);
    return p;
  }
}

/** Adds every pair of `from` to `into` (the union of two tables of one vocabulary). */
function orRows(into: PairRows, from: PairRows): void {
  from.forEach((row, i) => {
    if (row === undefined) return;
    const mine = into[i];
    if (mine === undefined) into[i] = row.slice();
    else for (let j = 0; j < row.length; j++) mine[j]! |= row[j]!;
  });
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
