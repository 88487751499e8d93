// pH's profile lifecycle, once, for every model a live profile may keep (Somayaji & Forrest 2000, "Automated
// response using system-call delays"; Somayaji's dissertation; the same rules as ebpH, Findlay & Somayaji).
// A profile keeps two models: training never stops, and a normal profile tests against the copy of the training
// model taken when it became normal. Per call:
// - training: train_count++; a call new to the training model unfreezes the profile and sets last_mod_count = 0;
//   otherwise last_mod_count++, and the profile FREEZES when normal_count = train_count - last_mod_count > 0 and
//   train_count * normal_factor_den > normal_count * normal_factor (defaults 32 and 128); a frozen profile becomes
//   NORMAL once normal_wait has passed without anything new (something new unfreezes it);
// - normal: each call the normal model does not know is an anomaly and enters the task's locality frame; past
//   anomaly_limit (30) anomalies the profile stops being normal; a task whose locality frame count exceeds
//   tolerize_limit (12) empties the training model, so that its behaviour is not learned as normal.
// Admin operations as pH-admin and ebpH name them: normalize (start normal monitoring now), tolerize (stop normal
// monitoring, keep training: accept what the program now does), sensitize (forget the training data, so recent
// behaviour is not learned), reset (forget everything).
// Subclasses supply the model: pH's lookahead pairs (phProfile.ts) or a detector of src/models
// (detectorProfile.ts). Pure logic: the caller supplies time (so tests can set normal_wait small).

import { HomeostatError } from "../errors.js";
import type { LiveProfile, LiveStream } from "./liveProfile.js";
import {
  type LifecycleSettings,
  type LifecycleState,
  type LifecycleStep,
  type ProfileState,
  validateSettings,
} from "./lifecycleSettings.js";

export abstract class LifecycleProfile<S extends LiveStream> implements LiveProfile {
  readonly settings: LifecycleSettings;
  trainCount = 0;
  lastModCount = 0;
  anomalies = 0;
  /** When a frozen profile may become normal (seconds, the caller's clock); NaN when not frozen. */
  normalTime = Number.NaN;
  protected frozen = false;

  constructor(settings: Partial<LifecycleSettings>) {
    this.settings = validateSettings(settings);
  }

  abstract readonly model: string;
  abstract readonly kind: string;
  abstract readonly modelUnit: string;
  abstract newStream(): S;
  abstract endStream(stream: S): void;
  abstract modelSize(): number;
  abstract normalModelSize(): number;
  abstract syscallsSeen(): number[];
  abstract memoryBytes(): number;
  abstract serialize(): Uint8Array;

  /** Whether a normal model exists. */
  protected abstract hasNormal(): boolean;
  /** How new the call is to the normal model (0: known). Called only when there is one. */
  protected abstract testCall(stream: S, syscall: number): number;
  /** Learns the call into the training model; true when it was new to it. */
  protected abstract trainCall(stream: S, syscall: number): boolean;
  /** The normal model becomes a copy of the training model. */
  protected abstract snapshotNormal(): void;
  protected abstract dropNormal(): void;
  /** The training model forgets everything. */
  protected abstract clearTraining(): void;
  /** Before a call: a stream may need to follow a model that was replaced. */
  protected prepare(_stream: S): void {}

  get state(): ProfileState {
    return this.hasNormal() ? "normal" : this.frozen ? "frozen" : "training";
  }

  step(stream: S, syscall: number, now: number): LifecycleStep {
    const s = this.settings;
    let transition: LifecycleStep["transition"] = null;
    if (this.frozen && now >= this.normalTime) {
      this.normalize();
      transition = "normal";
    }
    this.prepare(stream);
    // Detection: only a normal profile has anomalies (pH tests against the copy made when it became normal).
    const missing = this.hasNormal() ? this.testCall(stream, syscall) : 0;
    const anomaly = missing > 0;
    const lfc = stream.frame(anomaly);
    if (anomaly) {
      this.anomalies++;
      if (this.anomalies > s.anomalyLimit) {
        this.dropNormal(); // too many anomalies: the profile was not normal after all; keep training
        transition = "retrain";
      }
    }
    // Tolerize limit: a task this anomalous must not be learned as normal: the training model is emptied, and
    // stays empty while the task stays over the limit (learning its calls only to forget them would cost the
    // monitor the most exactly when a process misbehaves).
    if (lfc > s.tolerizeLimit) {
      if (this.trainCount > 0) this.resetTraining();
      stream.push(syscall);
      return { missing, lfc, state: this.state, anomaly, transition: "tolerized" };
    }
    // Training continues on every call, into the training model.
    this.trainCount++;
    if (this.trainCall(stream, syscall)) {
      this.frozen = false;
      this.normalTime = Number.NaN;
      this.lastModCount = 0;
    } else {
      this.lastModCount++;
      if (!this.frozen && !this.hasNormal() && this.passesFreezeTest()) {
        this.frozen = true;
        this.normalTime = now + s.normalWait;
        transition = "froze";
      }
    }
    stream.push(syscall);
    return { missing, lfc, state: this.state, anomaly, transition };
  }

