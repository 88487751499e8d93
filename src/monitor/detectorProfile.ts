// pH's lifecycle around any detector of src/models that learns incrementally (stide, t-stide, lookahead pairs,
// the n-gram model), for `homeostat watch --model`: the profile trains itself on live calls, freezes when it stops
// learning new behaviour, becomes normal after normal_wait, and a normal profile tests calls against the copy of
// the model taken when it became normal (Somayaji & Forrest 2000, with Forrest et al. 1996's detectors inside).
//
// "New behaviour" is the detector's own signal: a call the training model scores as anomalous (an unseen window
// for stide, a pair for lookahead, a surprisal over the model's threshold for the n-gram) counts as a change, as a
// new lookahead pair does in pH. Detectors learn whole traces, so each task's calls are kept in a buffer and
// learned CHUNK calls at a time (and when the task ends), each chunk starting with the last OVERLAP calls of the
// one before so that no window across the boundary is missed. Until a chunk is learned, its new windows count as
// changes each time they recur: the freeze test is a little slower to pass than pH's, never quicker.
// The HMM refits in batch (tens of seconds) and is refused here.

import { deflateRawSync, inflateRawSync } from "node:zlib";
import { HomeostatError } from "../errors.js";
import type { Detector, DetectorState } from "../models/detector.js";
import { detectorFactory, formatModelSpec, parseModelSpec } from "../models/registry.js";
import type { LiveProfile, LiveStream } from "./liveProfile.js";
import { PH_DEFAULTS, type PhSettings, type PhState, type PhStep } from "./phProfile.js";

/** Calls a task buffers before they are learned. */
const CHUNK = 2048;
/** Calls each chunk repeats from the one before (the longest window of any detector: stide's k <= 32). */
const OVERLAP = 32;
const BLOB_MAGIC = 0x48_44_50_31; // "HDP1"
/** System-call numbers whose use is remembered for `profiles export` (x86_64 numbers are below 512). */
const SEEN = 1024;

/** Detector kinds a live profile can hold. */
export const LIVE_DETECTORS: readonly string[] = ["stide", "tstide", "lookahead", "ngram"];

export class DetectorStream implements LiveStream {
  readonly recent = new Int32Array(8).fill(-1);
  lfc = 0;
  maxLfc = 0;
  trainState: DetectorState;
  testState: DetectorState | null;
  /** Calls not learned yet; `buffer[0..OVERLAP)` may repeat the end of the last chunk learned. */
  buffer = new Uint16Array(CHUNK);
  length = 0;
  /** The training generation the buffer belongs to (a sensitize or reset discards older buffers). */
  generation: number;
  private readonly frameBits: Uint8Array;
  private frameAt = 0;

  constructor(
    public profile: DetectorProfile,
    frame: number,
  ) {
    this.frameBits = new Uint8Array(frame);
    this.trainState = profile.trainModel.newState();
    this.testState = profile.testModel?.newState() ?? null;
    this.generation = profile.generation;
  }

  clone(): DetectorStream {
    // A child continues its parent's sequence in the model's state only by replaying it; its frame is copied.
    const c = new DetectorStream(this.profile, this.frameBits.length);
    c.recent.set(this.recent);
    c.frameBits.set(this.frameBits);
    c.frameAt = this.frameAt;
    c.lfc = this.lfc;
    c.maxLfc = this.maxLfc;
    return c;
  }

  frame(anomalous: boolean): number {
    this.lfc += (anomalous ? 1 : 0) - this.frameBits[this.frameAt]!;
    this.frameBits[this.frameAt] = anomalous ? 1 : 0;
    this.frameAt = this.frameAt + 1 === this.frameBits.length ? 0 : this.frameAt + 1;
    if (this.lfc > this.maxLfc) this.maxLfc = this.lfc;
    return this.lfc;
  }

  push(syscall: number): void {
    for (let i = this.recent.length - 1; i > 0; i--) this.recent[i] = this.recent[i - 1]!;
    this.recent[0] = syscall;
  }
}

export class DetectorProfile implements LiveProfile {
  readonly settings: PhSettings;
  trainModel: Detector;
  testModel: Detector | null = null;
  trainCount = 0;
  lastModCount = 0;
  anomalies = 0;
  normalTime = Number.NaN;
  /** Bumped when the training model is thrown away, so that buffers of the old one are not learned. */
  generation = 0;
  private frozen = false;
  private trainSeen: Uint8Array = new Uint8Array(SEEN);
  private testSeen: Uint8Array | null = null;

