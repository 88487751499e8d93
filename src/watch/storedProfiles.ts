// Live profiles as the state store keeps them: a record (identity, lifecycle figures, the model's blob) written from
// a profile, and a profile restored from its blob by the model spec stored beside it.

import type { ExeIdentity } from "../capture/hostEvents.js";
import { DetectorProfile } from "../lifecycle/detectorProfile.js";
import { type LiveProfile, modelKind } from "../lifecycle/liveProfile.js";
import { type LifecycleSettings, PhProfile } from "../lifecycle/phProfile.js";
import type { ProfileRecord } from "../store/stateStore.js";

/** A stored profile's model from its blob, by the model spec stored beside it ("ph:..." or a detector's). */
export function restoreProfile(model: string, blob: Uint8Array, what: string): LiveProfile {
  return modelKind(model) === "ph" ? PhProfile.deserialize(blob, what) : DetectorProfile.deserialize(blob, what);
}

/** A new profile of `model` ("ph" or a detector spec such as "stide:k=6"), or pH's when undefined. */
export function profileFactory(model: string | undefined): ((settings: LifecycleSettings) => LiveProfile) | undefined {
  if (model === undefined || modelKind(model) === "ph") return undefined;
  DetectorProfile.fromSpec(model); // validates the spec now, with the user's words, rather than at the first process
  return (settings) => DetectorProfile.fromSpec(model, settings);
}

/** The store's record of a profile. */
export function profileRecord(key: string, exe: ExeIdentity, p: LiveProfile): ProfileRecord {
  return {
    key,
    exe: exe.path,
    dev: exe.dev,
    ino: exe.ino,
    model: p.model,
    state: p.state,
    trainCount: p.trainCount,
    lastModCount: p.lastModCount,
    anomalies: p.anomalies,
    normalTime: Number.isNaN(p.normalTime) ? null : p.normalTime,
    blob: p.serialize(),
  };
}
