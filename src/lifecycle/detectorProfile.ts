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

import { HomeostatError } from "../errors.js";
import type { Detector, DetectorState } from "../models/detector.js";
import { detectorFactory, formatModelSpec, parseModelSpec } from "../models/registry.js";
import { LifecycleProfile } from "./lifecycleProfile.js";
import type { LifecycleSettings, LifecycleState } from "./lifecycleSettings.js";
import { PhStream } from "./phProfile.js";
import type { LiveProfile } from "./liveProfile.js";
import { decodeBlob, encodeBlob } from "./profileBlob.js";

/** Calls a task buffers before they are learned. */
const CHUNK = 2048;
/** Calls each chunk repeats from the one before (the longest window of any detector: stide's k <= 32). */
const OVERLAP = 32;
const BLOB_MAGIC = 0x48_44_50_31; // "HDP1"
/** System-call numbers whose use is remembered for `profiles export` (x86_64 numbers are below 512). */
const SEEN = 1024;

/** Detector kinds a live profile can hold. */
export const LIVE_DETECTORS: readonly string[] = ["stide", "tstide", "lookahead", "ngram"];

/** A task's place in a detector profile: pH's sequence and frame, plus the detectors' states and its buffer. */
export class DetectorStream extends PhStream {
  trainState: DetectorState;
  testState: DetectorState | null;
  /** Calls not learned yet; `buffer[0..OVERLAP)` may repeat the end of the last chunk learned. */
  buffer = new Uint16Array(CHUNK);
  length = 0;
  /** The training generation the buffer belongs to (a sensitize or reset discards older buffers). */
  generation: number;

  constructor(
    public profile: DetectorProfile,
    frame: number,
  ) {
    super(9, frame);
    this.trainState = profile.trainModel.newState();
    this.testState = profile.testModel?.newState() ?? null;
    this.generation = profile.generation;
  }

  /** A child keeps its parent's frame and recent calls; the models' states start anew (they cannot be copied). */
  override clone(): DetectorStream {
    return new DetectorStream(this.profile, this.frameBits.length).copyFrom(this);
  }
}

export class DetectorProfile extends LifecycleProfile<DetectorStream> {
  trainModel: Detector;
  testModel: Detector | null = null;
  /** Bumped when the training model is thrown away, so that buffers of the old one are not learned. */
  generation = 0;
  private trainSeen: Uint8Array = new Uint8Array(SEEN);
  private testSeen: Uint8Array | null = null;

  constructor(
    readonly kind: string,
    options: Partial<Record<string, number | string | boolean>> = {},
    settings: Partial<LifecycleSettings> = {},
  ) {
    super(settings);
    if (!LIVE_DETECTORS.includes(kind)) {
      throw new HomeostatError(
        "E_USAGE",
        `watch cannot train a "${kind}" model live (${LIVE_DETECTORS.join(", ")} learn as they go; the HMM refits in batch)`,
      );
    }
    this.trainModel = detectorFactory(kind).create(options);
  }

  /** A profile for a model spec such as "stide:k=6" (E_USAGE for a bad spec or a kind that cannot learn live). */
  static fromSpec(spec: string, settings: Partial<LifecycleSettings> = {}): DetectorProfile {
    const { kind, options } = parseModelSpec(spec);
    return new DetectorProfile(kind, options, settings);
  }

  get model(): string {
    return formatModelSpec(this.kind, this.trainModel.options);
  }

  newStream(): DetectorStream {
    return new DetectorStream(this, this.settings.frame);
  }

  protected override prepare(stream: DetectorStream): void {
    if (stream.profile !== this || stream.generation !== this.generation) this.rebase(stream);
  }

  protected hasNormal(): boolean {
    return this.testModel !== null;
  }

  protected testCall(stream: DetectorStream, syscall: number): number {
    const model = this.testModel!;
    stream.testState ??= model.newState();
    return model.step(stream.testState, syscall) >= model.signal.anomalousAt ? 1 : 0;
  }

  protected trainCall(stream: DetectorStream, syscall: number): boolean {
    const novel =
      this.trainModel.trainedCalls === 0 ||
      this.trainModel.step(stream.trainState, syscall) >= this.trainModel.signal.anomalousAt;
    if (syscall >= 0 && syscall < SEEN) this.trainSeen[syscall] = 1;
    stream.buffer[stream.length++] = syscall;
    if (stream.length === CHUNK) this.learn(stream);
    return novel;
  }