  constructor(
    readonly kind: string,
    options: Partial<Record<string, number | string | boolean>> = {},
    settings: Partial<PhSettings> = {},
  ) {
    if (!LIVE_DETECTORS.includes(kind)) {
      throw new HomeostatError(
        "E_USAGE",
        `watch cannot train a "${kind}" model live (${LIVE_DETECTORS.join(", ")} learn as they go; the HMM refits in batch)`,
      );
    }
    this.settings = { ...PH_DEFAULTS, ...settings };
    this.trainModel = detectorFactory(kind).create(options);
  }

  /** A profile for a model spec such as "stide:k=6" (E_USAGE for a bad spec or a kind that cannot learn live). */
  static fromSpec(spec: string, settings: Partial<PhSettings> = {}): DetectorProfile {
    const { kind, options } = parseModelSpec(spec);
    return new DetectorProfile(kind, options, settings);
  }

  get model(): string {
    return formatModelSpec(this.kind, this.trainModel.options);
  }

  get state(): PhState {
    return this.testModel !== null ? "normal" : this.frozen ? "frozen" : "training";
  }

  newStream(): DetectorStream {
    return new DetectorStream(this, this.settings.frame);
  }

  step(stream: DetectorStream, syscall: number, now: number): PhStep {
    const s = this.settings;
    let transition: PhStep["transition"] = null;
    if (this.frozen && now >= this.normalTime) {
      this.normalize();
      transition = "normal";
    }
    if (stream.profile !== this || stream.generation !== this.generation) this.rebase(stream);
    let missing = 0;
    if (this.testModel !== null) {
      if (stream.testState === null) stream.testState = this.testModel.newState();
      const signal = this.testModel.step(stream.testState, syscall);
      if (signal >= this.testModel.signal.anomalousAt) missing = 1;
    }
    const anomaly = missing > 0;
    const lfc = stream.frame(anomaly);
    if (anomaly) {
      this.anomalies++;
      if (this.anomalies > s.anomalyLimit) {
        this.testModel = null;
        this.testSeen = null;
        transition = "retrain";
      }
    }
    this.trainCount++;
    const novel =
      this.trainModel.trainedCalls === 0 ||
      this.trainModel.step(stream.trainState, syscall) >= this.trainModel.signal.anomalousAt;
    if (novel) {
      this.frozen = false;
      this.normalTime = Number.NaN;
      this.lastModCount = 0;
    } else {
      this.lastModCount++;
      const normalCount = this.trainCount - this.lastModCount;
      if (!this.frozen && this.testModel === null && normalCount > 0 && this.trainCount * s.normalFactorDen > normalCount * s.normalFactor) {
        this.frozen = true;
        this.normalTime = now + s.normalWait;
        transition = "froze";
      }
    }
    if (syscall >= 0 && syscall < SEEN) this.trainSeen[syscall] = 1;
    stream.buffer[stream.length++] = syscall;
    if (stream.length === CHUNK) this.learn(stream);
    if (lfc > s.tolerizeLimit) {
      this.resetTraining();
      transition = "tolerized";
    }
    stream.push(syscall);
    return { missing, lfc, state: this.state, anomaly, transition };
  }

  endStream(stream: DetectorStream): void {
    if (stream.profile === this && stream.generation === this.generation && stream.length > OVERLAP) this.learn(stream);
    stream.length = 0;
  }

  /** Learns a stream's buffer and keeps its last OVERLAP calls to start the next chunk. */
  private learn(stream: DetectorStream): void {
    this.trainModel.train([stream.buffer.slice(0, stream.length)]);
    stream.buffer.copyWithin(0, stream.length - OVERLAP, stream.length);
    stream.length = OVERLAP;
  }

  /** The stream outlived a reset of the training model: its buffer is forgotten and it starts anew. */
  private rebase(stream: DetectorStream): void {
    if (stream.profile !== this) {
      // The profile was replaced (an administrator's change was loaded): the stream's states were the old one's.
      stream.profile = this;
      stream.testState = null;
    }
    stream.generation = this.generation;
    stream.length = 0;
    stream.trainState = this.trainModel.newState();
  }

  private resetTraining(): void {
    this.trainModel = detectorFactory(this.kind).create(this.trainModel.options);
    this.trainSeen = new Uint8Array(SEEN);
    this.generation++;
    this.trainCount = 0;
    this.lastModCount = 0;
    this.frozen = false;
    this.normalTime = Number.NaN;
  }

  normalize(): void {
    this.testModel = copyOf(this.trainModel);
    this.testSeen = this.trainSeen.slice();
    this.frozen = false;
    this.anomalies = 0;
    this.lastModCount = 0;
    this.normalTime = Number.NaN;
  }

  tolerize(): void {
    this.testModel = null;
    this.testSeen = null;
    this.frozen = false;
    this.normalTime = Number.NaN;
  }

