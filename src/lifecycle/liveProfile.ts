// What the host monitor needs of a per-executable profile that trains itself (pH's lifecycle: training -> frozen
// -> normal, anomaly_limit, tolerize_limit; Somayaji & Forrest 2000), whatever model of normal it keeps: pH's own
// lookahead pairs (phProfile.ts, the default) or any detector of src/models that learns incrementally
// (detectorProfile.ts). One interface, so that the engine (hostMonitor.ts), the store and `homeostat profiles`
// treat them alike.

import type { LifecycleSettings, LifecycleStep, ProfileState } from "./lifecycleSettings.js";

/** One task's place in its program's profile: its recent calls and its locality frame. */
export interface LiveStream {
  /** The last calls, most recent first (-1 = none yet), for the windows alerts show. */
  readonly recent: Int32Array;
  lfc: number;
  maxLfc: number;
  /** A copy for a forked child (pH keeps the sequence and locality frame in the task, which fork copies). */
  clone(): LiveStream;
  /** Enters the next call into the locality frame; returns the count. */
  frame(anomalous: boolean): number;
  /** Records the call as the most recent one. */
  push(syscall: number): void;
}

export interface LiveProfile {
  /** The model spec stored with the profile, e.g. "ph:L=9" or "stide:k=6". */
  readonly model: string;
  /** The model's kind: "ph" (pH's lookahead pairs) or a detector's ("stide", "ngram", ...). */
  readonly kind: string;
  /** What modelSize counts, for people: "lookahead pairs" (pH), "calls learned" (a detector). */
  readonly modelUnit: string;
  /** pH's settings; the lifecycle ones may be changed by the caller between calls. */
  readonly settings: LifecycleSettings;
  readonly state: ProfileState;
  trainCount: number;
  lastModCount: number;
  anomalies: number;
  normalTime: number;
  newStream(): LiveStream;
  /** One call of a stream at time `now` (seconds): test against the normal model, then train. */
  step(stream: LiveStream, syscall: number, now: number): LifecycleStep;
  /** The task ended: learn what it did that is still buffered (models that train in chunks). */
  endStream(stream: LiveStream): void;
  normalize(): void;
  tolerize(): void;
  sensitize(): void;
  reset(): void;
  /** What the training model holds, in modelUnit, for reports. */
  modelSize(): number;
  /** The same of the normal model (0 when not normal). */
  normalModelSize(): number;
  /** System-call numbers the profile has seen (the normal model's when normal). */
  syscallsSeen(): number[];
  memoryBytes(): number;
  serialize(): Uint8Array;
  /** Fleet pooling: takes in another host's profile of the same model (lifecycleProfile.ts); E_MODEL otherwise. */
  merge(other: LiveProfile, now: number): void;
}

/** The kind of a model spec: "ph" for "ph:L=9" (or "ph"), "stide" for "stide:k=6". */
export function modelKind(spec: string): string {
  const colon = spec.indexOf(":");
  return colon < 0 ? spec : spec.slice(0, colon);
}