  /** pH's freeze test: normal_count = train_count - last_mod_count > 0 and train_count * den > normal_count * factor. */
  private passesFreezeTest(): boolean {
    const normalCount = this.trainCount - this.lastModCount;
    return (
      normalCount > 0 && this.trainCount * this.settings.normalFactorDen > normalCount * this.settings.normalFactor
    );
  }

  /**
   * Fleet pooling: takes in another host's profile of the same model, as if this one had also trained on that
   * host's calls. Training models are merged (the model of both streams); normal models too when both profiles are
   * normal, else the result has none: a pool is normal only when every profile in it is, since each host's own
   * lifecycle decided that it waited normal_wait without learning anything new, and whoever merges sees neither the
   * calls nor when they were new. Counts add up: a host's calls since its last change taught its own model nothing,
   * so they teach the union nothing either; into a result that is not normal, all of a normal profile's calls count
   * so (its lifecycle froze it and then waited normal_wait without a change). Such a result is frozen when the summed
   * counts pass the freeze test (normal at the later of the two profiles' normal times), else training. E_MODEL when
   * the models differ.
   */
  merge(other: LiveProfile, now: number): void {
    if (!(other instanceof LifecycleProfile) || other.model !== this.model) {
      throw new HomeostatError("E_MODEL", `cannot merge a ${other.model} profile into a ${this.model} profile`);
    }
    const both = this.hasNormal() && other.hasNormal();
    const ready = Math.max(this.readyTime(now), other.readyTime(now));
    const unchanging = both ? this.lastModCount + other.lastModCount : this.unchanging() + other.unchanging();
    this.mergeModels(other, both);
    this.trainCount += other.trainCount;
    this.lastModCount = unchanging;
    this.anomalies = both ? this.anomalies + other.anomalies : 0;
    this.frozen = !both && this.passesFreezeTest();
    this.normalTime = this.frozen ? ready : Number.NaN;
  }

  /** Calls that changed nothing, for a merge into a profile that is not normal (all of a normal one's). */
  private unchanging(): number {
    return this.hasNormal() ? this.trainCount : this.lastModCount;
  }

  /** When the profile is normal or may be: the past when normal, its normal time when frozen, else normal_wait on. */
  private readyTime(now: number): number {
    if (this.hasNormal()) return -Infinity;
    return this.frozen ? this.normalTime : now + this.settings.normalWait;
  }

  /** Merges `other`'s training model into this one's, and its normal model when `normals` (else drops this one's). */
  protected abstract mergeModels(other: LiveProfile, normals: boolean): void;

  protected resetTraining(): void {
    this.clearTraining();
    this.trainCount = 0;
    this.lastModCount = 0;
    this.frozen = false;
    this.normalTime = Number.NaN;
  }

  /** pH's "normalize": the training model becomes the normal one now. */
  normalize(): void {
    this.snapshotNormal();
    this.frozen = false;
    this.anomalies = 0;
    this.lastModCount = 0;
    this.normalTime = Number.NaN;
  }

  /** pH's "tolerize": stop normal monitoring and keep training, so that what the program does now is accepted. */
  tolerize(): void {
    this.dropNormal();
    this.frozen = false;
    this.normalTime = Number.NaN;
  }

  /** pH's "sensitize": forget the training data, so that recent (possibly hostile) behaviour is not learned. */
  sensitize(): void {
    this.resetTraining();
  }

  /** Forgets everything (pH's reset). */
  reset(): void {
    this.resetTraining();
    this.dropNormal();
    this.anomalies = 0;
  }

  protected lifecycleState(): LifecycleState {
    return {
      trainCount: this.trainCount,
      lastModCount: this.lastModCount,
      anomalies: this.anomalies,
      normalTime: Number.isNaN(this.normalTime) ? null : this.normalTime,
      frozen: this.frozen,
    };
  }

  protected restoreLifecycle(h: LifecycleState): void {
    this.trainCount = h.trainCount;
    this.lastModCount = h.lastModCount;
    this.anomalies = h.anomalies;
    this.normalTime = h.normalTime ?? Number.NaN;
    this.frozen = h.frozen;
  }
}
