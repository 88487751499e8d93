// The settings, states and per-call outcome of pH's profile lifecycle (Somayaji & Forrest 2000), apart from the
// profiles that follow it, so that the interface (liveProfile.ts) and the rules (lifecycleProfile.ts) share them
// without importing each other. `lookahead` is the one setting of pH's own model (lookahead pairs).

import { HomeostatError } from "../errors.js";

export interface LifecycleSettings {
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

export const LIFECYCLE_DEFAULTS: Readonly<LifecycleSettings> = Object.freeze({
  lookahead: 9,
  normalFactor: 128,
  normalFactorDen: 32,
  normalWait: 7 * 24 * 3600,
  anomalyLimit: 30,
  tolerizeLimit: 12,
  frame: 128,
});

export type ProfileState = "training" | "frozen" | "normal";

/** What one call did to the profile. */
export interface LifecycleStep {
  /** How new the call was to the normal model (unseen pairs for pH; 1 for a detector's anomalous call). */
  missing: number;
  /** The task's locality frame count after the call. */
  lfc: number;
  /** The profile's state after the call. */
  state: ProfileState;
  /** The call counted as an anomaly of a normal profile. */
  anomaly: boolean;
  /** The call changed the profile's state or reset it ("froze", "normal", "retrain", "tolerized"), else null. */
  transition: "froze" | "normal" | "retrain" | "tolerized" | null;
}

/** The lifecycle's counters, as stored in a profile's header. */
export interface LifecycleState {
  trainCount: number;
  lastModCount: number;
  anomalies: number;
  normalTime: number | null;
  frozen: boolean;
}

export function validateSettings(settings: Partial<LifecycleSettings>): LifecycleSettings {
  const s = { ...LIFECYCLE_DEFAULTS, ...settings };
  if (!(Number.isInteger(s.lookahead) && s.lookahead >= 2 && s.lookahead <= 9)) {
    throw new HomeostatError("E_USAGE", `pH lookahead must be an integer in 2..9, got ${s.lookahead}`);
  }
  for (const k of ["normalFactor", "normalFactorDen", "anomalyLimit", "tolerizeLimit", "frame"] as const) {
    if (!(Number.isInteger(s[k]) && s[k] >= 1)) {
      throw new HomeostatError("E_USAGE", `pH ${k} must be a positive integer, got ${s[k]}`);
    }
  }
  if (!(s.normalWait >= 0)) throw new HomeostatError("E_USAGE", `pH normalWait must be >= 0, got ${s.normalWait}`);
  return s;
}