  sensitize(): void {
    this.resetTraining();
  }

  reset(): void {
    this.resetTraining();
    this.testModel = null;
    this.testSeen = null;
    this.anomalies = 0;
  }

  /** Calls learned by the training model. */
  pairCount(): number {
    return this.trainModel.trainedCalls;
  }

  normalPairCount(): number {
    return this.testModel?.trainedCalls ?? 0;
  }

  syscallsSeen(): number[] {
    const seen = this.testSeen ?? this.trainSeen;
    const out: number[] = [];
    for (let i = 0; i < seen.length; i++) if (seen[i] === 1) out.push(i);
    return out;
  }

  memoryBytes(): number {
    return this.trainModel.memoryBytes() + (this.testModel?.memoryBytes() ?? 0) + this.trainSeen.length * 2;
  }

  serialize(): Uint8Array {
    const header = Buffer.from(
      JSON.stringify({
        kind: this.kind,
        options: this.trainModel.options,
        settings: this.settings,
        trainCount: this.trainCount,
        lastModCount: this.lastModCount,
        anomalies: this.anomalies,
        normalTime: Number.isNaN(this.normalTime) ? null : this.normalTime,
        frozen: this.frozen,
        normal: this.testModel !== null,
        trainSeen: this.seenList(this.trainSeen),
        testSeen: this.testSeen === null ? null : this.seenList(this.testSeen),
      }),
    );
    const parts: Buffer[] = [];
    const head = Buffer.alloc(8);
    head.writeUInt32LE(BLOB_MAGIC, 0);
    head.writeUInt32LE(header.length, 4);
    parts.push(head, header);
    for (const m of [this.trainModel, this.testModel]) {
      const bytes = m === null ? null : m.serialize();
      const len = Buffer.alloc(4);
      len.writeUInt32LE(bytes === null ? 0xffffffff : bytes.length, 0);
      parts.push(len);
      if (bytes !== null) parts.push(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length));
    }
    return deflateRawSync(Buffer.concat(parts));
  }

  private seenList(seen: Uint8Array): number[] {
    const out: number[] = [];
    for (let i = 0; i < seen.length; i++) if (seen[i] === 1) out.push(i);
    return out;
  }

  /** Restores `serialize()` output; E_PARSE (or the detector's own error) on anything malformed. */
  static deserialize(bytes: Uint8Array, what = "profile"): DetectorProfile {
    const bad = (why: string): HomeostatError => new HomeostatError("E_PARSE", `${what}: ${why}`);
    let raw: Buffer;
    try {
      raw = inflateRawSync(bytes);
    } catch {
      throw bad("not a deflated detector profile");
    }
    if (raw.length < 8 || raw.readUInt32LE(0) !== BLOB_MAGIC) throw bad("bad magic");
    const hlen = raw.readUInt32LE(4);
    if (8 + hlen > raw.length) throw bad("truncated header");
    let h: {
      kind: string;
      options: Record<string, number | string | boolean>;
      settings: PhSettings;
      trainCount: number;
      lastModCount: number;
      anomalies: number;
      normalTime: number | null;
      frozen: boolean;
      normal: boolean;
      trainSeen: number[];
      testSeen: number[] | null;
    };
    try {
      h = JSON.parse(raw.subarray(8, 8 + hlen).toString("utf8")) as typeof h;
    } catch {
      throw bad("header is not JSON");
    }
    const p = new DetectorProfile(h.kind, h.options, h.settings);
    let at = 8 + hlen;
    const model = (): Detector | null => {
      if (at + 4 > raw.length) throw bad("truncated model");
      const len = raw.readUInt32LE(at);
      at += 4;
      if (len === 0xffffffff) return null;
      if (at + len > raw.length) throw bad("truncated model");
      const d = detectorFactory(h.kind).deserialize(p.trainModel.options, raw.subarray(at, at + len));
      at += len;
      return d;
    };
    const train = model();
    if (train === null) throw bad("no training model");
    p.trainModel = train;
    p.testModel = model();
    const seen = (list: number[]): Uint8Array => {
      const s = new Uint8Array(SEEN);
      for (const n of list) if (n >= 0 && n < SEEN) s[n] = 1;
      return s;
    };
    p.trainSeen = seen(h.trainSeen);
    p.testSeen = h.testSeen === null ? null : seen(h.testSeen);
    p.trainCount = h.trainCount;
    p.lastModCount = h.lastModCount;
    p.anomalies = h.anomalies;
    p.normalTime = h.normalTime ?? Number.NaN;
    p.frozen = h.frozen;
    return p;
  }
}

function copyOf(d: Detector): Detector {
  return detectorFactory(d.kind).deserialize(d.options, d.serialize());
}