  protected snapshotNormal(): void {
    this.testModel = copyOf(this.trainModel);
    this.testSeen = this.trainSeen.slice();
  }

  protected dropNormal(): void {
    this.testModel = null;
    this.testSeen = null;
  }

  protected clearTraining(): void {
    this.trainModel = detectorFactory(this.kind).create(this.trainModel.options);
    this.trainSeen = new Uint8Array(SEEN);
    this.generation++;
  }

  protected mergeModels(other: LiveProfile, normals: boolean): void {
    if (!(other instanceof DetectorProfile))
      throw new HomeostatError("E_MODEL", `cannot merge a ${other.model} profile`);
    this.trainModel.merge(other.trainModel);
    orSeen(this.trainSeen, other.trainSeen);
    if (normals) {
      this.testModel!.merge(other.testModel!);
      orSeen(this.testSeen!, other.testSeen!);
    } else this.dropNormal();
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

  /** The stream outlived a reset or a replacement of the model: its buffer is forgotten and it starts anew. */
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

  /** Calls learned by the training model. */
  readonly modelUnit = "calls learned";

  modelSize(): number {
    return this.trainModel.trainedCalls;
  }

  normalModelSize(): number {
    return this.testModel?.trainedCalls ?? 0;
  }

  syscallsSeen(): number[] {
    return seenList(this.testSeen ?? this.trainSeen);
  }

  memoryBytes(): number {
    return this.trainModel.memoryBytes() + (this.testModel?.memoryBytes() ?? 0) + 2 * SEEN;
  }

  serialize(): Uint8Array {
    return encodeBlob(
      BLOB_MAGIC,
      {
        kind: this.kind,
        options: this.trainModel.options,
        settings: this.settings,
        ...this.lifecycleState(),
        normal: this.testModel !== null,
        trainSeen: seenList(this.trainSeen),
        testSeen: this.testSeen === null ? null : seenList(this.testSeen),
      },
      [this.trainModel.serialize(), this.testModel?.serialize() ?? null],
    );
  }

  /** Restores `serialize()` output; E_PARSE (or the detector's own error) on anything malformed. */
  static deserialize(bytes: Uint8Array, what = "profile"): DetectorProfile {
    const { header, sections } = decodeBlob(bytes, BLOB_MAGIC, 2, what);
    const h = header as LifecycleState & {
      kind: string;
      options: Record<string, number | string | boolean>;
      settings: LifecycleSettings;
      normal: boolean;
      trainSeen: number[];
      testSeen: number[] | null;
    };
    const p = new DetectorProfile(h.kind, h.options, h.settings);
    const factory = detectorFactory(h.kind);
    if (sections[0] === null || sections[0] === undefined)
      throw new HomeostatError("E_PARSE", `${what}: no training model`);
    p.trainModel = factory.deserialize(p.trainModel.options, sections[0]);
    p.testModel =
      sections[1] === null || sections[1] === undefined ? null : factory.deserialize(p.trainModel.options, sections[1]);
    if (p.testModel === null && h.normal)
      throw new HomeostatError("E_PARSE", `${what}: normal profile without its normal model`);
    p.trainSeen = seenSet(h.trainSeen);
    p.testSeen = h.testSeen === null ? null : seenSet(h.testSeen);
    p.restoreLifecycle(h);
    return p;
  }
}

function seenList(seen: Uint8Array): number[] {
  const out: number[] = [];
  for (let i = 0; i < seen.length; i++) if (seen[i] === 1) out.push(i);
  return out;
}

function orSeen(into: Uint8Array, from: Uint8Array): void {
  for (let i = 0; i < into.length; i++) into[i]! |= from[i]!;
}

function seenSet(list: readonly number[]): Uint8Array {
  const s = new Uint8Array(SEEN);
  for (const n of list) if (Number.isInteger(n) && n >= 0 && n < SEEN) s[n] = 1;
  return s;
}

function copyOf(d: Detector): Detector {
  return detectorFactory(d.kind).deserialize(d.options, d.serialize());
}
